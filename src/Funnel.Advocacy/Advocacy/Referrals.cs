using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Leads;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>The settings of a customer referral program.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ReferralProgramSettings
{
    /// <summary>Gets the coupon a referred friend gets; add the same coupon to the catalogue so checkout accepts its code.</summary>
    public required Coupon FriendCoupon { get; init; }

    /// <summary>Gets the credit the referrer earns once the friend's first purchase is past the refund window; positive.</summary>
    public required Money ReferrerCredit { get; init; }

    /// <summary>Gets how long after the friend's purchase a refund cancels the referrer's reward.</summary>
    /// <value>Defaults to 30 days.</value>
    public Duration RefundWindow { get; init; } = Duration.FromDays(30);
}

/// <summary>Validates <see cref="ReferralProgramSettings"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class ReferralProgramSettingsValidator : AbstractValidator<ReferralProgramSettings>
{
    /// <summary>Initializes the validator.</summary>
    public ReferralProgramSettingsValidator()
    {
        RuleFor(s => s.FriendCoupon).NotNull();
        RuleFor(s => s.FriendCoupon.Code).NotEmpty().When(s => s.FriendCoupon is not null).OverridePropertyName("FriendCoupon.Code");
        RuleFor(s => s.ReferrerCredit).Must(m => m.IsPositive).WithMessage("'ReferrerCredit' must be positive.");
        RuleFor(s => s.RefundWindow).Must(d => d >= Duration.Zero).WithMessage("'RefundWindow' must not be negative.");
    }
}

/// <summary>Why a referral was refused.</summary>
public enum ReferralRejection
{
    /// <summary>No customer has the referral code.</summary>
    UnknownCode = 0,

    /// <summary>The friend is the referrer.</summary>
    SelfReferral = 1,

    /// <summary>The friend's normalised email address is the referrer's.</summary>
    SameEmail = 2,

    /// <summary>The friend was already referred (the first referral stands).</summary>
    AlreadyReferred = 3,

    /// <summary>The friend paid with the referrer's payment method (same fingerprint); no reward is earned.</summary>
    SamePaymentFingerprint = 4,
}

/// <summary>The outcome of a referral: the friend's coupon, or why it was refused, and the events to record.</summary>
/// <param name="Coupon">The coupon code for the friend's checkout, or <see langword="null"/> when refused.</param>
/// <param name="Rejection">Why it was refused, or <see langword="null"/> when accepted.</param>
/// <param name="Events">The events this call recorded (already in the log; do not append them again): <c>referral_made</c>, or <c>referral_rejected</c>.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ReferralOutcome(string? Coupon, ReferralRejection? Rejection, ImmutableArray<FunnelEvent> Events);

/// <summary>Runs a customer referral program: codes, the friend's coupon, the referrer's credit after the refund window, and fraud guards.</summary>
/// <remarks>
/// <para>Fraud guards: a referral is refused when the friend is the referrer, has the referrer's normalised email
/// address (<see cref="EmailAddress"/>), or was already referred. At purchase, a friend paying with the referrer's
/// payment fingerprint (an opaque string from the payment provider, such as a card fingerprint) earns no reward.</para>
/// <para>Only the friend's first order counts. Any refund on it within the refund window cancels the reward;
/// <see cref="ReleaseRewardsAsync"/> credits the referrer for purchases past the window.</para>
/// <para>Each call that changes state appends its events to the <see cref="IFunnelEventLog"/> itself, right after the
/// store change; results carry them only as a record of what was appended.</para>
/// <para>State lives in an <see cref="IReferrerStore"/> and an <see cref="IReferralStore"/>; the program keeps none of
/// its own. Each change is a read and a replace-if-version, retried when a concurrent change wins: a friend is
/// referred once (the referral is keyed by the friend) and earns one reward (the change to
/// <see cref="ReferralStatus.Rewarded"/> is won once; the referrer's credit then records the friend, so it is added
/// once). A process stopped between those two writes leaves the reward recorded but not credited.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe when the stores are.</threadsafety>
public sealed class ReferralProgram
{
    private const int ReleasePage = 100;

    private readonly ReferralProgramSettings _settings;
    private readonly IReferrerStore _referrers;
    private readonly IReferralStore _referrals;
    private readonly IClock _clock;
    private readonly IFunnelEventLog _log;

