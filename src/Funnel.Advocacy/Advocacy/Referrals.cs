using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
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
/// <param name="Events">The events: <c>referral_made</c>, or <c>referral_rejected</c>.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ReferralOutcome(string? Coupon, ReferralRejection? Rejection, ImmutableArray<FunnelEvent> Events);

/// <summary>Runs a customer referral program: codes, the friend's coupon, the referrer's credit after the refund window, and fraud guards.</summary>
/// <remarks>
/// <para>Fraud guards: a referral is refused when the friend is the referrer, has the referrer's normalised email
/// address (<see cref="EmailAddress"/>), or was already referred. At purchase, a friend paying with the referrer's
/// payment fingerprint (an opaque string from the payment provider, such as a card fingerprint) earns no reward.</para>
/// <para>Only the friend's first order counts. Any refund on it within the refund window cancels the reward;
/// <see cref="ReleaseRewards"/> credits the referrer for purchases past the window. State is kept in memory; the
/// events returned are the durable history.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe (one lock serialises changes).</threadsafety>
public sealed class ReferralProgram
{
    private readonly object gate = new();
    private readonly ReferralProgramSettings settings;
    private readonly IClock clock;
    private readonly Dictionary<string, Referrer> byCode = new(StringComparer.Ordinal);
    private readonly Dictionary<LeadId, Referrer> byLead = [];
    private readonly Dictionary<LeadId, Referrer> referredBy = [];
    private readonly Dictionary<OrderId, PendingReward> pending = [];
    private readonly HashSet<LeadId> purchased = [];
    private readonly Dictionary<LeadId, Money> credits = [];

    /// <summary>Initializes the program.</summary>
    /// <param name="settings">The settings; validated.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The settings are invalid.</exception>
    public ReferralProgram(ReferralProgramSettings settings, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(clock);
        new ReferralProgramSettingsValidator().ValidateAndThrow(settings);
        this.settings = settings;
        this.clock = clock;
    }

    /// <summary>Returns a customer's referral code, creating it on first use.</summary>
    /// <param name="customer">The customer.</param>
    /// <param name="email">The customer's email address, for the same-email guard.</param>
    /// <param name="paymentFingerprint">The customer's payment fingerprint, for the same-payment guard, when known.</param>
    /// <returns>The code, such as <c>r3f9a1c0b2d</c>; share it as <c>?ref=</c> on a link.</returns>
    /// <exception cref="ArgumentException"><paramref name="email"/> is <c>default</c>.</exception>
    public string CodeFor(LeadId customer, EmailAddress email, string? paymentFingerprint = null)
    {
        if (email.Value is null)
        {
            throw new ArgumentException("'email' must be set.", nameof(email));
        }

        lock (gate)
        {
            if (byLead.TryGetValue(customer, out Referrer? existing))
            {
                if (paymentFingerprint is not null)
                {
                    existing.Fingerprints.Add(paymentFingerprint);
                }

                return existing.Code;
            }

            var referrer = new Referrer(customer, email, "r" + Guid.NewGuid().ToString("N")[..11]);
            if (paymentFingerprint is not null)
            {
                referrer.Fingerprints.Add(paymentFingerprint);
            }

            byLead[customer] = referrer;
            byCode[referrer.Code] = referrer;
            return referrer.Code;
        }
    }

    /// <summary>Records that a friend arrived through a referral code (at sign-up or checkout).</summary>
    /// <param name="code">The referral code.</param>
    /// <param name="friend">The friend's lead id.</param>
    /// <param name="friendEmail">The friend's email address.</param>
    /// <returns>The friend's coupon and <c>referral_made</c>, or the rejection and <c>referral_rejected</c> (none for an unknown code).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public ReferralOutcome Refer(string code, LeadId friend, EmailAddress friendEmail)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            if (!byCode.TryGetValue(code, out Referrer? referrer))
            {
                return new ReferralOutcome(null, ReferralRejection.UnknownCode, []);
            }

