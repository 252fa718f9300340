using System.Globalization;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

return EbookMasterclassProgram.Run(args, Console.Out, Console.Error);

namespace Funnel.Samples.EbookMasterclass
{
    /// <summary>The command line: parses options, simulates the launch, and prints the library's report.</summary>
    public static class EbookMasterclassProgram
    {
        private const string Usage = """
            Simulates "The E-Book Masterclass" launch as funnel events and prints the report Funnel computes from them.

            Usage: dotnet run --project samples/Funnel.Samples.EbookMasterclass -- [options]

            Options:
              --visitors N          website visitors to simulate (default 50000)
              --seed N              random seed for times, channels and who converts (default 1)
              --spend AMOUNT        total ad spend in USD across Facebook, Instagram and Google (default 10000)
              --price AMOUNT        price of the Basic Masterclass in USD (default 497)
              --opt-in PERCENT      visitors who download the free guide (default 10)
              --sales-page PERCENT  leads who visit the sales page (default 20)
              --purchase PERCENT    sales-page visitors who buy (default 5)
              --days N              length of the launch in days (default 30)
              -h, --help            show this help
            """;

        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            ArgumentNullException.ThrowIfNull(args);
            ArgumentNullException.ThrowIfNull(output);
            ArgumentNullException.ThrowIfNull(error);
            ScenarioOptions options;
            try
            {
                ScenarioOptions? parsed = Parse(args);
                if (parsed is null)
                {
                    output.WriteLine(Usage);
                    return 0;
                }

                options = parsed;
            }
            catch (ArgumentException e)
            {
                error.WriteLine(e.Message);
                error.WriteLine("Run with --help for the options.");
                return 2;
            }

            var services = new ServiceCollection()
                .AddFunnel(o =>
                {
                    o.DefaultCurrency = "USD";
                    o.TimeZoneId = "America/New_York";
                });
            using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            _ = provider.GetRequiredService<IOptions<FunnelOptions>>().Value; // validates the options
            IFunnelReporter reporter = provider.GetRequiredService<IFunnelReporter>();

            var events = MasterclassScenario.GenerateEvents(options);
            FunnelReport report = reporter.CreateReport(MasterclassScenario.Funnel, events);
            ReportPrinter.Print(report, options, output);
            RetargetingPrinter.Print(events, output);
            IReadOnlyList<FunnelEvent> offerPath = OfferPathSimulation.RunAsync(events, options.Seed).GetAwaiter().GetResult();
            OfferPathSimulation.Print(OfferPathReport.Create(OfferPathCatalogue.Catalogue, offerPath), output);
            AnalyticsPrinter.Print(events, report, options, output);
            SequenceSimulation.Print(SequenceSimulation.RunAsync(events).GetAwaiter().GetResult(), output);
            WebinarPromotion.Print(WebinarPromotion.RunAsync(events, options).GetAwaiter().GetResult(), output);
            PaymentsDemo.Print(PaymentsDemo.RunAsync().GetAwaiter().GetResult(), output);
            VatDemo.Print(VatDemo.RunAsync().GetAwaiter().GetResult(), output);
            MembershipSimulation.Print(MembershipSimulation.RunAsync(events, options.Seed).GetAwaiter().GetResult(), output);
            CartRecoverySimulation.Print(CartRecoverySimulation.RunAsync(events, options).GetAwaiter().GetResult(), output);
            AffiliateSimulation.Print(AffiliateSimulation.RunAsync(events, options.Seed).GetAwaiter().GetResult(), output);
            return 0;
        }

        /// <summary>Parses the command line; returns <see langword="null"/> when help was asked for.</summary>
        public static ScenarioOptions? Parse(IReadOnlyList<string> args)
        {
            var options = new ScenarioOptions();
            for (int i = 0; i < args.Count; i++)
            {
                string name = args[i];
                if (name is "-h" or "--help" or "-?")
                {
                    return null;
                }

                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"Option '{name}' needs a value.");
                }

                string value = args[++i];
                options = name switch
                {
                    "--visitors" => options with { Visitors = Int(name, value, 1, 10_000_000) },
                    "--seed" => options with { Seed = Int(name, value, int.MinValue, int.MaxValue) },
                    "--spend" => options with { AdSpend = Usd(name, value) },
                    "--price" => options with { Price = Usd(name, value) },
                    "--opt-in" => options with { OptInPercent = Percent(name, value) },
                    "--sales-page" => options with { SalesPagePercent = Percent(name, value) },
                    "--purchase" => options with { PurchasePercent = Percent(name, value) },
                    "--days" => options with { Days = Int(name, value, 1, 3650) },
                    _ => throw new ArgumentException($"Unknown option '{name}'."),
                };
            }

            return options;
        }

        private static int Int(string name, string value, int min, int max) =>
            int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
                ? n
                : throw new ArgumentException($"Option '{name}' needs a whole number from {min} to {max}, not '{value}'.");

        private static decimal Percent(string name, string value) =>
            decimal.TryParse(value.TrimEnd('%'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal p) && p <= 100m
                ? p
                : throw new ArgumentException($"Option '{name}' needs a percentage from 0 to 100, not '{value}'.");

        private static Money Usd(string name, string value)
        {
            if (!decimal.TryParse(value.TrimStart('$'), NumberStyles.AllowDecimalPoint | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out decimal amount))
            {
                throw new ArgumentException($"Option '{name}' needs an amount in USD such as 10000 or 497.50, not '{value}'.");
            }

            try
            {
                return Money.FromMajor(amount, Currency.USD);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Option '{name}': {e.Message}", e);
            }
        }
    }
}
