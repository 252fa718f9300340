using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Leads;

/// <summary>What is known about a lead who gave an email address: contact, consent, suppression, tags, fields, stage and score.</summary>
/// <remarks>
/// <para>
/// Profiles are immutable snapshots kept in an <see cref="ILeadStore"/>, one per normalised <see cref="Email"/>.
/// Email sequences read <see cref="CanReceiveMarketingEmail"/> before sending, <see cref="TimeZoneId"/> to send at
/// local times, and <see cref="Tags"/> and <see cref="CustomFields"/> to personalise.
/// </para>
/// <para>Tags are compared ordinally and kept sorted; custom field names are ordinal and case-sensitive.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadProfile
{
    /// <summary>Gets the lead's id (kept from the anonymous visitor id when one was given at opt-in).</summary>
    public required LeadId Id { get; init; }

    /// <summary>Gets the normalised email address, the lead's unique key in the store.</summary>
    public required EmailAddress Email { get; init; }

    /// <summary>Gets when the lead first opted in.</summary>
    public required Instant CreatedAt { get; init; }

    /// <summary>Gets the lifecycle stage.</summary>
    /// <value>Defaults to <see cref="LifecycleStage.Lead"/>.</value>
    public LifecycleStage Stage { get; init; } = LifecycleStage.Lead;

    /// <summary>Gets the lead score as of the last scoring (see <see cref="LeadScorer"/>).</summary>
    /// <value>Defaults to 0.</value>
    public double Score { get; init; }

    /// <summary>Gets the IANA time zone id of the lead, such as <c>Europe/Berlin</c>, for sending at local times.</summary>
    /// <value><see langword="null"/> when unknown; senders then use <see cref="FunnelOptions.TimeZoneId"/>.</value>
    public string? TimeZoneId { get; init; }

    /// <summary>Gets the tags, such as <c>vip</c> or <c>interested-in-coaching</c>.</summary>
    /// <value>Defaults to no tags.</value>
    public ImmutableSortedSet<string> Tags { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Gets custom fields, such as <c>first_name</c> or <c>country</c>, for segments and personalisation.</summary>
    /// <value>Defaults to no fields.</value>
    public ImmutableSortedDictionary<string, string> CustomFields { get; init; } = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    /// <summary>Gets the marketing consent.</summary>
    /// <value><see langword="null"/> when none was recorded.</value>
    public ConsentRecord? Consent { get; init; }

    /// <summary>Gets every change of consent, oldest first: each grant, confirmation and withdrawal with its wording, source, IP address and user agent.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<ConsentChange> ConsentHistory { get; init; } = [];

    /// <summary>Gets when the lead's personal data was erased (see <see cref="Privacy.LeadPrivacyService.EraseAsync"/>).</summary>
    /// <value><see langword="null"/> unless erased; an erased profile keeps its id, stage and aggregates, its <see cref="Email"/> is a tombstone.</value>
    public Instant? ErasedAt { get; init; }

    /// <summary>Gets the pending double opt-in, if any.</summary>
    /// <value><see langword="null"/> when no confirmation is outstanding.</value>
    public PendingConfirmation? PendingConfirmation { get; init; }

    /// <summary>Gets when the lead unsubscribed.</summary>
    /// <value><see langword="null"/> when they did not.</value>
    public Instant? UnsubscribedAt { get; init; }

    /// <summary>Gets the email topics the lead left (see <see cref="Email.EmailTopic"/>); their email is suppressed, the other marketing email is not.</summary>
    /// <value>Defaults to empty (ordinal).</value>
    public ImmutableSortedSet<string> UnsubscribedTopics { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Gets when an email to the lead bounced permanently.</summary>
    /// <value><see langword="null"/> when none did.</value>
    public Instant? BouncedAt { get; init; }

    /// <summary>Gets when the lead marked an email as spam.</summary>
    /// <value><see langword="null"/> when they did not.</value>
    public Instant? ComplainedAt { get; init; }

    /// <summary>Gets how many soft bounces in a row the lead's emails had since the last delivery.</summary>
    /// <remarks>See <see cref="ApplyFeedback"/>: at the threshold the lead counts as bounced.</remarks>
    /// <value>Defaults to 0.</value>
    public int SoftBounces { get; init; }

    /// <summary>Gets the attribution of the lead's first opt-in.</summary>
    /// <value>Defaults to <see cref="Attribution.None"/>.</value>
    public Attribution FirstTouch { get; init; } = Attribution.None;

    /// <summary>Gets the attribution of the lead's latest opt-in.</summary>
    /// <value>Defaults to <see cref="Attribution.None"/>.</value>
    public Attribution LastTouch { get; init; } = Attribution.None;

    /// <summary>Gets the keys of the lead magnets the lead opted in to, in order, without repeats.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<string> Magnets { get; init; } = [];

    /// <summary>Gets the stored version, for compare-and-set (<see cref="ILeadStore.TryUpdateAsync"/>).</summary>
    /// <value>0 when new; the store sets it to one more on every replacement.</value>
    public long Version { get; init; }

    /// <summary>Gets the consent status, <see cref="ConsentStatus.None"/> when no consent was recorded.</summary>
    public ConsentStatus ConsentStatus => Consent?.Status ?? ConsentStatus.None;

    /// <summary>Gets whether marketing email may be sent: consent granted and no unsubscribe, hard bounce or complaint.</summary>
    public bool CanReceiveMarketingEmail =>
        ConsentStatus == ConsentStatus.Granted && UnsubscribedAt is null && BouncedAt is null && ComplainedAt is null;

    /// <summary>Returns the lead's time zone, for sending at local times.</summary>
    /// <param name="timeZones">The time zone provider, such as <see cref="DateTimeZoneProviders.Tzdb"/>.</param>
    /// <param name="fallback">The zone to use when the lead has none or an unknown one, such as the business zone from <see cref="FunnelOptions.TimeZoneId"/>.</param>
    /// <returns>The lead's zone, or <paramref name="fallback"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public DateTimeZone ResolveTimeZone(IDateTimeZoneProvider timeZones, DateTimeZone fallback)
    {
        ArgumentNullException.ThrowIfNull(timeZones);
        ArgumentNullException.ThrowIfNull(fallback);
        return TimeZoneId is null ? fallback : timeZones.GetZoneOrNull(TimeZoneId) ?? fallback;
    }

    /// <summary>Returns the profile updated with the suppression facts an email event carries.</summary>
    /// <remarks>
    /// An unsubscribe sets <see cref="UnsubscribedAt"/> and withdraws consent, or, when it names an
    /// <see cref="EmailUnsubscribed.Topic"/>, adds the topic to <see cref="UnsubscribedTopics"/> only; a hard bounce sets
    /// <see cref="BouncedAt"/>; a complaint sets <see cref="ComplainedAt"/> and withdraws consent. The first
    /// instant is kept. Other events return the same instance.
    /// </remarks>
    /// <param name="emailEvent">An email event of this lead.</param>
    /// <returns>The updated profile, or this instance when nothing changes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="emailEvent"/> is <see langword="null"/>.</exception>
    public LeadProfile ApplySuppression(EmailEvent emailEvent)
    {
        ArgumentNullException.ThrowIfNull(emailEvent);
        Instant at = emailEvent.OccurredAt;
        return emailEvent switch
        {
            EmailUnsubscribed { Topic: { } topic } => UnsubscribedTopics.Contains(topic) ? this : this with { UnsubscribedTopics = UnsubscribedTopics.Add(topic) },
            EmailUnsubscribed => Withdraw(this with { UnsubscribedAt = UnsubscribedAt ?? at }, "unsubscribe", at),
            EmailBounced { Kind: BounceKind.Hard } => this with { BouncedAt = BouncedAt ?? at },
            EmailComplained => Withdraw(this with { ComplainedAt = ComplainedAt ?? at }, "complaint", at),
            _ => this,
        };
    }

    /// <summary>Returns the profile updated with the feedback an email event carries, counting soft bounces.</summary>
    /// <remarks>
    /// Like <see cref="ApplySuppression"/>, and: a soft bounce adds one to <see cref="SoftBounces"/> and, when that
    /// reaches <paramref name="softBounceThreshold"/>, sets <see cref="BouncedAt"/>; a delivery
    /// (<see cref="EmailDelivered"/>) resets <see cref="SoftBounces"/> to 0.
    /// </remarks>
    /// <param name="emailEvent">An email event of this lead.</param>
    /// <param name="softBounceThreshold">The soft bounces in a row that suppress the lead.</param>
    /// <returns>The updated profile, or this instance when nothing changes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="emailEvent"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="softBounceThreshold"/> is not positive.</exception>
    public LeadProfile ApplyFeedback(EmailEvent emailEvent, int softBounceThreshold)
    {
        ArgumentNullException.ThrowIfNull(emailEvent);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(softBounceThreshold);
        switch (emailEvent)
        {
            case EmailBounced { Kind: BounceKind.Soft }:
                int count = SoftBounces + 1;
                return this with
                {
                    SoftBounces = count,
                    BouncedAt = count >= softBounceThreshold ? BouncedAt ?? emailEvent.OccurredAt : BouncedAt,
                };
            case EmailDelivered:
                return SoftBounces == 0 ? this : this with { SoftBounces = 0 };
            default:
                return ApplySuppression(emailEvent);
        }
    }

    private static LeadProfile Withdraw(LeadProfile profile, string source, Instant at)
    {
        if (profile.Consent is not { } consent)
        {
            return profile;
        }

        ConsentRecord withdrawn = consent with { Status = ConsentStatus.Withdrawn };
        return consent.Status == ConsentStatus.Withdrawn
            ? profile with { Consent = withdrawn }
            : profile with
            {
                Consent = withdrawn,
                ConsentHistory = profile.WithConsentChange(new ConsentChange
                {
                    Purpose = consent.Purpose,
                    Status = ConsentStatus.Withdrawn,
                    Method = consent.Method,
                    Source = source,
                    At = at,
                }).ConsentHistory,
            };
    }

    /// <summary>Returns the profile back in an email topic it had left (<see cref="EmailTopicResubscribed"/>).</summary>
    /// <param name="topic">The topic key.</param>
    /// <returns>The updated profile, or this instance when the lead had not left the topic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is <see langword="null"/>.</exception>
    public LeadProfile Resubscribe(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return UnsubscribedTopics.Contains(topic) ? this with { UnsubscribedTopics = UnsubscribedTopics.Remove(topic) } : this;
    }

    /// <summary>Returns the profile with <paramref name="change"/> appended to its <see cref="ConsentHistory"/>.</summary>
    /// <param name="change">The change.</param>
    /// <returns>The updated profile.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="change"/> is <see langword="null"/>.</exception>
    public LeadProfile WithConsentChange(ConsentChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this with { ConsentHistory = (ConsentHistory.IsDefault ? [] : ConsentHistory).Add(change) };
    }
}
