using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The stored JSON of an enrolment's non-key data, the same in every database store; readers ignore unknown fields, so fields may be added.</summary>
/// <remarks>
/// <c>{"v":1, "enrolledAt", "anchor", "lastSentAt", "endedAt", "fields"}</c> in <see cref="FunnelJson.Options"/>: instants
/// to the nanosecond, absent values and empty fields left out. The id, lead, sequence, status and version are columns.
/// </remarks>
internal sealed record EnrolmentDocument
{
    /// <summary>Gets the shape version; 1 so far.</summary>
    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = 1;

    public Instant EnrolledAt { get; init; }

    public Instant? Anchor { get; init; }

    public Instant? LastSentAt { get; init; }

    public Instant? EndedAt { get; init; }

    public ImmutableDictionary<string, string>? Fields { get; init; }

    /// <summary>Returns the document of an enrolment as JSON.</summary>
    public static string Write(Enrolment enrolment) => JsonSerializer.Serialize(
        new EnrolmentDocument
        {
            EnrolledAt = enrolment.EnrolledAt,
            Anchor = enrolment.Anchor,
            LastSentAt = enrolment.LastSentAt,
            EndedAt = enrolment.EndedAt,
            Fields = enrolment.Fields.IsEmpty ? null : enrolment.Fields,
        },
        FunnelJson.Options);

    /// <summary>Returns the enrolment of a stored row: its key columns and its document.</summary>
    /// <exception cref="JsonException">The document is not an enrolment's JSON.</exception>
    public static Enrolment Read(EnrolmentId id, LeadId lead, string sequence, EnrolmentStatus status, long version, string json)
    {
        EnrolmentDocument document = JsonSerializer.Deserialize<EnrolmentDocument>(json, FunnelJson.Options)
            ?? throw new JsonException("An enrolment document is null.");
        return new Enrolment
        {
            Id = id,
            LeadId = lead,
            Sequence = sequence,
            Status = status,
            Version = version,
            EnrolledAt = document.EnrolledAt,
            Anchor = document.Anchor,
            LastSentAt = document.LastSentAt,
            EndedAt = document.EndedAt,
            Fields = document.Fields ?? ImmutableDictionary<string, string>.Empty,
        };
    }
}