    /// <summary>Initializes the program.</summary>
    /// <param name="settings">The settings; validated.</param>
    /// <param name="referrers">The store of referrers.</param>
    /// <param name="referrals">The store of referred friends.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <param name="log">The event log the program records its events in.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The settings are invalid.</exception>
    public ReferralProgram(
        ReferralProgramSettings settings, IReferrerStore referrers, IReferralStore referrals, IClock clock, IFunnelEventLog log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(referrers);
        ArgumentNullException.ThrowIfNull(referrals);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        new ReferralProgramSettingsValidator().ValidateAndThrow(settings);
        _settings = settings;
        _referrers = referrers;
        _referrals = referrals;
        _clock = clock;
        _log = log;
    }

    /// <summary>Returns a customer's referral code, creating it on first use.</summary>
    /// <param name="customer">The customer.</param>
    /// <param name="email">The customer's email address, for the same-email guard.</param>
    /// <param name="paymentFingerprint">The customer's payment fingerprint, for the same-payment guard, when known.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The code, such as <c>r3f9a1c0b2d</c>; share it as <c>?ref=</c> on a link.</returns>
    /// <exception cref="ArgumentException"><paramref name="email"/> is <c>default</c>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the referrer kept winning.</exception>
    public Task<string> CodeForAsync(
        LeadId customer, EmailAddress email, string? paymentFingerprint = null, CancellationToken cancellationToken = default)
    {
        if (email.Value is null)
        {
            throw new ArgumentException("'email' must be set.", nameof(email));
        }

        return OptimisticConcurrency.RetryAsync<string>(
            async ct =>
            {
                Referrer? existing = await _referrers.FindAsync(customer, ct).ConfigureAwait(false);
                if (existing is not null)
                {
                    if (paymentFingerprint is null || existing.Fingerprints.Contains(paymentFingerprint, StringComparer.Ordinal))
                    {
                        return (true, existing.Code);
                    }

                    Referrer withPrint = existing with { Fingerprints = existing.Fingerprints.Add(paymentFingerprint) };
                    return (await _referrers.TryUpdateAsync(existing, withPrint, ct).ConfigureAwait(false), existing.Code);
                }

                var referrer = new Referrer
                {
                    Lead = customer,
                    Email = email,
                    Code = "r" + Guid.NewGuid().ToString("N")[..11],
                    Fingerprints = paymentFingerprint is null ? [] : [paymentFingerprint],
                    Credit = Money.Zero(_settings.ReferrerCredit.Currency),
                };
                return (await _referrers.TryAddAsync(referrer, ct).ConfigureAwait(false), referrer.Code);
            },
            $"the referrer {customer}",
            cancellationToken);
    }

    /// <summary>Records that a friend arrived through a referral code (at sign-up or checkout).</summary>
    /// <param name="code">The referral code.</param>
    /// <param name="friend">The friend's lead id.</param>
    /// <param name="friendEmail">The friend's email address.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The friend's coupon and <c>referral_made</c>, or the rejection and <c>referral_rejected</c> (none for an unknown code).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public async Task<ReferralOutcome> ReferAsync(
        string code, LeadId friend, EmailAddress friendEmail, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        Instant now = _clock.GetCurrentInstant();
        Referrer? referrer = await _referrers.FindByCodeAsync(code, cancellationToken).ConfigureAwait(false);
        if (referrer is null)
        {
            return new ReferralOutcome(null, ReferralRejection.UnknownCode, []);
        }

        ReferralRejection? rejection = referrer.Lead == friend ? ReferralRejection.SelfReferral
            : referrer.Email == friendEmail ? ReferralRejection.SameEmail
            : null;
        if (rejection is null)
        {
            var referral = new Referral { Friend = friend, Referrer = referrer.Lead, Code = code, Status = ReferralStatus.Referred };
            if (await _referrals.TryAddAsync(referral, cancellationToken).ConfigureAwait(false))
            {
                return new ReferralOutcome(_settings.FriendCoupon.Code, null, await _log.RecordAsync(
                    [new ReferralMade { LeadId = referrer.Lead, OccurredAt = now, Referred = friend }], cancellationToken).ConfigureAwait(false));
            }

            rejection = ReferralRejection.AlreadyReferred;
        }

