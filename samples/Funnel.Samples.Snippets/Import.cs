using System.Collections.Immutable;
using Funnel.Leads;
using Funnel.Leads.Csv;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/import.md.</summary>
internal static class ImportSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:import-register>
        services.AddFunnel();
        services.AddFunnelLeadsCsv(options =>
        {
            options.BatchSize = 1_000;             // rows per write to the lead store
            options.MaxFieldLength = 1_000;        // a longer value rejects its row
            options.MaxReportedRejections = 10_000; // further rejections are only counted
        });
        // </snippet:import-register>
    }

    public static async Task ImportAsync(IServiceProvider services)
    {
        // <snippet:import-run>
        LeadCsvImporter importer = services.GetRequiredService<LeadCsvImporter>();
        await using FileStream file = File.OpenRead("members.csv");
        LeadImportResult result = await importer.ImportAsync(file, new LeadImportRequest
        {
            Source = "mailchimp-2026-12",
            ConsentBasis = "Subscribed through the newsletter form on example.com (double opt-in), 2023-2026.",
            Tags = ["imported-2026-12"],
        });

        Console.WriteLine($"{result.Created} new, {result.Updated} updated, {result.RejectedCount} rejected");
        foreach (RejectedRow row in result.Rejected)
        {
            Console.WriteLine($"line {row.Row}, {row.Field ?? "row"}: {row.Reason}");
        }
        // </snippet:import-run>
    }

    public static LeadImportRequest Mapped() =>
        // <snippet:import-mapping>
        new LeadImportRequest
        {
            Source = "crm-export",
            Mapping = new LeadCsvMapping
            {
                EmailColumn = "Adresse",
                ConsentColumn = "Newsletter",
                Fields = ImmutableDictionary<string, string>.Empty
                    .Add("Vorname", "first_name")
                    .Add("Kundennummer", "customer_number"),
            },
            WithoutConsent = RowsWithoutConsent.Reject,
        };
        // </snippet:import-mapping>

    public static async Task ExportAsync(IAsyncEnumerable<LeadProfile> leads)
    {
        // <snippet:import-export>
        LeadCsvExporter exporter = new(new LeadCsvExportOptions { Fields = ["first_name", "country"] });
        await using FileStream file = File.Create("leads.csv");
        long written = await exporter.ExportAsync(leads, file);
        // </snippet:import-export>
    }
}
