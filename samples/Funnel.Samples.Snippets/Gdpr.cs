using System.Collections.Immutable;
using Funnel.Leads;
using Funnel.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/gdpr.md.</summary>
internal static class GdprSnippets
{
    public static void Register(IServiceCollection services, IConfiguration configuration)
    {
        // <snippet:gdpr-register>
        services.AddFunnel();
        services.AddFunnelPrivacy(options =>
            options.SuppressionKey = configuration["Funnel:Privacy:SuppressionKey"]); // a secret of 32+ characters
        // </snippet:gdpr-register>
    }

    public static async Task ExportAsync(IServiceProvider services, LeadId leadId)
    {
        // <snippet:gdpr-export>
        LeadPrivacyService privacy = services.GetRequiredService<LeadPrivacyService>();
        LeadDataExport export = await privacy.ExportAsync(leadId);

        foreach (ConsentChange change in export.ConsentHistory)
        {
            Console.WriteLine($"{change.At}: {change.Status} via {change.Source} from {change.IpAddress}");
        }

        await File.WriteAllTextAsync($"lead-{leadId}.json", export.ToJson()); // hand this to the person
        // </snippet:gdpr-export>
    }

    public static async Task EraseAsync(IServiceProvider services, LeadId leadId)
    {
        // <snippet:gdpr-erase>
        LeadPrivacyService privacy = services.GetRequiredService<LeadPrivacyService>();
        LeadErasure erasure = await privacy.EraseAsync(leadId);

        foreach (ErasureOutcome outcome in erasure.Outcomes)
        {
            Console.WriteLine($"{outcome.Store}: {outcome.Status}, {outcome.RecordsChanged} records");
        }
        // </snippet:gdpr-erase>
    }

    public static async Task SuppressedAsync(LeadPrivacyService privacy, string email)
    {
        // <snippet:gdpr-suppressed>
        if (await privacy.IsSuppressedAsync(email))
        {
            // The address belonged to an erased lead and has not opted in again: do not add it from a list,
            // a CRM sync or a purchase import. Only the person's own new opt-in brings it back.
            return;
        }
        // </snippet:gdpr-suppressed>
    }

    public static void MapAdminEndpoints(WebApplication app)
    {
        // <snippet:gdpr-endpoints>
        // Funnel maps no export or erase endpoint: who may ask is your application's decision.
        RouteGroupBuilder admin = app.MapGroup("/admin/leads").RequireAuthorization("privacy-officer");
        admin.MapGet("/{id:guid}/export", async (Guid id, LeadPrivacyService privacy) =>
            Results.Text((await privacy.ExportAsync(new LeadId(id))).ToJson(), "application/json"));
        admin.MapPost("/{id:guid}/erase", async (Guid id, LeadPrivacyService privacy) =>
            Results.Ok((await privacy.EraseAsync(new LeadId(id))).Outcomes));
        // </snippet:gdpr-endpoints>
    }
}

// <snippet:gdpr-own-store>
/// <summary>Your own table of support notes, taking part in export and erasure.</summary>
internal sealed class SupportNotesStore : IPersonalDataStore
{
    private readonly Dictionary<LeadId, List<string>> _notes = [];

    public string Name => "support-notes";

    public Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<PersonalRecord> records = [.. _notes.GetValueOrDefault(subject.LeadId, []).Select((note, i) =>
            new PersonalRecord(Name, "note", $"{subject.LeadId}/{i}", ImmutableSortedDictionary<string, string?>.Empty.Add("text", note)))];
        return Task.FromResult(records);
    }

    public Task<ErasureOutcome> EraseAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        if (!_notes.TryGetValue(subject.LeadId, out List<string>? notes) || notes.All(n => n == PersonalDataSubject.Redacted))
        {
            return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.NothingFound, 0));
        }

        int changed = notes.Count(n => n != PersonalDataSubject.Redacted);
        _notes[subject.LeadId] = [.. notes.Select(_ => PersonalDataSubject.Redacted)]; // free text: redact it whole
        return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.Erased, changed));
    }
}

// Registered next to the stores Funnel brings; LeadPrivacyService walks them all:
// services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataStore, SupportNotesStore>());
// </snippet:gdpr-own-store>