        return new ReferralOutcome(null, rejection, await _log.RecordAsync(
            [new ReferralRejected { LeadId = friend, OccurredAt = now, Code = code, Reason = rejection.Value }], cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Records a referred friend's purchase; the referrer's reward then waits for the refund window.</summary>
    /// <param name="order">The friend's order event.</param>
    /// <param name="paymentFingerprint">The fingerprint of the payment method used, when known.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The event this call recorded (already in the log; do not append it again): <c>referral_purchased</c>, <c>referral_rejected</c> for a shared payment fingerprint, or nothing when the buyer was not referred or already bought.</returns>
    /// <remarks>The <c>referrals</c> handler of <c>AddFunnelAdvocacy</c> calls this for every logged <c>order_placed</c>
    /// (without a fingerprint); the event recorded takes an id derived from the order event's, so a redelivered order
    /// records nothing twice.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="order"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the referral kept winning.</exception>
    public async Task<ImmutableArray<FunnelEvent>> RecordPurchaseAsync(
        OrderPlaced order, string? paymentFingerprint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        ImmutableArray<FunnelEvent> events = await OptimisticConcurrency.RetryAsync<ImmutableArray<FunnelEvent>>(
            async ct =>
            {
                Referral? referral = await _referrals.FindAsync(order.LeadId, ct).ConfigureAwait(false);
                if (referral is not { Status: ReferralStatus.Referred })
                {
                    return (true, []);
                }

                Referrer? referrer = await _referrers.FindAsync(referral.Referrer, ct).ConfigureAwait(false);
                bool shared = paymentFingerprint is not null && referrer is not null
                    && referrer.Fingerprints.Contains(paymentFingerprint, StringComparer.Ordinal);
                Referral bought = referral with
                {
                    Status = shared ? ReferralStatus.Rejected : ReferralStatus.Purchased,
                    Order = order.Order,
                    ClearsAt = order.OccurredAt + _settings.RefundWindow,
                };
                if (!await _referrals.TryUpdateAsync(referral, bought, ct).ConfigureAwait(false))
                {
                    return (false, []);
                }

                return (true, shared
                    ? [new ReferralRejected { Id = EventRecording.Caused(order.Id, "referrals:rejected"), LeadId = order.LeadId, OccurredAt = order.OccurredAt, Code = referral.Code, Reason = ReferralRejection.SamePaymentFingerprint }]
                    : [new ReferralPurchased { Id = EventRecording.Caused(order.Id, "referrals:purchased"), LeadId = referral.Referrer, OccurredAt = order.OccurredAt, Referred = order.LeadId, Order = order.Order, Amount = order.Total }]);
            },
            $"the referral of {order.LeadId}",
            cancellationToken).ConfigureAwait(false);
        return await _log.RecordAsync(events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the pending reward of a friend's order that was refunded within the refund window.</summary>
    /// <param name="refund">The refund event; its lead is the friend.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when a pending reward was cancelled.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="refund"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the referral kept winning.</exception>
    public Task<bool> RecordRefundAsync(RefundIssued refund, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(refund);
        return CancelRewardAsync(refund.LeadId, refund.Order, refund.OccurredAt, cancellationToken);
    }

    /// <summary>Holds the pending reward of a friend's order disputed (charged back) within the refund window until the dispute closes.</summary>
    internal Task<bool> RecordDisputeAsync(Funnel.Payments.PaymentDisputed dispute, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dispute);
        return ChangeRewardAsync(
            dispute.LeadId,
            dispute.Order,
            r => r.Status == ReferralStatus.Purchased && dispute.OccurredAt < r.ClearsAt ? r with { Status = ReferralStatus.Disputed } : null,
            cancellationToken);
    }

    /// <summary>Settles a reward held by a dispute: a won dispute makes it pending again (clearing at the end of the refund window, or at once when that has passed), a lost one cancels it.</summary>
    internal Task<bool> RecordDisputeClosedAsync(Funnel.Payments.DisputeClosed closed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(closed);
        return ChangeRewardAsync(
            closed.LeadId,
            closed.Order,
            r => r.Status != ReferralStatus.Disputed ? null
                : closed.Won ? r with { Status = ReferralStatus.Purchased, ClearsAt = r.ClearsAt > closed.OccurredAt ? r.ClearsAt : closed.OccurredAt }
                : r with { Status = ReferralStatus.Cancelled },
            cancellationToken);
    }

    private Task<bool> CancelRewardAsync(LeadId friend, OrderId order, Instant at, CancellationToken cancellationToken) =>
        ChangeRewardAsync(
            friend,
            order,
            r => r.Status == ReferralStatus.Purchased && at < r.ClearsAt ? r with { Status = ReferralStatus.Cancelled } : null,
            cancellationToken);

    /// <summary>Applies <paramref name="change"/> (null: nothing to do) to the referral of a friend's order, by compare-and-set.</summary>
    private Task<bool> ChangeRewardAsync(LeadId friend, OrderId order, Func<Referral, Referral?> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<bool>(
            async ct =>
            {
                Referral? referral = await _referrals.FindAsync(friend, ct).ConfigureAwait(false);
                if (referral is null || referral.Order != order || change(referral) is not { } next)
                {
                    return (true, false);
                }

                bool won = await _referrals.TryUpdateAsync(referral, next, ct).ConfigureAwait(false);
                return (won, won);
            },
            $"the referral of {friend}",
            cancellationToken);

    /// <summary>Credits the referrers of every friend's purchase now past the refund window.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The <c>referral_reward_earned</c> events this call recorded (already in the log; do not append them again).</returns>
    /// <exception cref="InvalidOperationException">Concurrent changes to a referrer's credit kept winning.</exception>
    public async Task<ImmutableArray<FunnelEvent>> ReleaseRewardsAsync(CancellationToken cancellationToken = default)
    {
        Instant now = _clock.GetCurrentInstant();
        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        while (true)
        {
            ImmutableArray<Referral> page = await _referrals.ListClearedAsync(now, ReleasePage, cancellationToken).ConfigureAwait(false);
            foreach (Referral referral in page)
            {
                // The status change is the once-only guard; of two concurrent releases, one wins it.
                if (!await _referrals.TryUpdateAsync(referral, referral with { Status = ReferralStatus.Rewarded }, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                await CreditAsync(referral.Referrer, referral.Friend, cancellationToken).ConfigureAwait(false);
                events.AddRange(await _log.RecordAsync(
                    [new ReferralRewardEarned { LeadId = referral.Referrer, OccurredAt = now, Referred = referral.Friend, Order = referral.Order!.Value, Amount = _settings.ReferrerCredit }],
                    cancellationToken).ConfigureAwait(false));
            }

            if (page.Length < ReleasePage)
            {
                return events.ToImmutable();
            }
        }
    }

    /// <summary>Returns the credit a referrer has earned.</summary>
    /// <param name="referrer">The referrer.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The credit; zero when none.</returns>
    public async Task<Money> CreditOfAsync(LeadId referrer, CancellationToken cancellationToken = default)
    {
        Referrer? found = await _referrers.FindAsync(referrer, cancellationToken).ConfigureAwait(false);
        return found?.Credit ?? Money.Zero(_settings.ReferrerCredit.Currency);
    }

    private async Task CreditAsync(LeadId lead, LeadId friend, CancellationToken cancellationToken) =>
        await OptimisticConcurrency.RetryAsync(
            async ct =>
            {
                Referrer? referrer = await _referrers.FindAsync(lead, ct).ConfigureAwait(false);
                if (referrer is null || referrer.Credited.Contains(friend))
                {
                    return (true, 0);
                }

                Referrer credited = referrer with { Credit = referrer.Credit + _settings.ReferrerCredit, Credited = referrer.Credited.Add(friend) };
                return (await _referrers.TryUpdateAsync(referrer, credited, ct).ConfigureAwait(false), 0);
            },
            $"the credit of {lead}",
            cancellationToken).ConfigureAwait(false);
}

/// <summary>A referral was refused by a fraud guard; the lead id is the friend's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReferralRejected)]
public sealed record ReferralRejected : LeadEvent
{
    /// <summary>Gets the referral code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets why it was refused.</summary>
    public required ReferralRejection Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReferralRejected;

    /// <inheritdoc/>
    /// <value>The referral <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>A referred friend bought; the lead id is the referrer's, whose reward waits for the refund window.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReferralPurchased)]
public sealed record ReferralPurchased : LeadEvent
{
    /// <summary>Gets the friend.</summary>
    public required LeadId Referred { get; init; }

    /// <summary>Gets the friend's order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the order total.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReferralPurchased;
}

/// <summary>A referrer earned the credit for a friend's purchase; the lead id is the referrer's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReferralRewardEarned)]
public sealed record ReferralRewardEarned : LeadEvent
{
    /// <summary>Gets the friend.</summary>
    public required LeadId Referred { get; init; }

    /// <summary>Gets the friend's order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the credit earned.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReferralRewardEarned;
}