            ReferralRejection? rejection = referrer.Lead == friend ? ReferralRejection.SelfReferral
                : referrer.Email == friendEmail ? ReferralRejection.SameEmail
                : referredBy.ContainsKey(friend) ? ReferralRejection.AlreadyReferred
                : null;
            if (rejection is { } r)
            {
                return new ReferralOutcome(null, r, [new ReferralRejected { LeadId = friend, OccurredAt = now, Code = code, Reason = r }]);
            }

            referredBy[friend] = referrer;
            return new ReferralOutcome(settings.FriendCoupon.Code, null, [new ReferralMade { LeadId = referrer.Lead, OccurredAt = now, Referred = friend }]);
        }
    }

    /// <summary>Records a referred friend's purchase; the referrer's reward then waits for the refund window.</summary>
    /// <param name="order">The friend's order event.</param>
    /// <param name="paymentFingerprint">The fingerprint of the payment method used, when known.</param>
    /// <returns><c>referral_purchased</c>, <c>referral_rejected</c> for a shared payment fingerprint, or nothing when the buyer was not referred or already bought.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="order"/> is <see langword="null"/>.</exception>
    public ImmutableArray<FunnelEvent> RecordPurchase(OrderPlaced order, string? paymentFingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        lock (gate)
        {
            if (!referredBy.TryGetValue(order.LeadId, out Referrer? referrer) || !purchased.Add(order.LeadId))
            {
                return [];
            }

            if (paymentFingerprint is not null && referrer.Fingerprints.Contains(paymentFingerprint))
            {
                return [new ReferralRejected { LeadId = order.LeadId, OccurredAt = order.OccurredAt, Code = referrer.Code, Reason = ReferralRejection.SamePaymentFingerprint }];
            }

            pending[order.Order] = new PendingReward(referrer, order.LeadId, order.OccurredAt + settings.RefundWindow);
            return [new ReferralPurchased { LeadId = referrer.Lead, OccurredAt = order.OccurredAt, Referred = order.LeadId, Order = order.Order, Amount = order.Total }];
        }
    }

    /// <summary>Cancels the pending reward of a friend's order that was refunded within the refund window.</summary>
    /// <param name="refund">The refund event.</param>
    /// <returns><see langword="true"/> when a pending reward was cancelled.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="refund"/> is <see langword="null"/>.</exception>
    public bool RecordRefund(RefundIssued refund)
    {
        ArgumentNullException.ThrowIfNull(refund);
        lock (gate)
        {
            return pending.TryGetValue(refund.Order, out PendingReward? reward) && refund.OccurredAt < reward.ClearsAt && pending.Remove(refund.Order);
        }
    }

    /// <summary>Credits the referrers of every friend's purchase now past the refund window.</summary>
    /// <returns>The <c>referral_reward_earned</c> events.</returns>
    public ImmutableArray<FunnelEvent> ReleaseRewards()
    {
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            var events = ImmutableArray.CreateBuilder<FunnelEvent>();
            foreach (var (order, reward) in pending.Where(p => p.Value.ClearsAt <= now).OrderBy(p => p.Value.ClearsAt).ToList())
            {
                pending.Remove(order);
                LeadId lead = reward.Referrer.Lead;
                credits[lead] = credits.TryGetValue(lead, out Money credit) ? credit + settings.ReferrerCredit : settings.ReferrerCredit;
                events.Add(new ReferralRewardEarned { LeadId = lead, OccurredAt = now, Referred = reward.Friend, Order = order, Amount = settings.ReferrerCredit });
            }

            return events.ToImmutable();
        }
    }

    /// <summary>Returns the credit a referrer has earned.</summary>
    /// <param name="referrer">The referrer.</param>
    /// <returns>The credit; zero when none.</returns>
    public Money CreditOf(LeadId referrer)
    {
        lock (gate)
        {
            return credits.TryGetValue(referrer, out Money credit) ? credit : Money.Zero(settings.ReferrerCredit.Currency);
        }
    }

    private sealed record Referrer(LeadId Lead, EmailAddress Email, string Code)
    {
        public HashSet<string> Fingerprints { get; } = new(StringComparer.Ordinal);
    }

    private sealed record PendingReward(Referrer Referrer, LeadId Friend, Instant ClearsAt);
}

/// <summary>A referral was refused by a fraud guard; the lead id is the friend's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
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
