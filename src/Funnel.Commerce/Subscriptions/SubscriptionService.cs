using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Runs subscriptions to recurring offers: start (paid or with a free trial), renew, dunning, cancel, pause, resume and plan changes with proration.</summary>
/// <remarks>
/// <para>
/// A start without a trial charges the first period at once through the <see cref="IPaymentGateway"/> and saves the
/// payment method; a trial starts with or without a saved method, as the offer's <see cref="SubscriptionTerms"/> allow.
/// <see cref="ProcessDueAsync"/> (the <c>subscription-renewals</c> job) charges each period due off-session, converts
/// trials with a payment method, lapses those without, retries failed periods on the <see cref="DunningPolicy"/>'s
/// <see cref="DunningPolicy.RetryAfter"/> schedule (the subscription is past due and keeps access meanwhile) and ends
/// them with <see cref="SubscriptionEndReason.PaymentFailed"/> once every retry failed, ends scheduled cancellations at
/// the period's end, and resumes paused subscriptions whose pause is over.
/// </para>
/// <para>
/// Every charge carries an idempotency key made of the subscription, the start of the period it pays for and the
/// attempt, so two instances renewing the same subscription, or a run retried after a timeout or a
/// <see cref="PaymentGatewayException"/>, collect at most once; the state change is one compare-and-set in the
/// <see cref="ISubscriptionStore"/>, and the events it causes have ids derived from the subscription and the period, so
/// they are recorded once. A <see cref="PaymentGatewayException"/> changes nothing: the subscription stays due and the
/// next run retries it with the same key.
/// </para>
/// <para>
/// Access goes through the <see cref="IEntitlementGrantor"/>, one <see cref="Entitlement"/> per product of the plan, whose
/// <see cref="Entitlement.Order"/> is the subscription's id: granted at the start (trials included), kept while past
/// due, revoked while paused and when the subscription ends, moved to the new plan's products on a plan change. These
/// are not orders, so the <c>entitlements</c> handler of orders never grants them a second time. A grantor that fails
/// leaves the change pending on the subscription (<see cref="Subscription.AccessGrantedFor"/>); the job retries it.
/// </para>
/// <para>
/// Pausing is immediate: billing and access stop, and the unused part of the paid period becomes credit. Resuming
/// starts a new period at once (the anchor moves), charged after the credit. A plan change keeps the period's end,
/// credits the unused part of the old price and charges the new price for the rest (<see cref="Proration"/>): an upgrade
/// charges the difference at once, a downgrade keeps it as credit that the next renewals consume. Plans are changed
/// only while active (not during a trial). "Now" comes from the <see cref="IClock"/>; every method records its events
/// in the <see cref="IFunnelEventLog"/> itself.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; several instances on one store are safe.</threadsafety>
public sealed class SubscriptionService
{
    /// <summary>The <see cref="SubscriptionRenewed.PaymentId"/> of a period the credit paid in full, with no charge.</summary>
    public const string CreditPaymentId = "credit";

    /// <summary>The most steps one subscription takes in one run (renewals caught up after a long outage).</summary>
    private const int MaxStepsPerRun = 64;

    private readonly PriceBook _prices;
    private readonly ISubscriptionStore _store;
    private readonly IPaymentGateway _gateway;
    private readonly IEntitlementGrantor _grantor;
    private readonly DunningPolicy _dunning;
    private readonly IDateTimeZoneProvider _zones;
    private readonly IClock _clock;
    private readonly IFunnelEventLog _log;
    private readonly SubscriptionOptions _options;
    private readonly ISubscriptionBillingProvider? _billing;
    private readonly ICouponRedemptionStore? _couponRedemptions;

