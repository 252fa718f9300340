using NodaTime;

namespace Funnel.Leads;

/// <summary>One grant, confirmation or withdrawal of consent, as kept in <see cref="LeadProfile.ConsentHistory"/>.</summary>
/// <remarks>
/// The history is the proof of consent a regulator asks for: what the lead agreed to (the wording), when, where and
/// from which network address and browser. <see cref="LeadProfile.Consent"/> keeps only the latest state; the history
/// keeps every change, oldest first. Erasure (<see cref="Privacy.LeadPrivacyService.EraseAsync"/>) removes the IP
/// address and user agent and keeps the rest, so the record that consent existed and was withdrawn survives.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConsentChange
{
    /// <summary>Gets the purpose, such as <c>marketing-email</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Gets the status after the change.</summary>
    public required ConsentStatus Status { get; init; }

    /// <summary>Gets how the consent was collected.</summary>
    public required ConsentMethod Method { get; init; }

    /// <summary>Gets where the change came from, such as a lead magnet key, <c>confirmation</c>, <c>unsubscribe</c> or an import file.</summary>
    public required string Source { get; init; }

    /// <summary>Gets when the change happened.</summary>
    public required Instant At { get; init; }

    /// <summary>Gets the consent wording the lead agreed to, when known.</summary>
    /// <value><see langword="null"/> when no wording was given (and for withdrawals).</value>
    public string? Text { get; init; }

    /// <summary>Gets the IP address the change was made from, when known.</summary>
    /// <value><see langword="null"/> when unknown, and after erasure.</value>
    public string? IpAddress { get; init; }

    /// <summary>Gets the user agent of the browser the change was made from, when known.</summary>
    /// <value><see langword="null"/> when unknown, and after erasure.</value>
    public string? UserAgent { get; init; }

    /// <summary>Returns the change that records <paramref name="consent"/> as it stands.</summary>
    /// <param name="consent">The consent.</param>
    /// <param name="at">When it changed.</param>
    /// <returns>The change, with the consent's IP address and user agent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="consent"/> is <see langword="null"/>.</exception>
    public static ConsentChange Of(ConsentRecord consent, Instant at)
    {
        ArgumentNullException.ThrowIfNull(consent);
        return new ConsentChange
        {
            Purpose = consent.Purpose,
            Status = consent.Status,
            Method = consent.Method,
            Source = consent.Source,
            At = at,
            Text = consent.Text,
            IpAddress = consent.IpAddress,
            UserAgent = consent.UserAgent,
        };
    }
}
