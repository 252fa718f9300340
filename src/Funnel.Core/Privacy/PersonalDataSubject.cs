using System.Collections.Immutable;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Privacy;

/// <summary>Whose data an <see cref="IPersonalDataStore"/> exports or erases: the lead, its email address and its personal values.</summary>
/// <remarks>
/// <see cref="LeadPrivacyService"/> builds it from the lead's profile before anything is erased, so every store
/// redacts the same values. A store finds the subject's records by <see cref="LeadId"/> (in any form it stores ids)
/// and by <see cref="Email"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PersonalDataSubject
{
    /// <summary>The text that replaces a redacted value: <c>[erased]</c>.</summary>
    public const string Redacted = "[erased]";

    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets the lead's email address as it was before erasure.</summary>
    /// <value><see langword="null"/> when unknown: no profile, or one erased already.</value>
    public EmailAddress? Email { get; init; }

    /// <summary>Gets the address that replaces <see cref="Email"/>: <c>erased-&lt;hash&gt;@erased.invalid</c>.</summary>
    public required EmailAddress Tombstone { get; init; }

    /// <summary>Gets the other personal values to redact: custom field values, IP addresses, user agents, referrers and confirmation links.</summary>
    /// <value>Defaults to none. Never contains <see cref="Redacted"/> or blank values.</value>
    public ImmutableArray<string> PersonalValues { get; init; } = [];

    /// <summary>Gets when the erasure or export happens.</summary>
    public required Instant At { get; init; }
}
