using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Leads;

/// <summary>Where a lead stands on consent to a purpose such as marketing email.</summary>
public enum ConsentStatus
{
    /// <summary>No consent was ever recorded.</summary>
    None = 0,

    /// <summary>A double opt-in was requested and is not confirmed yet: do not send marketing email.</summary>
    Pending = 1,

    /// <summary>Consent was given (single opt-in) or confirmed (double opt-in).</summary>
    Granted = 2,

    /// <summary>Consent was withdrawn, for example by unsubscribing.</summary>
    Withdrawn = 3,
}

/// <summary>How consent was collected.</summary>
public enum ConsentMethod
{
    /// <summary>Granted by submitting the form.</summary>
    SingleOptIn = 0,

    /// <summary>Granted when the lead clicks the link in a confirmation email.</summary>
    DoubleOptIn = 1,

    /// <summary>Collected elsewhere and brought in by an import, whose source and stated basis the record keeps.</summary>
    Imported = 2,
}

/// <summary>The consent a lead gave: for what, when, how and where.</summary>
/// <remarks>Kept on the <see cref="LeadProfile"/> as proof of consent; every change is also an event (<see cref="ConsentRecorded"/>, <see cref="OptInConfirmed"/>).</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConsentRecord
{
    /// <summary>Gets the purpose, such as <c>marketing-email</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Gets the current status.</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>Gets how the consent was collected.</summary>
    public required ConsentMethod Method { get; init; }

    /// <summary>Gets where it was collected, such as the lead magnet key or form name.</summary>
    public required string Source { get; init; }

    /// <summary>Gets when the lead submitted the form.</summary>
    public required Instant RecordedAt { get; init; }

    /// <summary>Gets when a double opt-in was confirmed.</summary>
    /// <value><see langword="null"/> until confirmed, and for single opt-in.</value>
    public Instant? ConfirmedAt { get; init; }

    /// <summary>Gets the consent wording the lead agreed to, when known.</summary>
    public string? Text { get; init; }

    /// <summary>Gets the IP address the consent was given from, when known.</summary>
    /// <value><see langword="null"/> when unknown, and after erasure.</value>
    public string? IpAddress { get; init; }

    /// <summary>Gets the user agent of the browser the consent was given from, when known.</summary>
    /// <value><see langword="null"/> when unknown, and after erasure.</value>
    public string? UserAgent { get; init; }
}

/// <summary>A pending double opt-in: the hash of the confirmation token and when it expires.</summary>
/// <remarks>
/// Only the SHA-256 hash of the token is stored, so a leaked store cannot confirm anyone. The tokens are single use:
/// confirming with any of them removes them all. A later opt-in of the same address does not spoil the link emailed
/// before: the earlier tokens stay valid, in <see cref="Earlier"/>, until they expire or one is used (see
/// <see cref="ConfirmationPolicy"/>).
/// </remarks>
/// <param name="TokenHash">The lower-case hex SHA-256 of the latest token's secret part.</param>
/// <param name="ExpiresAt">When the latest token stops working.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PendingConfirmation(string TokenHash, Instant ExpiresAt)
{
    /// <summary>Gets the tokens issued before the latest that are still outstanding, newest first.</summary>
    /// <value>Defaults to empty. Their own <see cref="Earlier"/> is empty.</value>
    public ImmutableArray<PendingConfirmation> Earlier { get; init; } = [];
}
