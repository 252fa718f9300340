using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Privacy;

/// <summary>Everything held about a lead, for a data subject access request (GDPR article 15) or a portability request (article 20).</summary>
/// <remarks>Serialise it with <see cref="ToJson"/>, or with System.Text.Json and <see cref="FunnelJson.Options"/>.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadDataExport
{
    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets when the export was made.</summary>
    public required Instant ExportedAt { get; init; }

    /// <summary>Gets the lead's email address.</summary>
    /// <value><see langword="null"/> when the lead is unknown; the tombstone when erased.</value>
    public EmailAddress? Email { get; init; }

    /// <summary>Gets every change of the lead's consent, oldest first.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<ConsentChange> ConsentHistory { get; init; } = [];

    /// <summary>Gets every record the stores hold about the lead, store by store.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<PersonalRecord> Records { get; init; } = [];

    /// <summary>Returns the export as indented JSON in Funnel's JSON conventions (<see cref="FunnelJson.Options"/>).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Indented);

    private static readonly JsonSerializerOptions Indented = new(FunnelJson.Options) { WriteIndented = true };
}
