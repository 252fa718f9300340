using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/getting-started.md (the worker-service variant is in Worker.cs).</summary>
internal static class GettingStartedSnippets
{
    public static void Register(WebApplicationBuilder builder)
    {
        // <snippet:getting-started-register>
        builder.Services.AddFunnel(options =>
        {
            options.DefaultCurrency = "USD";          // ISO 4217; reports are computed in this currency
            options.TimeZoneId = "America/New_York";  // IANA id; used where a lead has no time zone of its own
        });
        // </snippet:getting-started-register>

        // <snippet:getting-started-packages>
        builder.Services.AddFunnelSequences();  // Funnel.Sequences
        builder.Services.AddFunnelCommerce();   // Funnel.Commerce
        builder.Services.AddFunnelAdvocacy();   // Funnel.Advocacy (also calls AddFunnelCommerce)
        // </snippet:getting-started-packages>

        // <snippet:getting-started-storage>
        builder.Services.AddFunnelSqlite("Data Source=App_Data/funnel.db");  // Funnel.Storage.Sqlite
        // </snippet:getting-started-storage>
    }

    public static FunnelDefinition Define()
    {
        // <snippet:getting-started-define>
        FunnelDefinition funnel = FunnelBuilder.Create("ebook-launch", "E-Book launch")
            .WithDefaultStages()   // Awareness, Interest, Decision, Action, Retention & Advocacy
            .AddStep("visit", "Visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
            .AddStep("opt-in", "Leads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
            .AddStep("sales", "Sales page", DefaultStages.Decision.Key, StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited))
            .AddStep("buy", "Customers", DefaultStages.Action.Key, StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced))
            .Build();
        // </snippet:getting-started-define>
        return funnel;
    }

    public static void Record(IClock clock, List<FunnelEvent> events)
    {
        // <snippet:getting-started-record>
        Instant now = clock.GetCurrentInstant();   // IClock from DI; never DateTime.Now
        var lead = LeadId.New();
        events.Add(new PageViewed { LeadId = lead, OccurredAt = now, Page = "/blog/first-ebook",
                                    Attribution = Attribution.FromUtm("facebook", "cpc", "launch") });
        events.Add(new OptedIn { LeadId = lead, OccurredAt = now + Duration.FromMinutes(3), Magnet = "guide" });
        // </snippet:getting-started-record>
    }

    public static void Report(IServiceProvider services, FunnelDefinition funnel, List<FunnelEvent> events)
    {
        // <snippet:getting-started-report>
        FunnelReport report = services.GetRequiredService<IFunnelReporter>().CreateReport(funnel, events);

        foreach (StepResult step in report.Overall.Steps)
            Console.WriteLine($"{step.Step.Name}: {step.Reached:N0} ({step.FromPrevious:P1})");
        Console.WriteLine($"CAC {report.Overall.CustomerAcquisitionCost:C0}, ROAS {report.Overall.ReturnOnAdSpend:X3}");
        // </snippet:getting-started-report>
    }
}
