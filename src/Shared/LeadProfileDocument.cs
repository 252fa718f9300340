using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Storage;

/// <summary>The stored JSON of a <see cref="LeadProfile"/> (column <c>leads.profile</c> in SQLite and PostgreSQL), shape version 1.</summary>
/// <remarks>
/// <para>
/// Written with <see cref="FunnelJson.Options"/>: camelCase, instants as ISO strings, enums as snake_case strings, null
/// members and an empty attribution left out. The version lives in the <c>leads.version</c> column, not here.
/// </para>
/// <para>
/// Its own type, not <see cref="LeadProfile"/> itself: the tags and custom fields must come back with the ordinal
/// comparer the profile uses (System.Text.Json would build sorted collections with the default comparer), and the
/// stored names must not move when the record's members do. Readers ignore unknown fields and default missing ones,
/// so a document a later version wrote with more fields still reads; <c>v</c> says which shape a document has, for
/// the day a change is not only additive.
/// </para>
/// </remarks>
internal sealed record LeadProfileDocument
{
    /// <summary>The shape this version writes.</summary>
    public const int CurrentVersion = 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int V { get; init; } = CurrentVersion;

    public required LeadId Id { get; init; }

    public required EmailAddress Email { get; init; }

    public required Instant CreatedAt { get; init; }

    public LifecycleStage Stage { get; init; } = LifecycleStage.Lead;

    public double Score { get; init; }

    public string? TimeZoneId { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    public IReadOnlyDictionary<string, string>? CustomFields { get; init; }

    public ConsentRecord? Consent { get; init; }

    public IReadOnlyList<ConsentChange>? ConsentHistory { get; init; }

    public Instant? ErasedAt { get; init; }

    public PendingConfirmation? PendingConfirmation { get; init; }

    public Instant? UnsubscribedAt { get; init; }

    public IReadOnlyList<string>? UnsubscribedTopics { get; init; }

    public Instant? BouncedAt { get; init; }

    public Instant? ComplainedAt { get; init; }

    public int? SoftBounces { get; init; }

    public Attribution? FirstTouch { get; init; }

    public Attribution? LastTouch { get; init; }

    public IReadOnlyList<string>? Magnets { get; init; }

    /// <summary>Writes a profile's document (its version is stored apart).</summary>
    public static string Write(LeadProfile profile) => JsonSerializer.Serialize(
        new LeadProfileDocument
        {
            Id = profile.Id,
            Email = profile.Email,
            CreatedAt = profile.CreatedAt,
            Stage = profile.Stage,
            Score = profile.Score,
            TimeZoneId = profile.TimeZoneId,
            Tags = profile.Tags.IsEmpty ? null : [.. profile.Tags],
            CustomFields = profile.CustomFields.IsEmpty ? null : profile.CustomFields,
            Consent = profile.Consent,
            ConsentHistory = profile.ConsentHistory.IsDefaultOrEmpty ? null : profile.ConsentHistory,
            ErasedAt = profile.ErasedAt,
            PendingConfirmation = profile.PendingConfirmation,
            UnsubscribedAt = profile.UnsubscribedAt,
            UnsubscribedTopics = profile.UnsubscribedTopics.IsEmpty ? null : [.. profile.UnsubscribedTopics],
            BouncedAt = profile.BouncedAt,
            ComplainedAt = profile.ComplainedAt,
            SoftBounces = profile.SoftBounces == 0 ? null : profile.SoftBounces,
            FirstTouch = NullIfNone(profile.FirstTouch),
            LastTouch = NullIfNone(profile.LastTouch),
            Magnets = profile.Magnets.IsDefaultOrEmpty ? null : profile.Magnets,
        },
        FunnelJson.Options);

    /// <summary>Reads a stored document as the profile with <paramref name="version"/>.</summary>
    /// <exception cref="JsonException">The text is not a lead profile document.</exception>
    public static LeadProfile Read(string json, long version)
    {
        LeadProfileDocument document = JsonSerializer.Deserialize<LeadProfileDocument>(json, FunnelJson.Options)
            ?? throw new JsonException("A stored lead profile is JSON null.");
        return new LeadProfile
        {
            Id = document.Id,
            Email = document.Email,
            CreatedAt = document.CreatedAt,
            Stage = document.Stage,
            Score = document.Score,
            TimeZoneId = document.TimeZoneId,
            Tags = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, document.Tags ?? []),
            CustomFields = document.CustomFields is null
                ? ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal)
                : ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, document.CustomFields),
            Consent = document.Consent,
            ConsentHistory = document.ConsentHistory is null ? [] : [.. document.ConsentHistory],
            ErasedAt = document.ErasedAt,
            PendingConfirmation = document.PendingConfirmation,
            UnsubscribedAt = document.UnsubscribedAt,
            UnsubscribedTopics = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, document.UnsubscribedTopics ?? []),
            BouncedAt = document.BouncedAt,
            ComplainedAt = document.ComplainedAt,
            SoftBounces = document.SoftBounces ?? 0,
            FirstTouch = document.FirstTouch ?? Attribution.None,
            LastTouch = document.LastTouch ?? Attribution.None,
            Magnets = document.Magnets is null ? [] : [.. document.Magnets],
            Version = version,
        };
    }

    private static Attribution? NullIfNone(Attribution attribution) =>
        attribution == Attribution.None ? null : attribution;
}