    /// <summary>Initializes the service.</summary>
    /// <param name="prices">The compiled catalogue, for the recurring offers.</param>
    /// <param name="store">The subscriptions.</param>
    /// <param name="gateway">The payment provider that collects each period.</param>
    /// <param name="grantor">Grants and revokes access to the plans' products.</param>
    /// <param name="dunning">When failed periods are retried.</param>
    /// <param name="zones">Resolves the subscribers' time zones.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <param name="options">The job's options.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public SubscriptionService(PriceBook prices, ISubscriptionStore store, IPaymentGateway gateway, IEntitlementGrantor grantor,
        DunningPolicy dunning, IDateTimeZoneProvider zones, IClock clock, IFunnelEventLog log, IOptions<SubscriptionOptions> options)
        : this(prices, store, gateway, grantor, dunning, zones, clock, log, options, null)
    {
    }

    /// <summary>Initializes the service, with a provider that bills the subscriptions it starts.</summary>
    /// <param name="prices">The compiled catalogue, for the recurring offers.</param>
    /// <param name="store">The subscriptions.</param>
    /// <param name="gateway">The payment provider that collects each period of a subscription it does not bill itself.</param>
    /// <param name="grantor">Grants and revokes access to the plans' products.</param>
    /// <param name="dunning">When failed periods are retried.</param>
    /// <param name="zones">Resolves the subscribers' time zones.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <param name="options">The job's options.</param>
    /// <param name="billing">
    /// The provider that bills new subscriptions (Stripe Billing), or <see langword="null"/> for the engine to charge each
    /// period through <paramref name="gateway"/>. Subscriptions started before it was registered keep being charged by the engine.
    /// </param>
    /// <remarks>Without an <see cref="ICouponRedemptionStore"/>, a start with a coupon that has a redemption limit is rejected.</remarks>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="billing"/> is <see langword="null"/>.</exception>
    public SubscriptionService(PriceBook prices, ISubscriptionStore store, IPaymentGateway gateway, IEntitlementGrantor grantor,
        DunningPolicy dunning, IDateTimeZoneProvider zones, IClock clock, IFunnelEventLog log, IOptions<SubscriptionOptions> options,
        ISubscriptionBillingProvider? billing)
        : this(prices, store, gateway, grantor, dunning, zones, clock, log, options, billing, null)
    {
    }

    /// <summary>Initializes the service, with a billing provider and the store that counts coupon redemptions.</summary>
    /// <param name="prices">The compiled catalogue, for the recurring offers and the coupons.</param>
    /// <param name="store">The subscriptions.</param>
    /// <param name="gateway">The payment provider that collects each period of a subscription it does not bill itself.</param>
    /// <param name="grantor">Grants and revokes access to the plans' products.</param>
    /// <param name="dunning">When failed periods are retried.</param>
    /// <param name="zones">Resolves the subscribers' time zones.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <param name="options">The job's options.</param>
    /// <param name="billing">The provider that bills new subscriptions (Stripe Billing), or <see langword="null"/> for the engine to charge each period.</param>
    /// <param name="couponRedemptions">
    /// Counts coupon redemptions, the same store as <see cref="OrderService"/>'s so a limit holds across orders and
    /// subscriptions; or <see langword="null"/>, and then a start with a coupon that has a redemption limit is rejected.
    /// </param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="billing"/> and <paramref name="couponRedemptions"/> is <see langword="null"/>.</exception>
    public SubscriptionService(PriceBook prices, ISubscriptionStore store, IPaymentGateway gateway, IEntitlementGrantor grantor,
        DunningPolicy dunning, IDateTimeZoneProvider zones, IClock clock, IFunnelEventLog log, IOptions<SubscriptionOptions> options,
        ISubscriptionBillingProvider? billing, ICouponRedemptionStore? couponRedemptions)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(grantor);
        ArgumentNullException.ThrowIfNull(dunning);
        ArgumentNullException.ThrowIfNull(zones);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        _prices = prices;
        _store = store;
        _gateway = gateway;
        _grantor = grantor;
        _dunning = dunning;
        _zones = zones;
        _clock = clock;
        _log = log;
        _options = options.Value;
        _billing = billing;
        _couponRedemptions = couponRedemptions;
    }

    /// <summary>Finds a subscription.</summary>
    /// <param name="id">The subscription id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription, or <see langword="null"/> when there is none.</returns>
    public Task<Subscription?> FindAsync(SubscriptionId id, CancellationToken cancellationToken = default) =>
        _store.FindAsync(id, cancellationToken);

    /// <summary>Lists a lead's subscriptions, ended ones included, oldest first.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscriptions.</returns>
    public Task<ImmutableArray<Subscription>> ListAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        _store.ListByLeadAsync(lead, cancellationToken);

    /// <summary>Subscribes a lead to a recurring offer: the first period charged at once, or a free trial.</summary>
    /// <param name="request">The subscription to start.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The subscription with <see cref="SubscriptionStarted"/>; the stored one and no event when <see cref="SubscriptionRequest.Id"/>
    /// already exists (a retry); <see cref="SubscriptionOutcome.Declined"/> or <see cref="SubscriptionOutcome.RequiresAction"/>
    /// with nothing stored when the first charge was not collected; <see cref="SubscriptionOutcome.Rejected"/> when the
    /// lead already has a live subscription to the offer or a required payment method is missing.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> or its zone is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The catalogue has no such offer, or it is not recurring.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed; retry with the same <see cref="SubscriptionRequest.Id"/>.</exception>
    public async Task<SubscriptionResult> StartAsync(SubscriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.BuyerZone);
        (Offer offer, SubscriptionTerms terms) = Recurring(request.Offer, nameof(request));
        if (await _store.FindAsync(request.Id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return Done(existing, []);
        }

        ImmutableArray<Subscription> mine = await _store.ListByLeadAsync(request.Lead, cancellationToken).ConfigureAwait(false);
        if (mine.FirstOrDefault(s => s.Offer == request.Offer && s.Status != SubscriptionStatus.Ended) is { } live)
        {
            return Rejected($"Lead {request.Lead} already subscribes to '{request.Offer}' ({live.Id}, {live.Status}).", live);
        }

        Instant now = _clock.GetCurrentInstant();
        ImmutableArray<string> codes = request.CouponCodes.IsDefault ? [] : request.CouponCodes;
        if (!codes.IsEmpty && _billing is not null)
        {
            return Rejected($"Coupons on subscriptions billed by a provider (Stripe Billing) are not supported yet; start '{request.Offer}' without {string.Join(", ", codes)}.");
        }

        (ImmutableArray<SubscriptionCoupon> coupons, SubscriptionResult? couponsRejected) =
            await RedeemCouponsAsync(request.Lead, offer, codes, now, cancellationToken).ConfigureAwait(false);
        if (couponsRejected is not null)
        {
            return couponsRejected;
        }

        bool started = false;
        try
        {
            SubscriptionResult result = await StartWithCouponsAsync(request, offer, terms, coupons, now, cancellationToken).ConfigureAwait(false);
            started = result.Events.Length > 0;
            return result;
        }
        finally
        {
            if (!started)
            {
                await ReleaseCouponsAsync(request.Lead, coupons).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts the subscription once its coupons are redeemed: a result without events means nothing was stored.</summary>
    private async Task<SubscriptionResult> StartWithCouponsAsync(SubscriptionRequest request, Offer offer, SubscriptionTerms terms,
        ImmutableArray<SubscriptionCoupon> coupons, Instant now, CancellationToken cancellationToken)
    {
        Subscription subscription;
        Money paid = Money.Zero(offer.Price.Currency);
        if (_billing is not null)
        {
            if (await StartAtProviderAsync(_billing, request, offer, terms, now, cancellationToken).ConfigureAwait(false) is not { } started)
            {
                return Rejected(terms.HasTrial
                    ? $"The trial of '{request.Offer}' requires a saved payment method (TrialRequiresCard)."
                    : $"'{request.Offer}' has no free trial: the first period needs a payment method.");
            }

            if (started.Result is { } failed)
            {
                return failed;
            }

            subscription = started.Subscription!;
            paid = subscription.PeriodsPaid == 1 ? offer.Price : paid;
        }
        else if (terms.HasTrial)
        {
            if (terms.TrialRequiresCard && string.IsNullOrWhiteSpace(request.PaymentMethod))
            {
                return Rejected($"The trial of '{request.Offer}' requires a saved payment method (TrialRequiresCard).");
            }

            Instant trialEnd = SubscriptionCalendar.TrialEnd(now, terms.TrialDays, request.BuyerZone);
            subscription = New(request, offer, terms, now) with
            {
                Coupons = coupons,
                Status = SubscriptionStatus.Trialing,
                BillingAnchor = trialEnd,
                CurrentPeriodEnd = trialEnd,
                TrialEndsAt = trialEnd,
            };
        }
        else
        {
            if (string.IsNullOrWhiteSpace(request.PaymentMethod))
            {
                return Rejected($"'{request.Offer}' has no free trial: the first period needs a payment method.");
            }

            Money first = (New(request, offer, terms, now) with { Coupons = coupons }).NextPeriodPrice;
            PaymentResult charge = first.MinorUnits == 0
                ? new PaymentResult { Outcome = PaymentOutcome.Succeeded } // coupons cover the period: nothing to collect, the method is kept for the renewals
                : await _gateway.ChargeAsync(new ChargeRequest
                {
                    Order = OrderOf(request.Id),
                    Lead = request.Lead,
                    Amount = first,
                    PaymentMethod = request.PaymentMethod,
                    Customer = request.Customer,
                    IdempotencyKey = SubscriptionKeys.ForStart(request.Id),
                    SaveForLater = true,
                }, cancellationToken).ConfigureAwait(false);
            if (NotCollected(charge) is { } failed)
            {
                return failed;
            }

            subscription = New(request, offer, terms, now) with
            {
                Coupons = UsePeriod(coupons).Kept,
                Status = SubscriptionStatus.Active,
                Cycle = 1,
                CurrentPeriodEnd = SubscriptionCalendar.StartOf(now, 1, terms.Interval, request.BuyerZone),
                PeriodsPaid = 1,
                PaymentMethod = charge.PaymentMethod ?? request.PaymentMethod,
                Customer = charge.Customer ?? request.Customer,
                AppliedPayments = charge.PaymentId is { } id ? [id] : [],
            };
            paid = first;
        }

        if (!await _store.TryAddAsync(subscription, cancellationToken).ConfigureAwait(false))
        {
            return Done((await _store.FindAsync(request.Id, cancellationToken).ConfigureAwait(false))!, []);
        }

        ImmutableArray<FunnelEvent> events =
        [
            new SubscriptionStarted
            {
                Id = EventFor(subscription, "started"),
                LeadId = subscription.Lead,
                OccurredAt = now,
                Subscription = subscription.Id,
                Offer = subscription.Offer,
                Interval = subscription.Interval,
                Price = subscription.DiscountedPrice,
                MonthlyAmount = subscription.MonthlyAmount,
                TrialEndsAt = subscription.TrialEndsAt,
                PeriodEnd = subscription.CurrentPeriodEnd,
                AmountPaid = paid,
            },
        ];
        await _log.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        Subscription stored = await SyncAccessQuietlyAsync(subscription, cancellationToken).ConfigureAwait(false);
        return Done(stored, events);
    }

    /// <summary>Creates the subscription at the billing provider: <see langword="null"/> when a required payment method is missing.</summary>
    private static async Task<(SubscriptionResult? Result, Subscription? Subscription)?> StartAtProviderAsync(ISubscriptionBillingProvider billing,
        SubscriptionRequest request, Offer offer, SubscriptionTerms terms, Instant now, CancellationToken cancellationToken)
    {
        bool hasMethod = !string.IsNullOrWhiteSpace(request.PaymentMethod);
        if (!hasMethod && (!terms.HasTrial || terms.TrialRequiresCard))
        {
            return null;
        }

        Instant? trialEnd = terms.HasTrial ? SubscriptionCalendar.TrialEnd(now, terms.TrialDays, request.BuyerZone) : null;
        ProviderSubscriptionStarted started = await billing.StartAsync(new ProviderSubscriptionStart
        {
            Subscription = request.Id,
            Lead = request.Lead,
            Offer = offer.Id,
            Price = offer.Price,
            Interval = terms.Interval,
            TrialEnd = trialEnd,
            PaymentMethod = hasMethod ? request.PaymentMethod : null,
            Customer = request.Customer,
            IdempotencyKey = SubscriptionKeys.ForStart(request.Id),
        }, cancellationToken).ConfigureAwait(false);
        PaymentResult first = started.FirstPayment;
        if (NotCollected(first) is { } failed)
        {
            return (failed, null);
        }

        if (string.IsNullOrWhiteSpace(started.ProviderSubscriptionId))
        {
            throw new PaymentGatewayException($"The billing provider started subscription {request.Id} but returned no subscription id.");
        }

        Subscription subscription = New(request, offer, terms, now) with
        {
            ProviderSubscriptionId = started.ProviderSubscriptionId,
            PaymentMethod = first.PaymentMethod ?? (hasMethod ? request.PaymentMethod : null),
            Customer = first.Customer ?? request.Customer,
        };
        subscription = trialEnd is { } end
            ? subscription with { Status = SubscriptionStatus.Trialing, BillingAnchor = end, CurrentPeriodEnd = end, TrialEndsAt = end }
            : subscription with
            {
                Status = SubscriptionStatus.Active,
                Cycle = 1,
                CurrentPeriodEnd = SubscriptionCalendar.StartOf(now, 1, terms.Interval, request.BuyerZone),
                PeriodsPaid = 1,
                AppliedPayments = first.PaymentId is { } id ? [id] : [],
            };
        return (null, subscription);
    }

    /// <summary>Passes a change the engine decided on to the billing provider of a subscription it bills, before the change is written.</summary>
    private Func<Subscription, Instant, CancellationToken, Task<Decision>> Billed(ProviderSubscriptionChange change,
        Func<Subscription, Instant, CancellationToken, Task<Decision>> decide, Instant? pausedUntil = null) =>
        async (s, now, c) =>
        {
            Decision decision = await decide(s, now, c).ConfigureAwait(false);
            if (decision.Next is null || _billing is null || s.ProviderSubscriptionId is not { } provider)
            {
                return decision;
            }

            PaymentResult result = await _billing.UpdateAsync(new ProviderSubscriptionUpdate
            {
                ProviderSubscriptionId = provider,
                Subscription = s.Id,
                Change = change,
                PausedUntil = pausedUntil,
                Interval = s.Interval,
                IdempotencyKey = SubscriptionKeys.ForProvider(s.Id, change, s.Version),
            }, c).ConfigureAwait(false);
            return NotCollected(result) is { } failed ? Decision.Stop(failed with { Subscription = s }) : decision;
        };

    /// <summary>Ends a subscription that its billing provider ended (Stripe's <c>customer.subscription.deleted</c>).</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="endedAt">When the provider ended it.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The subscription with <see cref="SubscriptionEnded"/>: <see cref="SubscriptionEndReason.TrialLapsed"/> when no period
    /// was paid, <see cref="SubscriptionEndReason.CanceledAtPeriodEnd"/> when a cancellation was scheduled,
    /// <see cref="SubscriptionEndReason.PaymentFailed"/> when past due, <see cref="SubscriptionEndReason.Canceled"/>
    /// otherwise; access is revoked. One that already ended is returned unchanged with no event, so a replayed or late report is harmless.
    /// Rejected for an unknown subscription.
    /// </returns>
    public Task<SubscriptionResult> EndByProviderAsync(SubscriptionId id, Instant endedAt, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, (s, _, _) => Task.FromResult(s.Status == SubscriptionStatus.Ended
            ? Decision.Unchanged
            : End(s, s.PeriodsPaid == 0 ? SubscriptionEndReason.TrialLapsed
                : s.CancelAtPeriodEnd ? SubscriptionEndReason.CanceledAtPeriodEnd
                : s.Status == SubscriptionStatus.PastDue ? SubscriptionEndReason.PaymentFailed
                : SubscriptionEndReason.Canceled, endedAt)), cancellationToken);

    /// <summary>Saves a payment method on a subscription, such as the card a trial without one needs to convert.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="paymentMethod">The saved payment method, charged off-session from now on.</param>
    /// <param name="customer">The provider customer holding it, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription, with no event; a past-due one is retried by the next run of the job. Rejected when ended or unknown.</returns>
    /// <exception cref="ArgumentException"><paramref name="paymentMethod"/> is empty.</exception>
    public Task<SubscriptionResult> AttachPaymentMethodAsync(SubscriptionId id, string paymentMethod, string? customer = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentMethod);
        return ChangeAsync(id, (s, now, _) =>
        {
            if (s.Status == SubscriptionStatus.Ended)
            {
                return Task.FromResult(Decision.Reject($"Subscription {id} has ended."));
            }

            return Task.FromResult(Decision.To(s with
            {
                PaymentMethod = paymentMethod,
                Customer = customer ?? s.Customer,
                NextAttemptAt = s.Status == SubscriptionStatus.PastDue ? now : s.NextAttemptAt,
            }));
        }, cancellationToken);
    }

    /// <summary>Cancels a subscription now, or schedules it to end at the end of the current period.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="atPeriodEnd">
    /// <see langword="true"/> to keep access until <see cref="Subscription.CurrentPeriodEnd"/> and end then
    /// (<see cref="SubscriptionCancelScheduled"/>; trialing or active only); <see langword="false"/> to end now
    /// (<see cref="SubscriptionEnded"/>, access revoked, nothing refunded).
    /// </param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription and the events; rejected when it already ended, or for a scheduled cancel of a past-due or paused one.</returns>
    /// <remarks>A trial cancelled before it converted ends as <see cref="SubscriptionEndReason.TrialLapsed"/>: it never counted for MRR.</remarks>
    public Task<SubscriptionResult> CancelAsync(SubscriptionId id, bool atPeriodEnd, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, Billed(atPeriodEnd ? ProviderSubscriptionChange.CancelAtPeriodEnd : ProviderSubscriptionChange.CancelNow, (s, now, _) =>
        {
            if (s.Status == SubscriptionStatus.Ended)
            {
                return Task.FromResult(Decision.Reject($"Subscription {id} has already ended."));
            }

            if (!atPeriodEnd)
            {
                return Task.FromResult(End(s, s.PeriodsPaid == 0 ? SubscriptionEndReason.TrialLapsed : SubscriptionEndReason.Canceled, now));
            }

            if (s.Status is not (SubscriptionStatus.Trialing or SubscriptionStatus.Active))
            {
                return Task.FromResult(Decision.Reject($"Subscription {id} is {s.Status}: it has no paid period to end with; cancel it now."));
            }

            if (s.CancelAtPeriodEnd)
            {
                return Task.FromResult(Decision.Unchanged);
            }

            return Task.FromResult(Decision.To(s with { CancelAtPeriodEnd = true }, new SubscriptionCancelScheduled
            {
                Id = EventFor(s, "cancel-scheduled:" + Version(s)),
                LeadId = s.Lead,
                OccurredAt = now,
                Subscription = s.Id,
                Offer = s.Offer,
                EndsAt = s.CurrentPeriodEnd,
            }));
        }), cancellationToken);

    /// <summary>Withdraws a cancellation scheduled for the period's end: the subscription renews as before.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription with <see cref="SubscriptionCancelWithdrawn"/>; rejected when no cancellation is scheduled.</returns>
    public Task<SubscriptionResult> WithdrawCancelAsync(SubscriptionId id, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, Billed(ProviderSubscriptionChange.WithdrawCancel, (s, now, _) => Task.FromResult(s is { CancelAtPeriodEnd: true, Status: not SubscriptionStatus.Ended }
            ? Decision.To(s with { CancelAtPeriodEnd = false }, new SubscriptionCancelWithdrawn
            {
                Id = EventFor(s, "cancel-withdrawn:" + Version(s)),
                LeadId = s.Lead,
                OccurredAt = now,
                Subscription = s.Id,
                Offer = s.Offer,
            })
            : Decision.Reject($"Subscription {id} has no cancellation scheduled."))), cancellationToken);

    /// <summary>Pauses an active subscription now: billing and access stop, and the unused part of the paid period becomes credit.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="until">When it resumes by itself (the job resumes it), or <see langword="null"/> until <see cref="ResumeAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The subscription with <see cref="SubscriptionPaused"/>; rejected unless active with no cancellation scheduled, or when <paramref name="until"/> is not in the future.</returns>
    public Task<SubscriptionResult> PauseAsync(SubscriptionId id, Instant? until = null, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, Billed(ProviderSubscriptionChange.Pause, (s, now, _) =>
        {
            if (s.Status != SubscriptionStatus.Active || s.CancelAtPeriodEnd)
            {
                return Task.FromResult(Decision.Reject(
                    $"Subscription {id} is {s.Status}{(s.CancelAtPeriodEnd ? " with a cancellation scheduled" : "")}: only an active subscription can be paused."));
            }

            if (until <= now)
            {
                return Task.FromResult(Decision.Reject($"A pause must end in the future; {until} is not after {now}."));
            }

            Money unused = Proration.Unused(s.DiscountedPrice, s.CurrentPeriodStart, s.CurrentPeriodEnd, now);
            return Task.FromResult(Decision.To(s with
            {
                Status = SubscriptionStatus.Paused,
                PausedAt = now,
                PausedUntil = until,
                CurrentPeriodEnd = now,
                Credit = s.Credit + unused,
            }, new SubscriptionPaused
            {
                Id = EventFor(s, "paused:" + Version(s)),
                LeadId = s.Lead,
                OccurredAt = now,
                Subscription = s.Id,
                Offer = s.Offer,
                ResumesAt = until,
            }));
        }, until), cancellationToken);

    /// <summary>Resumes a paused subscription now: a new period starts and is charged (after the credit), and access returns.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The subscription with <see cref="SubscriptionResumed"/> and <see cref="SubscriptionRenewed"/>; when the charge fails,
    /// <see cref="SubscriptionResumed"/> and <see cref="SubscriptionPaymentFailed"/> (past due, dunning retries). Rejected unless paused.
    /// </returns>
    /// <exception cref="PaymentGatewayException">The provider failed; nothing changed.</exception>
    public Task<SubscriptionResult> ResumeAsync(SubscriptionId id, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, Billed(ProviderSubscriptionChange.Resume, (s, now, c) => s.Status == SubscriptionStatus.Paused
            ? ResumeStepAsync(s, now, now, c)
            : Task.FromResult(Decision.Reject($"Subscription {id} is {s.Status}, not paused."))), cancellationToken);

    /// <summary>Moves an active subscription to another recurring offer now, with proration.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="offer">The new plan.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The subscription with <see cref="SubscriptionPlanChanged"/>: an upgrade charged the difference for the rest of the
    /// period (after any credit) on the saved method, a downgrade added it to the credit. Declined (or requires action)
    /// with nothing changed when the charge was not collected; rejected unless active, or for the same plan.
    /// </returns>
    /// <remarks>
    /// <para>
    /// A plan of the same interval keeps the period's end: the old price's unused share is credited and the new price's
    /// share of the rest of the period charged (<see cref="Proration.Change"/>). A plan of another interval (monthly to
    /// yearly or back) cannot keep a period priced for another length, so, as Stripe does, a new period of the new plan
    /// starts now: the old price's unused share becomes credit and the new period is charged at once after it
    /// (<see cref="SubscriptionPlanChanged.PeriodEnd"/> says when it ends; a credit larger than the price is kept for
    /// the renewals).
    /// </para>
    /// <para>
    /// The charge's idempotency key is made of the subscription, the new plan and the instant of the request, so
    /// when the subscription changes between the charge and its write, the change is computed again and the same amount
    /// is collected once; should the amount differ (the job renewed the period that instant), the provider refuses the
    /// reused key with a <see cref="PaymentGatewayException"/> and nothing is written, so retry the change.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">The catalogue has no such offer, or it is not recurring.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed; nothing changed.</exception>
    public Task<SubscriptionResult> ChangePlanAsync(SubscriptionId id, OfferId offer, CancellationToken cancellationToken = default)
    {
        (Offer target, SubscriptionTerms terms) = Recurring(offer, nameof(offer));
        return ChangeAsync(id, async (s, now, c) =>
        {
            if (s.Status != SubscriptionStatus.Active)
            {
                return Decision.Reject($"Subscription {id} is {s.Status}: only an active subscription changes plan (after its trial).");
            }

            if (s.Offer == offer)
            {
                return Decision.Reject($"Subscription {id} is already on '{offer}'.");
            }

            if (terms.Interval != s.Interval)
            {
                return await ChangeIntervalAsync(s, target, terms, now, c).ConfigureAwait(false);
            }

            Subscription moved = s with { Offer = offer, Price = target.Price, Coupons = CouponsOn(s, offer) };
            ProrationQuote quote = Proration.Change(s.DiscountedPrice, moved.DiscountedPrice, s.CurrentPeriodStart, s.CurrentPeriodEnd, now);
            Money net = quote.Net;
            Money credit = s.Credit;
            string? paymentId = null;
            ImmutableArray<string> applied = s.AppliedPayments;
            if (_billing is not null && s.ProviderSubscriptionId is { } provider)
            {
                // The provider prorates and invoices the difference itself; the credit stays the engine's own.
                PaymentResult billed = await BillPlanChangeAsync(s, provider, target, terms, SubscriptionKeys.ForChange(s.Id, offer, now), c).ConfigureAwait(false);
                if (NotCollected(billed) is { } refused)
                {
                    return Decision.Stop(refused with { Subscription = s });
                }

                paymentId = billed.PaymentId;
                applied = Applied(applied, paymentId);
            }
            else if (net.MinorUnits > 0)
            {
                (SubscriptionResult? failed, credit, paymentId) = await ChargeAfterCreditAsync(s, net, credit, SubscriptionKeys.ForChange(s.Id, offer, now), c)
                    .ConfigureAwait(false);
                if (failed is not null)
                {
                    return Decision.Stop(failed with { Subscription = s });
                }

                applied = Applied(applied, paymentId);
            }
            else
            {
                credit -= net;
            }

            return Decision.To(moved with
            {
                Credit = credit,
                AppliedPayments = applied,
            }, PlanChanged(s, moved, now, moved.DiscountedPrice, net, paymentId, periodEnd: null));
        }, cancellationToken);
    }

    /// <summary>
    /// Moves an active subscription to a plan of another interval (monthly to yearly or back): the unused part of the
    /// current period becomes credit, and a new period of the new plan starts now, charged at once after the credit.
    /// </summary>
    private async Task<Decision> ChangeIntervalAsync(Subscription s, Offer target, SubscriptionTerms terms, Instant now, CancellationToken cancellationToken)
    {
        Money unused = Proration.Unused(s.DiscountedPrice, s.CurrentPeriodStart, s.CurrentPeriodEnd, now);
        Instant end = SubscriptionCalendar.StartOf(now, 1, terms.Interval, ZoneOf(s));
        Subscription moved = s with { Offer = target.Id, Price = target.Price, Interval = terms.Interval, Coupons = CouponsOn(s, target.Id) };
        Money price = moved.NextPeriodPrice;
        moved = moved with { Coupons = UsePeriod(moved.Coupons).Kept };
        Money credit = s.Credit + unused;
        string? paymentId = null;
        ImmutableArray<string> applied = s.AppliedPayments;
        string key = SubscriptionKeys.ForChange(s.Id, target.Id, now);
        if (_billing is not null && s.ProviderSubscriptionId is { } provider)
        {
            // A change of interval restarts the provider's billing cycle too, and the provider prorates it.
            PaymentResult billed = await BillPlanChangeAsync(s, provider, target, terms, key, cancellationToken).ConfigureAwait(false);
            if (NotCollected(billed) is { } refused)
            {
                return Decision.Stop(refused with { Subscription = s });
            }

            paymentId = billed.PaymentId;
            applied = Applied(applied, paymentId);
            credit = s.Credit;
        }
        else
        {
            (SubscriptionResult? failed, credit, paymentId) = await ChargeAfterCreditAsync(s, price, credit, key, cancellationToken).ConfigureAwait(false);
            if (failed is not null)
            {
                return Decision.Stop(failed with { Subscription = s });
            }

            applied = Applied(applied, paymentId);
        }

        return Decision.To(moved with
        {
            Credit = credit,
            AppliedPayments = applied,
            BillingAnchor = now,
            Cycle = 1,
            CurrentPeriodStart = now,
            CurrentPeriodEnd = end,
        }, PlanChanged(s, moved, now, price, price - unused, paymentId, end));
    }

    /// <summary>
    /// Pays <paramref name="amount"/> from the credit first and charges the rest on the saved method, on session.
    /// Returns the refusal when the charge is not collected (the credit is then untouched), else the credit left and
    /// the charge's payment id (<see langword="null"/> when the credit paid it all).
    /// </summary>
    private async Task<(SubscriptionResult? Failed, Money Credit, string? PaymentId)> ChargeAfterCreditAsync(
        Subscription s, Money amount, Money credit, string idempotencyKey, CancellationToken cancellationToken)
    {
        Money used = Min(credit, amount);
        Money due = amount - used;
        if (due.MinorUnits <= 0)
        {
            return (null, credit - used, null);
        }

        PaymentResult charge = await _gateway.ChargeAsync(ChargeFor(s, due, idempotencyKey, offSession: false), cancellationToken).ConfigureAwait(false);
        return NotCollected(charge) is { } failed ? (failed, credit, null) : (null, credit - used, charge.PaymentId);
    }

    /// <summary>Asks the billing provider to move its subscription to <paramref name="target"/>; it prorates and invoices the change.</summary>
    private Task<PaymentResult> BillPlanChangeAsync(
        Subscription s, string provider, Offer target, SubscriptionTerms terms, string idempotencyKey, CancellationToken cancellationToken) =>
        _billing!.UpdateAsync(new ProviderSubscriptionUpdate
        {
            ProviderSubscriptionId = provider,
            Subscription = s.Id,
            Change = ProviderSubscriptionChange.ChangePlan,
            Offer = target.Id,
            Price = target.Price,
            Interval = terms.Interval,
            IdempotencyKey = idempotencyKey,
        }, cancellationToken);

    /// <summary>The event of a plan change from <paramref name="s"/> to <paramref name="moved"/>.</summary>
    private static SubscriptionPlanChanged PlanChanged(
        Subscription s, Subscription moved, Instant now, Money price, Money proration, string? paymentId, Instant? periodEnd) => new()
    {
        Id = EventFor(s, "plan-changed:" + Version(s)),
        LeadId = s.Lead,
        OccurredAt = now,
        Subscription = s.Id,
        FromOffer = s.Offer,
        ToOffer = moved.Offer,
        FromMonthlyAmount = s.MonthlyAmount,
        ToMonthlyAmount = moved.MonthlyAmount,
        Interval = moved.Interval,
        Price = price,
        Proration = proration,
        PaymentId = paymentId,
        PeriodEnd = periodEnd,
    };

    /// <summary>Applies a payment that a provider billing the subscription (Stripe Billing) reports: paid or failed.</summary>
    /// <param name="id">The subscription.</param>
    /// <param name="payment">The reported payment.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// Paid: the trial converted (<see cref="SubscriptionTrialConverted"/>) or the next period renewed
    /// (<see cref="SubscriptionRenewed"/>). Failed: past due (<see cref="SubscriptionPaymentFailed"/> with the provider's
    /// next attempt), or ended (<see cref="SubscriptionEnded"/>) when the provider gave up. A report already applied
    /// (the same payment id, and for a failure the same attempt) changes nothing and records nothing. Rejected for a
    /// paused or ended subscription or an unknown one.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="payment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The payment id is empty, or the attempt is below 1.</exception>
    public Task<SubscriptionResult> ApplyProviderPaymentAsync(SubscriptionId id, ProviderPayment payment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payment);
        ArgumentException.ThrowIfNullOrWhiteSpace(payment.PaymentId, nameof(payment));
        ArgumentOutOfRangeException.ThrowIfLessThan(payment.Attempt, 1, nameof(payment));
        string key = payment.Succeeded ? payment.PaymentId : FailureKey(payment.PaymentId, payment.Attempt);
        return ChangeAsync(id, (s, _, _) =>
        {
            if (s.AppliedPayments.Contains(key) || s.AppliedPayments.Contains(payment.PaymentId))
            {
                return Task.FromResult(Decision.Unchanged);
            }

            if (s.Status is SubscriptionStatus.Ended or SubscriptionStatus.Paused)
            {
                return Task.FromResult(Decision.Reject($"Subscription {id} is {s.Status}; payment '{payment.PaymentId}' does not apply to it."));
            }

            if (!payment.Succeeded && s.Status == SubscriptionStatus.PastDue && payment.Attempt <= s.FailedAttempts)
            {
                // An earlier attempt's failure delivered after a later one's: already superseded.
                return Task.FromResult(Decision.Unchanged);
            }

            DateTimeZone zone = ZoneOf(s);
            Decision decision = payment.Succeeded
                ? Collected(s, payment.Amount, Money.Zero(s.Price.Currency), payment.PaymentId, payment.OccurredAt, zone)
                : Failed(s, payment.Amount, payment.Attempt, payment.Reason, payment.NextAttemptAt, payment.OccurredAt);
            return Task.FromResult(decision with
            {
                Next = decision.Next! with { AppliedPayments = Applied(decision.Next!.AppliedPayments, key) },
            });
        }, cancellationToken);
    }

    /// <summary>Renews, converts, lapses, retries, ends and resumes every subscription due now, and retries pending grants.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of subscriptions changed.</returns>
    /// <remarks>
    /// Reads <see cref="SubscriptionOptions.BatchSize"/> due subscriptions at a time until none is due, catching up on
    /// every period missed. A subscription whose charge throws <see cref="PaymentGatewayException"/> (or whose grantor
    /// throws) is left as it was and skipped for the rest of the run; the others go on, and the first such exception is
    /// thrown at the end so the job runner reports it. The next run retries it with the same idempotency key.
    /// </remarks>
    /// <exception cref="PaymentGatewayException">The provider failed for at least one subscription.</exception>
    public async Task<int> ProcessDueAsync(CancellationToken cancellationToken = default)
    {
        Instant now = _clock.GetCurrentInstant();
        var skipped = new HashSet<SubscriptionId>();
        var changed = new HashSet<SubscriptionId>();
        ExceptionDispatchInfo? first = null;
        while (true)
        {
            ImmutableArray<Subscription> due = await _store.FindDueAsync(now, _options.BatchSize, cancellationToken).ConfigureAwait(false);
            Subscription[] todo = [.. due.Where(s => !skipped.Contains(s.Id))];
            if (todo.Length == 0)
            {
                break;
            }

            foreach (Subscription subscription in todo)
            {
                try
                {
                    if (await ProcessAsync(subscription.Id, now, cancellationToken).ConfigureAwait(false))
                    {
                        changed.Add(subscription.Id);
                    }
                    else
                    {
                        skipped.Add(subscription.Id);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    first ??= ExceptionDispatchInfo.Capture(e);
                    skipped.Add(subscription.Id);
                }
            }
        }

        first?.Throw();
        return changed.Count;
    }

    /// <summary>Takes every step due for one subscription, then brings its access in line.</summary>
    private async Task<bool> ProcessAsync(SubscriptionId id, Instant now, CancellationToken cancellationToken)
    {
        bool changed = false;
        Subscription? current = null;
        for (int step = 0; step < MaxStepsPerRun; step++)
        {
            current = await _store.FindAsync(id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return changed;
            }

            Decision? decision = await StepAsync(current, now, cancellationToken).ConfigureAwait(false);
            if (decision?.Next is not { } next)
            {
                break;
            }

            if (!await _store.TryUpdateAsync(current, next, cancellationToken).ConfigureAwait(false))
            {
                continue; // another instance moved it first: read it again
            }

            changed = true;
            await _log.AppendAsync(decision.Events, cancellationToken).ConfigureAwait(false);
        }

        current = await _store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (current is not null && Wanted(current) != current.AccessGrantedFor)
        {
            await SyncAccessAsync(current, cancellationToken).ConfigureAwait(false);
            changed = true;
        }

        return changed;
    }

    /// <summary>Decides the job's next step for a subscription, charging when a period is due; <see langword="null"/> when nothing is due.</summary>
    private async Task<Decision?> StepAsync(Subscription s, Instant now, CancellationToken cancellationToken)
    {
        switch (s.Status)
        {
            case SubscriptionStatus.Paused when s.PausedUntil is { } until && until <= now:
                return await ResumeStepAsync(s, until, now, cancellationToken).ConfigureAwait(false);
            case SubscriptionStatus.Trialing or SubscriptionStatus.Active when s.CurrentPeriodEnd <= now:
                if (s.CancelAtPeriodEnd)
                {
                    return End(s, s.PeriodsPaid == 0 ? SubscriptionEndReason.TrialLapsed : SubscriptionEndReason.CanceledAtPeriodEnd, s.CurrentPeriodEnd);
                }

                if (s.ProviderSubscriptionId is not null)
                {
                    return null;
                }

                if (s.Status == SubscriptionStatus.Trialing && s.PaymentMethod is null)
                {
                    return End(s, SubscriptionEndReason.TrialLapsed, s.CurrentPeriodEnd);
                }

                return await CollectAsync(s, 1, now, cancellationToken).ConfigureAwait(false);
            case SubscriptionStatus.PastDue when s.ProviderSubscriptionId is null && s.NextAttemptAt is { } next && next <= now:
                return await CollectAsync(s, s.FailedAttempts + 1, now, cancellationToken).ConfigureAwait(false);
            default:
                return null;
        }
    }

    /// <summary>Charges the period due (after the credit) and returns it collected or failed.</summary>
    private async Task<Decision> CollectAsync(Subscription s, int attempt, Instant now, CancellationToken cancellationToken)
    {
        DateTimeZone zone = ZoneOf(s);
        Money credit = Min(s.Credit, s.NextPeriodPrice);
        Money amount = s.NextPeriodPrice - credit;
        if (amount.MinorUnits == 0)
        {
            return Collected(s, amount, credit, CreditPaymentId, now, zone);
        }

        if (s.PaymentMethod is null)
        {
            return Failed(s, amount, attempt, "no_payment_method", RetryAt(attempt, now), now);
        }

        PaymentResult charge = await _gateway.ChargeAsync(
            ChargeFor(s, amount, SubscriptionKeys.ForPeriod(s.Id, s.CurrentPeriodEnd, attempt), offSession: true), cancellationToken)
            .ConfigureAwait(false);
        if (charge.Outcome == PaymentOutcome.Succeeded)
        {
            Decision collected = Collected(s, amount, credit, charge.PaymentId ?? SubscriptionKeys.ForPeriod(s.Id, s.CurrentPeriodEnd, attempt), now, zone);
            return collected with { Next = collected.Next! with { AppliedPayments = Applied(collected.Next.AppliedPayments, charge.PaymentId) } };
        }

        string reason = charge.DeclineCode ?? (charge.Outcome == PaymentOutcome.RequiresAction ? "authentication_required" : "declined");
        return Failed(s, amount, attempt, reason, RetryAt(attempt, now), now);
    }

    /// <summary>Resumes a paused subscription at <paramref name="at"/>: a new period from there, charged at once (<paramref name="now"/>, which times any retry).</summary>
    private async Task<Decision> ResumeStepAsync(Subscription s, Instant at, Instant now, CancellationToken cancellationToken)
    {
        DateTimeZone zone = ZoneOf(s);
        Subscription restarted = s with
        {
            Status = SubscriptionStatus.Active,
            PausedAt = null,
            PausedUntil = null,
            BillingAnchor = at,
            Cycle = 0,
            CurrentPeriodStart = at,
            CurrentPeriodEnd = at,
        };
        var resumed = new SubscriptionResumed
        {
            Id = EventFor(s, "resumed:" + Ticks(at)),
            LeadId = s.Lead,
            OccurredAt = at,
            Subscription = s.Id,
            Offer = s.Offer,
            MonthlyAmount = s.MonthlyAmount,
            PeriodEnd = SubscriptionCalendar.StartOf(at, 1, s.Interval, zone),
        };
        Decision collected = s.ProviderSubscriptionId is null
            ? await CollectAsync(restarted, 1, now, cancellationToken).ConfigureAwait(false)
            : Decision.To(restarted with { CurrentPeriodEnd = resumed.PeriodEnd, Cycle = 1 });
        return collected with { Events = collected.Events.Insert(0, resumed) };
    }

    /// <summary>The period due was paid: the subscription runs another period (a trial converts).</summary>
    private static Decision Collected(Subscription s, Money amount, Money creditUsed, string paymentId, Instant now, DateTimeZone zone)
    {
        Instant start = s.CurrentPeriodEnd;
        Instant end = SubscriptionCalendar.StartOf(s.BillingAnchor, s.Cycle + 1, s.Interval, zone);
        (ImmutableArray<SubscriptionCoupon> coupons, ImmutableArray<string> ended) = UsePeriod(s.Coupons);
        Subscription next = s with
        {
            Coupons = coupons,
            Status = SubscriptionStatus.Active,
            CurrentPeriodStart = start,
            CurrentPeriodEnd = end,
            Cycle = s.Cycle + 1,
            PeriodsPaid = s.PeriodsPaid + 1,
            Credit = s.Credit - creditUsed,
            FailedAttempts = 0,
            NextAttemptAt = null,
        };
        EventId id = EventFor(s, "paid:" + Ticks(start));
        FunnelEvent paid = s.PeriodsPaid == 0
            ? new SubscriptionTrialConverted
            {
                Id = id,
                LeadId = s.Lead,
                OccurredAt = now,
                Subscription = s.Id,
                Offer = s.Offer,
                Amount = amount,
                MonthlyAmount = next.MonthlyAmount,
                PeriodEnd = end,
                PaymentId = paymentId,
            }
            : new SubscriptionRenewed
            {
                Id = id,
                LeadId = s.Lead,
                OccurredAt = now,
                Subscription = s.Id,
                Offer = s.Offer,
                Amount = amount,
                PeriodStart = start,
                PeriodEnd = end,
                PaymentId = paymentId,
            };
        if (ended.IsEmpty)
        {
            return Decision.To(next, paid);
        }

        return Decision.To(next, paid, new SubscriptionDiscountEnded
        {
            Id = EventFor(s, "discount-ended:" + Ticks(start)),
            LeadId = s.Lead,
            OccurredAt = now,
            Subscription = s.Id,
            Offer = s.Offer,
            Coupons = ended,
            FromMonthlyAmount = s.MonthlyAmount,
            ToMonthlyAmount = next.MonthlyAmount,
        });
    }

    /// <summary>An attempt at the period due failed: past due until <paramref name="retryAt"/>, or ended when there is none.</summary>
    private static Decision Failed(Subscription s, Money amount, int attempt, string? reason, Instant? retryAt, Instant now)
    {
        var failed = new SubscriptionPaymentFailed
        {
            Id = EventFor(s, "failed:" + Ticks(s.CurrentPeriodEnd) + ":" + attempt.ToString(CultureInfo.InvariantCulture)),
            LeadId = s.Lead,
            OccurredAt = now,
            Subscription = s.Id,
            Offer = s.Offer,
            Amount = amount,
            Attempt = attempt,
            Reason = reason,
            NextAttemptAt = retryAt,
        };
        Subscription pastDue = s with { Status = SubscriptionStatus.PastDue, FailedAttempts = attempt, NextAttemptAt = retryAt };
        if (retryAt is not null)
        {
            return Decision.To(pastDue, failed);
        }

        Decision ended = End(pastDue, s.PeriodsPaid == 0 ? SubscriptionEndReason.TrialLapsed : SubscriptionEndReason.PaymentFailed, now);
        return ended with { Events = ended.Events.Insert(0, failed) };
    }

    /// <summary>Ends a subscription at <paramref name="at"/>.</summary>
    private static Decision End(Subscription s, SubscriptionEndReason reason, Instant at) =>
        Decision.To(s with
        {
            Status = SubscriptionStatus.Ended,
            EndedAt = at,
            EndReason = reason,
            CancelAtPeriodEnd = false,
            NextAttemptAt = null,
            PausedUntil = null,
        }, new SubscriptionEnded
        {
            Id = EventFor(s, "ended"),
            LeadId = s.Lead,
            OccurredAt = at,
            Subscription = s.Id,
            Offer = s.Offer,
            Reason = reason,
            MonthlyAmount = s.MonthlyAmount,
        });

    /// <summary>Reads, decides (possibly charging) and writes one subscription with optimistic concurrency, then records the events and syncs access.</summary>
    private async Task<SubscriptionResult> ChangeAsync(SubscriptionId id, Func<Subscription, Instant, CancellationToken, Task<Decision>> decide,
        CancellationToken cancellationToken)
    {
        Instant now = _clock.GetCurrentInstant();
        (SubscriptionResult? early, Subscription? stored, ImmutableArray<FunnelEvent> events) = await OptimisticConcurrency.RetryAsync(
            async c =>
            {
                Subscription? current = await _store.FindAsync(id, c).ConfigureAwait(false);
                if (current is null)
                {
                    return (true, (Rejected($"There is no subscription {id}."), (Subscription?)null, ImmutableArray<FunnelEvent>.Empty));
                }

                Decision decision = await decide(current, now, c).ConfigureAwait(false);
                if (decision.Result is { } result)
                {
                    return (true, (result with { Subscription = result.Subscription ?? current }, null, ImmutableArray<FunnelEvent>.Empty));
                }

                if (decision.Next is not { } next)
                {
                    return (true, (Done(current, []), null, ImmutableArray<FunnelEvent>.Empty));
                }

                bool written = await _store.TryUpdateAsync(current, next, c).ConfigureAwait(false);
                return (written, ((SubscriptionResult?)null, (Subscription?)(next with { Version = current.Version + 1 }), decision.Events));
            },
            $"Subscription {id}",
            cancellationToken).ConfigureAwait(false);
        if (early is not null)
        {
            return early;
        }

        await _log.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        Subscription synced = await SyncAccessQuietlyAsync(stored!, cancellationToken).ConfigureAwait(false);
        return Done(synced, events);
    }

    /// <summary>Brings access in line with the status; a grantor failure leaves it pending for the job.</summary>
    private async Task<Subscription> SyncAccessQuietlyAsync(Subscription s, CancellationToken cancellationToken)
    {
        try
        {
            return await SyncAccessAsync(s, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return s; // pending: Subscription.DueAt makes the job retry it
        }
    }

    /// <summary>Grants the wanted plan's products, revokes the rest of the granted plan's, and records what is granted.</summary>
    private async Task<Subscription> SyncAccessAsync(Subscription s, CancellationToken cancellationToken)
    {
        OfferId? wanted = Wanted(s);
        if (wanted == s.AccessGrantedFor)
        {
            return s;
        }

        ImmutableArray<string> keep = wanted is { } w ? ProductsOf(w) : [];
        if (wanted is { } grant)
        {
            foreach (string product in keep)
            {
                await _grantor.GrantAsync(EntitlementOf(s, grant, product), cancellationToken).ConfigureAwait(false);
            }
        }

        if (s.AccessGrantedFor is { } revoke)
        {
            foreach (string product in ProductsOf(revoke).Where(p => !keep.Contains(p)))
            {
                await _grantor.RevokeAsync(EntitlementOf(s, revoke, product), cancellationToken).ConfigureAwait(false);
            }
        }

        OptimisticConcurrency.Update<Subscription> update = await OptimisticConcurrency.UpdateAsync(
            c => _store.FindAsync(s.Id, c),
            current => current is null || current.AccessGrantedFor == wanted ? null : current with { AccessGrantedFor = wanted },
            null,
            (current, next, c) => _store.TryUpdateAsync(current, next, c),
            (current, next) => next with { Version = current.Version + 1 },
            $"Subscription {s.Id}",
            cancellationToken).ConfigureAwait(false);
        return update.After ?? s;
    }

    private static OfferId? Wanted(Subscription s) => s.HasAccess ? (OfferId?)s.Offer : null;

    private Entitlement EntitlementOf(Subscription s, OfferId offer, string product) =>
        new(s.Lead, OrderOf(s.Id), offer, product, _prices.Catalogue.Products.FirstOrDefault(p => p.Key == product)?.Kind ?? ProductKind.Course);

    private ImmutableArray<string> ProductsOf(OfferId offer) => _prices.Catalogue.FindOffer(offer)?.Products ?? [];

    private (Offer Offer, SubscriptionTerms Terms) Recurring(OfferId id, string parameter)
    {
        Offer offer = _prices.Catalogue.FindOffer(id) ?? throw new ArgumentException($"Offer '{id}' is not in the catalogue.", parameter);
        return offer.Recurring is { } terms
            ? (offer, terms)
            : throw new ArgumentException($"Offer '{id}' is not recurring: set Offer.Recurring to sell it as a subscription.", parameter);
    }

    private static Subscription New(SubscriptionRequest request, Offer offer, SubscriptionTerms terms, Instant now) => new()
    {
        Id = request.Id,
        Lead = request.Lead,
        Offer = offer.Id,
        Status = SubscriptionStatus.Active,
        Price = offer.Price,
        Interval = terms.Interval,
        TimeZoneId = request.BuyerZone.Id,
        StartedAt = now,
        BillingAnchor = now,
        CurrentPeriodStart = now,
        CurrentPeriodEnd = now,
        PaymentMethod = string.IsNullOrWhiteSpace(request.PaymentMethod) ? null : request.PaymentMethod,
        Customer = request.Customer,
        Credit = Money.Zero(offer.Price.Currency),
    };

    private static ChargeRequest ChargeFor(Subscription s, Money amount, string key, bool offSession) => new()
    {
        Order = OrderOf(s.Id),
        Lead = s.Lead,
        Amount = amount,
        PaymentMethod = s.PaymentMethod ?? throw new InvalidOperationException($"Subscription {s.Id} has no payment method."),
        Customer = s.Customer,
        IdempotencyKey = key,
        OffSession = offSession,
    };

    private Instant? RetryAt(int attempt, Instant now) =>
        attempt <= _dunning.RetryAfter.Length ? now + _dunning.RetryAfter[attempt - 1] : null;

    private DateTimeZone ZoneOf(Subscription s) => _zones.GetZoneOrNull(s.TimeZoneId) ?? DateTimeZone.Utc;

    private static SubscriptionResult? NotCollected(PaymentResult charge) => charge.Outcome switch
    {
        PaymentOutcome.Succeeded => null,
        PaymentOutcome.RequiresAction => new SubscriptionResult { Outcome = SubscriptionOutcome.RequiresAction, ActionToken = charge.ActionToken },
        _ => new SubscriptionResult { Outcome = SubscriptionOutcome.Declined, DeclineCode = charge.DeclineCode },
    };

    private static ImmutableArray<string> Applied(ImmutableArray<string> applied, string? key)
    {
        if (key is null || applied.Contains(key))
        {
            return applied;
        }

        ImmutableArray<string> added = applied.Add(key);
        return added.Length > Subscription.MaxAppliedPayments ? added.RemoveRange(0, added.Length - Subscription.MaxAppliedPayments) : added;
    }

    private static string FailureKey(string paymentId, int attempt) => paymentId + "#failed#" + attempt.ToString(CultureInfo.InvariantCulture);

    private static Money Min(Money a, Money b) => a.MinorUnits <= b.MinorUnits ? a : b;

    /// <summary>Checks the coupons of a start by the price book's rules and redeems each against its limits; releases them all when one is refused.</summary>
    private async Task<(ImmutableArray<SubscriptionCoupon> Coupons, SubscriptionResult? Rejected)> RedeemCouponsAsync(LeadId lead, Offer offer,
        ImmutableArray<string> codes, Instant now, CancellationToken cancellationToken)
    {
        if (codes.IsEmpty)
        {
            return ([], null);
        }

        (ImmutableArray<AppliedCoupon> applied, ImmutableArray<CouponRejection> refused) = _prices.PricePeriod(offer.Id, codes, now);
        if (!refused.IsEmpty)
        {
            return ([], CouponsRejected(offer.Id, refused));
        }

        var redeemed = ImmutableArray.CreateBuilder<SubscriptionCoupon>(applied.Length);
        foreach (AppliedCoupon a in applied)
        {
            Coupon coupon = _prices.FindCoupon(a.Code)!;
            bool limited = coupon.MaxRedemptions is not null || coupon.MaxRedemptionsPerLead is not null;
            bool ok = _couponRedemptions is { } store
                ? await store.TryRedeemAsync(coupon.Code, lead, coupon.MaxRedemptions, coupon.MaxRedemptionsPerLead, cancellationToken).ConfigureAwait(false)
                : !limited;
            if (!ok)
            {
                await ReleaseCouponsAsync(lead, redeemed.ToImmutable()).ConfigureAwait(false);
                return ([], CouponsRejected(offer.Id, [new CouponRejection(a.Code, CouponRejectionReason.LimitReached)]));
            }

            redeemed.Add(new SubscriptionCoupon
            {
                Code = coupon.Code,
                AmountOff = a.Discount,
                PeriodsLeft = coupon.Duration switch
                {
                    CouponDuration.Forever => null,
                    CouponDuration.Repeating => coupon.DurationInPeriods,
                    _ => 1,
                },
            });
        }

        return (redeemed.ToImmutable(), null);
    }

    /// <summary>Gives back the redemptions of a start that stored nothing; a lost release only wastes one redemption, so it does not cancel.</summary>
    private async Task ReleaseCouponsAsync(LeadId lead, ImmutableArray<SubscriptionCoupon> coupons)
    {
        if (_couponRedemptions is not { } store)
        {
            return;
        }

        foreach (SubscriptionCoupon coupon in coupons)
        {
            await store.ReleaseAsync(coupon.Code, lead, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static SubscriptionResult CouponsRejected(OfferId offer, ImmutableArray<CouponRejection> refused) =>
        Rejected($"Not started: {string.Join("; ", refused.Select(r => $"coupon '{r.Code}' {Why(r.Reason)}"))} for '{offer}'.") with
        {
            RejectedCoupons = refused,
        };

    private static string Why(CouponRejectionReason reason) => reason switch
    {
        CouponRejectionReason.Unknown => "is unknown (Unknown)",
        CouponRejectionReason.NotStarted => "is not valid yet (NotStarted)",
        CouponRejectionReason.Expired => "has expired (Expired)",
        CouponRejectionReason.NotApplicable => "does not apply (NotApplicable)",
        CouponRejectionReason.NotCombinable => "does not combine with the coupon before it (NotCombinable)",
        CouponRejectionReason.Duplicate => "was entered twice (Duplicate)",
        CouponRejectionReason.NotInCurrency => "has no amount off in the plan's currency (NotInCurrency)",
        CouponRejectionReason.LimitReached => "has reached its redemption limit (LimitReached)",
        _ => "was refused (" + reason.ToString() + ")",
    };

    /// <summary>
    /// The coupons of a subscription that carry over to another plan: those that apply to it, priced for its price by the
    /// price book's rules as at the start (when they were accepted), each keeping the periods it had left.
    /// </summary>
    private ImmutableArray<SubscriptionCoupon> CouponsOn(Subscription s, OfferId offer)
    {
        if (s.Coupons.IsDefaultOrEmpty)
        {
            return [];
        }

        (ImmutableArray<AppliedCoupon> applied, _) = _prices.PricePeriod(offer, [.. s.Coupons.Select(c => c.Code)], s.StartedAt);
        return [.. applied.Select(a => s.Coupons.First(c => string.Equals(c.Code, a.Code, StringComparison.OrdinalIgnoreCase)) with { AmountOff = a.Discount })];
    }

    /// <summary>A paid period starts: each coupon uses one of its periods; those that had none left end.</summary>
    private static (ImmutableArray<SubscriptionCoupon> Kept, ImmutableArray<string> Ended) UsePeriod(ImmutableArray<SubscriptionCoupon> coupons)
    {
        if (coupons.IsDefaultOrEmpty)
        {
            return ([], []);
        }

        return ([.. coupons.Where(c => c.PeriodsLeft is not 0).Select(c => c.PeriodsLeft is int n ? c with { PeriodsLeft = n - 1 } : c)],
            [.. coupons.Where(c => c.PeriodsLeft is 0).Select(c => c.Code)]);
    }

    private static OrderId OrderOf(SubscriptionId id) => new(id.Value);

    private static EventId EventFor(Subscription s, string name) => EventId.Derive(new EventId(s.Id.Value), "subscription:" + name);

    private static string Ticks(Instant instant) => instant.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture);

    private static string Version(Subscription s) => s.Version.ToString(CultureInfo.InvariantCulture);

    private static SubscriptionResult Done(Subscription s, ImmutableArray<FunnelEvent> events) =>
        new() { Outcome = SubscriptionOutcome.Succeeded, Subscription = s, Events = events };

    private static SubscriptionResult Rejected(string reason, Subscription? s = null) =>
        new() { Outcome = SubscriptionOutcome.Rejected, Reason = reason, Subscription = s };

    /// <summary>What one step decided: a result to return as is, or the next state with its events (no state: nothing to do).</summary>
    private sealed record Decision(SubscriptionResult? Result, Subscription? Next, ImmutableArray<FunnelEvent> Events)
    {
        public static Decision Unchanged { get; } = new(null, null, []);

        public static Decision To(Subscription next, params ImmutableArray<FunnelEvent> events) => new(null, next, events);

        public static Decision Reject(string reason) => new(Rejected(reason), null, []);

        public static Decision Stop(SubscriptionResult result) => new(result, null, []);
    }
}
