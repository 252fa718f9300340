using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;

namespace Funnel.Privacy;

/// <summary>The redaction rules every <see cref="IPersonalDataStore"/> applies, so erasure means the same in each store.</summary>
/// <remarks>
/// <para>
/// A profile keeps its id, creation time, stage, score, tags, time zone, magnets, attribution channel and campaign,
/// suppression instants and the consent history without IP addresses and user agents: what reports and proof of
/// consent need. Its email address becomes the tombstone, custom field values become
/// <see cref="PersonalDataSubject.Redacted"/>, referrers and the pending confirmation are dropped, consent is
/// withdrawn and <see cref="LeadProfile.ErasedAt"/> is set, so no email goes to the lead again.
/// </para>
/// <para>
/// An event keeps its type, id, time, lead id, channel and campaign, so counts and KPIs stay correct; its referrer,
/// IP address, user agent, confirmation link and property values that are personal values are removed.
/// </para>
/// </remarks>
/// <threadsafety>All members are pure and thread-safe.</threadsafety>
public static class PersonalDataRedaction
{
    /// <summary>Returns the erased form of a profile.</summary>
    /// <param name="profile">The profile as stored.</param>
    /// <param name="subject">The subject being erased; gives the tombstone and the time.</param>
    /// <returns>The erased profile, with the same version; <paramref name="profile"/> itself when it was erased before.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static LeadProfile RedactProfile(LeadProfile profile, PersonalDataSubject subject)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(subject);
        if (profile.ErasedAt is not null)
        {
            return profile;
        }

        ConsentRecord? consent = profile.Consent is null
            ? null
            : profile.Consent with { IpAddress = null, UserAgent = null, Status = ConsentStatus.Withdrawn };
        ImmutableArray<ConsentChange> history = profile.ConsentHistory.IsDefault ? [] : profile.ConsentHistory;
        history = [.. history.Select(static c => c with { IpAddress = null, UserAgent = null })];
        if (profile.Consent is { Status: not ConsentStatus.Withdrawn } before)
        {
            history = history.Add(new ConsentChange
            {
                Purpose = before.Purpose,
                Status = ConsentStatus.Withdrawn,
                Method = before.Method,
                Source = "erasure",
                At = subject.At,
            });
        }

        return profile with
        {
            Email = subject.Tombstone,
            CustomFields = profile.CustomFields.ToImmutableSortedDictionary(
                static f => f.Key, static _ => PersonalDataSubject.Redacted, StringComparer.Ordinal),
            Consent = consent,
            ConsentHistory = history,
            PendingConfirmation = null,
            UnsubscribedAt = profile.UnsubscribedAt ?? subject.At,
            FirstTouch = WithoutReferrer(profile.FirstTouch),
            LastTouch = WithoutReferrer(profile.LastTouch),
            ErasedAt = subject.At,
        };
    }

    /// <summary>Returns the personal values of a profile that stores must redact wherever they appear.</summary>
    /// <param name="profile">The profile before erasure.</param>
    /// <returns>Its email address, custom field values, IP addresses, user agents and referrers, distinct, without blanks.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="profile"/> is <see langword="null"/>.</exception>
    public static ImmutableArray<string> PersonalValuesOf(LeadProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        IEnumerable<ConsentChange> history = profile.ConsentHistory.IsDefault ? [] : profile.ConsentHistory;
        IEnumerable<string?> values = profile.CustomFields.Values
            .Concat(history.SelectMany(static c => new[] { c.IpAddress, c.UserAgent }))
            .Append(profile.Consent?.IpAddress)
            .Append(profile.Consent?.UserAgent)
            .Append(profile.FirstTouch.Referrer)
            .Append(profile.LastTouch.Referrer);
        if (profile.ErasedAt is null)
        {
            values = values.Prepend(profile.Email.Value);
        }

        return [.. values
            .Where(static v => !string.IsNullOrWhiteSpace(v) && v != PersonalDataSubject.Redacted)
            .Select(static v => v!)
            .Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Returns the erased form of an event of the subject.</summary>
    internal static FunnelEvent RedactEvent(FunnelEvent e, PersonalDataSubject subject)
    {
        FunnelEvent redacted = e switch
        {
            ConsentRecorded consent => consent with { IpAddress = null, UserAgent = null },
            OptInConfirmed confirmed => confirmed with { IpAddress = null, UserAgent = null },
            ConfirmationRequested requested => requested with { ConfirmationUrl = PersonalDataSubject.Redacted },
            _ => e,
        };
        if (redacted.Attribution.Referrer is not null)
        {
            redacted = redacted with { Attribution = WithoutReferrer(redacted.Attribution) };
        }

        if (redacted.Properties.Values.Any(v => IsPersonal(v, subject)))
        {
            redacted = redacted with
            {
                Properties = redacted.Properties.ToImmutableDictionary(
                    static p => p.Key, p => IsPersonal(p.Value, subject) ? PersonalDataSubject.Redacted : p.Value),
            };
        }

        return redacted;
    }

    private static bool IsPersonal(string value, PersonalDataSubject subject) =>
        subject.PersonalValues.Contains(value, StringComparer.Ordinal)
        || (subject.Email is { Value: { } email } && value.Contains(email, StringComparison.OrdinalIgnoreCase))
        || subject.PersonalValues.Any(v => v.Contains('@', StringComparison.Ordinal) && value.Contains(v, StringComparison.OrdinalIgnoreCase));

    private static Attribution WithoutReferrer(Attribution attribution) =>
        attribution.Referrer is null ? attribution : attribution with { Referrer = null };
}
