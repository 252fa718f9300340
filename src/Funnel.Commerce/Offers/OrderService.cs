using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Offers;

/// <summary>Why a checkout could not start or an order could not be placed; an expected outcome, not an error.</summary>
public enum OrderRejection
{
    /// <summary>A limited offer in the cart has no free seat.</summary>
    SoldOut = 0,

    /// <summary>An offer in the cart can no longer be bought: its deadline passed for this lead.</summary>
    DeadlinePassed = 1,

    /// <summary>A coupon reached its redemption limit, overall or for this lead.</summary>
    CouponLimitReached = 2,

    /// <summary>A seat hold expired before the order was placed and the seat went to someone else.</summary>
    SeatExpired = 3,

    /// <summary>The buyer's location evidence conflicts or is missing, so the tax cannot be charged; see <see cref="Checkout.PlaceOfSupply"/>.</summary>
    /// <remarks>Ask the buyer to confirm their country (for instance their billing address) and start a new checkout.</remarks>
    LocationUnresolved = 4,

    /// <summary>An offer has no price in the currency the buyer picked (<see cref="Cart.Currency"/>), or an upsell none in its parent order's currency.</summary>
    /// <remarks>Offer the buyer the currencies of <see cref="PriceBook.Currencies"/> the offers are priced in (<see cref="Offer.PriceIn"/>).</remarks>
    CurrencyNotOffered = 5,
}

/// <summary>A started checkout: the quote shown to the buyer and the seats held for them.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Checkout
{
    /// <summary>Gets the buyer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the quote, or <see langword="null"/> when the checkout was rejected.</summary>
    public Quote? Quote { get; init; }

    /// <summary>Gets the seats held on limited offers until the order is placed.</summary>
    public ImmutableArray<SeatReservation> Seats { get; init; } = [];

    /// <summary>Gets why the checkout could not start, or <see langword="null"/> when it started.</summary>
    public OrderRejection? Rejection { get; init; }

    /// <summary>Gets where the sale is taxed, or why that is not settled, when a tax calculator is registered.</summary>
    /// <value><see langword="null"/> when no tax was calculated; otherwise also in <see cref="Quote.Tax"/> when the checkout started.</value>
    public Tax.PlaceOfSupply? PlaceOfSupply { get; init; }

    /// <summary>Gets the events this call recorded, such as <see cref="CheckoutStarted"/>.</summary>
    /// <remarks>They are already in the <see cref="IFunnelEventLog"/>; do not append them again.</remarks>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];
}

/// <summary>The outcome of an order operation: the order after it, or why it was rejected, and the events it recorded.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OrderResult
{
    /// <summary>Gets the order after the operation, or <see langword="null"/> when rejected.</summary>
    public Order? Order { get; init; }

    /// <summary>Gets why the operation was rejected, or <see langword="null"/> when it succeeded.</summary>
    public OrderRejection? Rejection { get; init; }

    /// <summary>Gets the funnel events this operation recorded.</summary>
    /// <remarks>They are already in the <see cref="IFunnelEventLog"/>; do not append them again.</remarks>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];

    /// <summary>Gets the error the <see cref="IEntitlementGrantor"/> threw, when a grant or revocation failed.</summary>
    /// <remarks>
    /// The operation itself (the payment or refund) is recorded; the failed entitlement and those after it stay in
    /// <see cref="Order.PendingGrants"/> or <see cref="Order.PendingRevocations"/> until
    /// <see cref="OrderService.RetryEntitlementsAsync"/> gets them through.
    /// </remarks>
    /// <value><see langword="null"/> when every grant and revocation went through.</value>
    public Exception? EntitlementError { get; init; }
}

/// <summary>The outcome of declining an upsell: the next offer of the path and the events recorded.</summary>
/// <param name="Next">The downsell to show next, or <see langword="null"/> when the path ends.</param>
/// <param name="Events">The events this call recorded, an <see cref="UpsellDeclined"/>; already in the <see cref="IFunnelEventLog"/>, do not append them again.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record UpsellDecision(OfferId? Next, ImmutableArray<FunnelEvent> Events);

/// <summary>Runs checkouts and orders: quotes, seats, deadlines, coupons, one-click upsells, payments, entitlements and refunds.</summary>
/// <remarks>
/// <para>
/// Every method appends the funnel events it causes to the <see cref="IFunnelEventLog"/> itself, right after the state
/// change that caused them, and returns them as a description only: a caller never appends them again. Events caused by
/// a provider's payment, refund or dispute get ids derived from the provider's id, so recording the same payment twice
/// (a charge answered at once and then by webhook, or a replayed webhook) appends nothing twice. "Now" comes from the <see cref="IClock"/>. A payment provider (a separate package) calls
/// <see cref="RecordPaymentAsync"/> when money is collected and <see cref="RefundAsync"/> when it is returned.
/// </para>
/// <para>
/// Entitlements are granted through <see cref="IEntitlementGrantor"/> when the first payment of an order is
/// recorded (the first installment of a plan). A refund revokes the entitlements of the offers named; a refund
/// that brings the refunded amount up to the paid amount revokes everything and frees the order's seats. Each
/// grant and revocation is stored as pending before the grantor is called and cleared once it went through; when the
/// grantor throws, the payment or refund stays recorded, the result carries <see cref="OrderResult.EntitlementError"/>,
/// and <see cref="RetryEntitlementsAsync"/> finishes the job later. Within one process, the grants and revocations of an
/// order are handed to the grantor by one caller at a time, and each <see cref="EntitlementGranted"/> or
/// <see cref="EntitlementRevoked"/> is reported once, by the caller that cleared it from the stored order. Across
/// processes two callers may both hand the same pending entitlement to the grantor, which is why its calls must be
/// idempotent.
/// </para>
/// <para>
/// Seats of limited offers are held when the checkout starts and confirmed when the order is placed; a checkout
/// that is never placed, or is rejected, keeps its holds until they lapse after <see cref="SeatLimit.HoldFor"/>.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; concurrent changes to one order are serialised by the store's version check.</threadsafety>
public sealed partial class OrderService
{
    private readonly SemaphoreSlim[] entitlementLocks = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly PriceBook prices;
    private readonly OfferPath path;
    private readonly IOrderStore orders;
    private readonly IEntitlementGrantor grantor;
    private readonly ICouponRedemptionStore couponRedemptions;
    private readonly ISeatInventory seats;
    private readonly DeadlineTracker deadlines;
    private readonly IClock clock;
    private readonly IFunnelEventLog log;
    private readonly Dictionary<string, ProductKind> productKinds;
    private readonly Tax.ITaxCalculator? tax;

    /// <summary>Initializes the service.</summary>
    /// <param name="prices">The compiled catalogue.</param>
    /// <param name="path">The offer path; validated against the catalogue.</param>
    /// <param name="orders">The order store.</param>
    /// <param name="grantor">Grants and revokes access to products.</param>
    /// <param name="couponRedemptions">Counts coupon redemptions.</param>
    /// <param name="seats">Counts seats of limited offers.</param>
    /// <param name="deadlines">Tells whether offers' and bonuses' deadlines passed.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <param name="tax">Calculates the tax of checkouts and upsells, or <see langword="null"/> to charge no tax.</param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="tax"/> is <see langword="null"/>.</exception>
    /// <exception cref="FluentValidation.ValidationException"><paramref name="path"/> is not valid for the catalogue.</exception>
    public OrderService(PriceBook prices, OfferPath path, IOrderStore orders, IEntitlementGrantor grantor,
        ICouponRedemptionStore couponRedemptions, ISeatInventory seats, DeadlineTracker deadlines, IClock clock,
        IFunnelEventLog log, Tax.ITaxCalculator? tax = null)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(grantor);
        ArgumentNullException.ThrowIfNull(couponRedemptions);
        ArgumentNullException.ThrowIfNull(seats);
        ArgumentNullException.ThrowIfNull(deadlines);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        FluentValidation.DefaultValidatorExtensions.ValidateAndThrow(new OfferPathValidator(prices.Catalogue), path);
        this.prices = prices;
        this.path = path;
        this.orders = orders;
        this.grantor = grantor;
        this.couponRedemptions = couponRedemptions;
        this.seats = seats;
        this.deadlines = deadlines;
        this.clock = clock;
        this.log = log;
        this.tax = tax;
        productKinds = prices.Catalogue.Products.ToDictionary(p => p.Key, p => p.Kind, StringComparer.Ordinal);
    }

    /// <summary>Gets the offer path.</summary>
    public OfferPath Path => path;

    /// <summary>Prices a cart for a lead, checks deadlines and holds seats of limited offers.</summary>
    /// <param name="lead">The buyer.</param>
    /// <param name="cart">The cart.</param>
    /// <param name="buyerZone">The buyer's time zone, for the installment calendar.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The checkout with a <see cref="CheckoutStarted"/> event, or a rejection (<see cref="OrderRejection.SoldOut"/>, <see cref="OrderRejection.DeadlinePassed"/>, <see cref="OrderRejection.LocationUnresolved"/>, <see cref="OrderRejection.CurrencyNotOffered"/>).</returns>
    /// <remarks>
    /// The quote is in the currency <see cref="PriceBook.ChooseCurrency"/> chooses; a currency the buyer picked that an
    /// offer of the cart has no price in rejects the checkout with <see cref="OrderRejection.CurrencyNotOffered"/>.
    /// With a tax calculator, the quote is taxed for <see cref="Cart.Buyer"/> before any seat is held.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="cart"/> or <paramref name="buyerZone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The cart is not valid for the catalogue (see <see cref="PriceBook.Price"/>).</exception>
    public async Task<Checkout> StartCheckoutAsync(LeadId lead, Cart cart, DateTimeZone buyerZone, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cart);
        if (cart.Currency is { } picked && prices.FirstUnpriced(cart, picked) is not null)
        {
            return new Checkout { Lead = lead, Rejection = OrderRejection.CurrencyNotOffered };
        }

        Instant now = clock.GetCurrentInstant();
        Quote quote = prices.Price(cart, now, buyerZone);
        (quote, Tax.PlaceOfSupply? place) = await TaxAsync(quote, cart.Buyer, cancellationToken).ConfigureAwait(false);
        if (place is { Status: not Tax.PlaceOfSupplyStatus.Determined })
        {
            return new Checkout { Lead = lead, Rejection = OrderRejection.LocationUnresolved, PlaceOfSupply = place };
        }

        if (await AnyDeadlinePassedAsync(lead, quote, cancellationToken).ConfigureAwait(false))
        {
            return new Checkout { Lead = lead, Rejection = OrderRejection.DeadlinePassed, PlaceOfSupply = place };
        }

        ImmutableArray<SeatReservation>? held = await HoldSeatsAsync(lead, quote, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            return new Checkout { Lead = lead, Rejection = OrderRejection.SoldOut, PlaceOfSupply = place };
        }

        var recording = new Recording(null);
        await RecordAsync(recording, [new CheckoutStarted { LeadId = lead, OccurredAt = now, Offer = quote.Lines[0].Offer }]).ConfigureAwait(false);
        return new Checkout { Lead = lead, Quote = quote, Seats = held.Value, Events = recording.Events.ToImmutable(), PlaceOfSupply = place };
    }

    /// <summary>Places the order of a started checkout: confirms seats, redeems coupons and stores the order awaiting payment.</summary>
    /// <param name="checkout">A checkout from <see cref="StartCheckoutAsync"/>.</param>
    /// <param name="paymentMethod">The reference of the buyer's payment method on file (a provider token), for one-click upsells and installments.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The order with <see cref="OrderPlaced"/> and one <see cref="AddOnAccepted"/> per bump or cross-sell line, or a rejection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="checkout"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="checkout"/> was rejected and has no quote.</exception>
    public Task<OrderResult> PlaceOrderAsync(Checkout checkout, string? paymentMethod, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkout);
        if (checkout.Quote is null)
        {
            throw new ArgumentException($"The checkout was rejected ({checkout.Rejection}); start a new one.", nameof(checkout));
        }

        return PlaceAsync(checkout.Lead, checkout.Quote, checkout.Seats, paymentMethod, upsellOf: null, [], null, cancellationToken);
    }

    /// <summary>Accepts a post-purchase upsell with one click: a new order charged to the parent order's payment method on file.</summary>
    /// <param name="parentOrder">The order whose purchase the upsell follows.</param>
    /// <param name="upsell">The upsell, or a downsell reached by declining; it must follow the parent's main offer in the path.</param>
    /// <param name="buyerZone">The buyer's time zone, for the installment calendar of a payment plan.</param>
    /// <param name="paymentPlan">The key of one of the upsell's payment plans, or <see langword="null"/> to pay once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The new order (awaiting payment) with <see cref="UpsellAccepted"/> and <see cref="OrderPlaced"/>, or a rejection.</returns>
    /// <remarks>
    /// The upsell is quoted in the parent order's currency; an upsell with no price in it is rejected with
    /// <see cref="OrderRejection.CurrencyNotOffered"/>. With a tax calculator, the upsell is taxed with the parent
    /// order's evidence and VAT number; a parent placed without tax has neither, so the upsell is rejected with
    /// <see cref="OrderRejection.LocationUnresolved"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="buyerZone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The parent order is unknown, or <paramref name="upsell"/> does not follow its main offer in the path.</exception>
    /// <exception cref="InvalidOperationException">The parent order has no payment method on file.</exception>
    public async Task<OrderResult> AcceptUpsellAsync(OrderId parentOrder, OfferId upsell, DateTimeZone buyerZone, string? paymentPlan = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buyerZone);
        Order parent = await PostPurchaseParentAsync(parentOrder, upsell, cancellationToken).ConfigureAwait(false);
        if (parent.PaymentMethod is null)
        {
            throw new InvalidOperationException($"Order {parent.Id} has no payment method on file, so upsell '{upsell}' cannot be charged with one click.");
        }

        var cart = new Cart { Lines = [new CartLine(upsell, 1, paymentPlan)], Currency = parent.Total.Currency };
        if (prices.FirstUnpriced(cart, parent.Total.Currency) is not null)
        {
            return new OrderResult { Rejection = OrderRejection.CurrencyNotOffered };
        }

        Instant now = clock.GetCurrentInstant();
        Quote quote = prices.Price(cart, now, buyerZone);
        Tax.BuyerTaxDetails? buyer = parent.Tax is { } parentTax
            ? new Tax.BuyerTaxDetails { Evidence = parentTax.PlaceOfSupply.Evidence, VatNumber = parentTax.VatNumber }
            : null;
        (quote, Tax.PlaceOfSupply? place) = await TaxAsync(quote, buyer, cancellationToken).ConfigureAwait(false);
        if (place is { Status: not Tax.PlaceOfSupplyStatus.Determined })
        {
            return new OrderResult { Rejection = OrderRejection.LocationUnresolved };
        }

        if (await AnyDeadlinePassedAsync(parent.Lead, quote, cancellationToken).ConfigureAwait(false))
        {
            return new OrderResult { Rejection = OrderRejection.DeadlinePassed };
        }

        ImmutableArray<SeatReservation>? held = await HoldSeatsAsync(parent.Lead, quote, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            return new OrderResult { Rejection = OrderRejection.SoldOut };
        }

        OrderId id = OrderId.New();
        FunnelEvent accepted = new UpsellAccepted { LeadId = parent.Lead, OccurredAt = now, ParentOrder = parent.Id, Order = id, Offer = upsell };
        return await PlaceAsync(parent.Lead, quote, held.Value, parent.PaymentMethod, parent.Id, [accepted], id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records that the buyer declined a post-purchase upsell and returns the downsell to show next, if any.</summary>
    /// <param name="parentOrder">The order whose purchase the upsell follows.</param>
    /// <param name="upsell">The declined upsell (or downsell).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The next offer of the path after declining, and an <see cref="UpsellDeclined"/> event.</returns>
    /// <exception cref="ArgumentException">The parent order is unknown, or <paramref name="upsell"/> does not follow its main offer in the path.</exception>
    public async Task<UpsellDecision> DeclineUpsellAsync(OrderId parentOrder, OfferId upsell, CancellationToken cancellationToken = default)
    {
        Order parent = await PostPurchaseParentAsync(parentOrder, upsell, cancellationToken).ConfigureAwait(false);
        var declined = new UpsellDeclined { LeadId = parent.Lead, OccurredAt = clock.GetCurrentInstant(), ParentOrder = parent.Id, Offer = upsell };
        var recording = new Recording(null);
        await RecordAsync(recording, [declined]).ConfigureAwait(false);
        return new UpsellDecision(path.Next(upsell, OfferTransition.Declined), recording.Events.ToImmutable());
    }

    /// <summary>Records a collected payment; the first one grants the order's entitlements.</summary>
    /// <param name="order">The order.</param>
    /// <param name="amount">The amount collected, such as one installment.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The updated order with <see cref="PaymentSucceeded"/> and, on the first payment, one <see cref="EntitlementGranted"/> per product.</returns>
    /// <exception cref="ArgumentException">The order is unknown, or the amount is in another currency.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The amount is not positive, or the payments would exceed the order total.</exception>
    /// <exception cref="InvalidOperationException">The order was refunded in full.</exception>
    public async Task<OrderResult> RecordPaymentAsync(OrderId order, Money amount, CancellationToken cancellationToken = default)
    {
        Instant now = clock.GetCurrentInstant();
        (_, Order after) = await UpdateAsync(order, current =>
        {
            if (current.Status == OrderStatus.Refunded)
            {
                throw new InvalidOperationException($"Order {current.Id} was refunded in full; it takes no more payments.");
            }

            CheckAmount(amount, current);
            Money paid = current.Paid + amount;
            if (paid > current.Total)
            {
                throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Order {current.Id} totals {current.Total} and {current.Paid} is paid; {amount} more would overpay it.");
            }

            // The manual path knows no installment number: it settles the first unpaid installment of that amount.
            int index = FirstUnpaid(current.Installments, amount);
            ImmutableArray<Installment> installments = index < 0
                ? current.Installments
                : current.Installments.SetItem(index, current.Installments[index] with { Status = InstallmentStatus.Paid });
            return WithPayment(current with { Installments = installments }, paid);
        }, cancellationToken).ConfigureAwait(false);

        var recording = new Recording(null);
        await RecordAsync(recording, [new PaymentSucceeded { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Amount = amount }]).ConfigureAwait(false);
        return await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Retries the grants and revocations of an order that the <see cref="IEntitlementGrantor"/> failed before.</summary>
    /// <remarks>Run it from a scheduled job for orders whose <see cref="Order.HasPendingEntitlements"/> is <see langword="true"/>.</remarks>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The updated order, an <see cref="EntitlementGranted"/> or <see cref="EntitlementRevoked"/> per change that went through, and <see cref="OrderResult.EntitlementError"/> when one failed again.</returns>
    /// <exception cref="ArgumentException">The order is unknown.</exception>
    public async Task<OrderResult> RetryEntitlementsAsync(OrderId order, CancellationToken cancellationToken = default)
    {
        Order current = await orders.FindAsync(order, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"Order {order} is unknown.", nameof(order));
        return await ApplyPendingEntitlementsAsync(current, new Recording(null), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a refund and revokes what it covers.</summary>
    /// <param name="order">The order.</param>
    /// <param name="amount">The amount refunded; at most what was paid and not yet refunded.</param>
    /// <param name="revokeOffers">The offers whose entitlements the refund takes back, such as a refunded bump; ignored for a full refund, which revokes everything.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The updated order with <see cref="RefundIssued"/> and one <see cref="EntitlementRevoked"/> per product revoked.</returns>
    /// <exception cref="ArgumentException">The order is unknown, or the amount is in another currency.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The amount is not positive or exceeds what is left to refund.</exception>
    public async Task<OrderResult> RefundAsync(OrderId order, Money amount, ImmutableArray<OfferId> revokeOffers = default, CancellationToken cancellationToken = default)
    {
        Instant now = clock.GetCurrentInstant();
        ImmutableArray<OfferId> revoke = revokeOffers.IsDefault ? [] : revokeOffers;
        var (before, after) = await UpdateAsync(order, current =>
        {
            CheckAmount(amount, current);
            return WithRefund(current, amount, revoke);
        }, cancellationToken).ConfigureAwait(false);

        return await FinishRefundAsync(before, after, amount, now, new Recording(null), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a refund is stored: frees the seats when it completed a full refund, and revokes what it took back.</summary>
    private async Task<OrderResult> FinishRefundAsync(Order before, Order after, Money amount, Instant now, Recording recording,
        CancellationToken cancellationToken)
    {
        if (after.Status == OrderStatus.Refunded && before.Status != OrderStatus.Refunded)
        {
            foreach (SeatReservation seat in after.Seats)
            {
                await seats.ReleaseAsync(seat, cancellationToken).ConfigureAwait(false);
            }
        }

        await RecordAsync(recording, [new RefundIssued { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Amount = amount }]).ConfigureAwait(false);
        return await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
    }

    private static Order WithRefund(Order current, Money amount, ImmutableArray<OfferId> revoke)
    {
        Money refunded = current.Refunded + amount;
        if (refunded > current.Paid)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Order {current.Id} has {current.Paid} paid and {current.Refunded} refunded; {amount} more exceeds what was paid.");
        }

        bool full = refunded == current.Paid;
        ImmutableArray<Entitlement> kept = full ? [] : [.. current.Entitlements.Where(e => !revoke.Contains(e.Offer))];
        ImmutableArray<Entitlement> taken = [.. current.Entitlements.Except(kept)];

        // An entitlement whose grant never went through needs no revocation: it simply stops being pending.
        return current with
        {
            Refunded = refunded,
            Status = full ? OrderStatus.Refunded : OrderStatus.PartiallyRefunded,
            Entitlements = kept,
            // Access paused by dunning is restored when the overdue installment is paid; what this refund takes back must not come back with it.
            PausedEntitlements = full ? [] : [.. current.PausedEntitlements.Where(e => !revoke.Contains(e.Offer))],
            PendingGrants = [.. current.PendingGrants.Intersect(kept)],
            PendingRevocations = current.PendingRevocations.AddRange(taken.Except(current.PendingGrants)),
        };
    }

    /// <summary>
    /// Hands the order's pending revocations, then its pending grants, to the grantor one by one, removing each from
    /// the stored order once it went through. The first failure stops the pass and is returned, not thrown: the payment
    /// or refund that led here is already recorded, and what failed stays pending for a retry.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "Any grantor failure must leave the entitlement pending and retryable; it is returned in OrderResult.EntitlementError.")]
    private async Task<OrderResult> ApplyPendingEntitlementsAsync(Order order, Recording recording, CancellationToken cancellationToken)
    {
        if (!order.HasPendingEntitlements)
        {
            return new OrderResult { Order = order, Events = recording.Events.ToImmutable() };
        }

        // One caller at a time per order (striped by id) hands the pending entitlements to the grantor, reading the
        // stored order afresh, so concurrent payments of one order grant once.
        SemaphoreSlim gate = entitlementLocks[(order.Id.GetHashCode() & int.MaxValue) % entitlementLocks.Length];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            order = await orders.FindAsync(order.Id, cancellationToken).ConfigureAwait(false) ?? order;
            foreach (Entitlement e in order.PendingRevocations)
            {
                try
                {
                    await grantor.RevokeAsync(e, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return new OrderResult { Order = order, Events = recording.Events.ToImmutable(), EntitlementError = error };
                }

                (_, order, bool cleared) = await TryUpdateAsync(order.Id, o => o.PendingRevocations.Contains(e) ? o with { PendingRevocations = o.PendingRevocations.Remove(e) } : null,
                    cancellationToken).ConfigureAwait(false);
                if (cleared)
                {
                    await RecordAsync(recording, [new EntitlementRevoked { LeadId = order.Lead, OccurredAt = clock.GetCurrentInstant(), Order = order.Id, Product = e.Product }])
                        .ConfigureAwait(false);
                }
            }

            foreach (Entitlement e in order.PendingGrants)
            {
                try
                {
                    await grantor.GrantAsync(e, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return new OrderResult { Order = order, Events = recording.Events.ToImmutable(), EntitlementError = error };
                }

                (_, order, bool cleared) = await TryUpdateAsync(order.Id, o => o.PendingGrants.Contains(e) ? o with { PendingGrants = o.PendingGrants.Remove(e) } : null,
                    cancellationToken).ConfigureAwait(false);
                if (cleared)
                {
                    await RecordAsync(recording, [new EntitlementGranted { LeadId = order.Lead, OccurredAt = clock.GetCurrentInstant(), Order = order.Id, Product = e.Product }])
                        .ConfigureAwait(false);
                }
            }

            return new OrderResult { Order = order, Events = recording.Events.ToImmutable() };
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<OrderResult> PlaceAsync(LeadId lead, Quote quote, ImmutableArray<SeatReservation> held, string? paymentMethod,
        OrderId? upsellOf, ImmutableArray<FunnelEvent> leading, OrderId? id, CancellationToken cancellationToken)
    {
        // Only seats confirmed by this call are given back on a rejection: a hold that fails to confirm was
        // already used or has lapsed, and unconfirmed holds lapse by themselves.
        if (await AnyDeadlinePassedAsync(lead, quote, cancellationToken).ConfigureAwait(false))
        {
            return new OrderResult { Rejection = OrderRejection.DeadlinePassed };
        }

        var confirmed = ImmutableArray.CreateBuilder<SeatReservation>(held.Length);
        foreach (SeatReservation seat in held)
        {
            if (!await seats.ConfirmAsync(seat, cancellationToken).ConfigureAwait(false))
            {
                await ReleaseAsync(confirmed.ToImmutable(), cancellationToken).ConfigureAwait(false);
                return new OrderResult { Rejection = OrderRejection.SeatExpired };
            }

            confirmed.Add(seat);
        }

        var redeemed = new List<string>();
        foreach (AppliedCoupon applied in quote.Coupons)
        {
            Coupon coupon = prices.FindCoupon(applied.Code)!;
            if (!await couponRedemptions.TryRedeemAsync(coupon.Code, lead, coupon.MaxRedemptions, coupon.MaxRedemptionsPerLead, cancellationToken).ConfigureAwait(false))
            {
                foreach (string code in redeemed)
                {
                    await couponRedemptions.ReleaseAsync(code, lead, cancellationToken).ConfigureAwait(false);
                }

                await ReleaseAsync(confirmed.ToImmutable(), cancellationToken).ConfigureAwait(false);
                return new OrderResult { Rejection = OrderRejection.CouponLimitReached };
            }

            redeemed.Add(coupon.Code);
        }

        Instant now = clock.GetCurrentInstant();
        var lines = ImmutableArray.CreateBuilder<OrderLine>(quote.Lines.Length);
        foreach (QuoteLine line in quote.Lines)
        {
            Offer offer = prices.GetOffer(line.Offer);
            ImmutableArray<string> products = offer.Products;
            foreach (LimitedTimeBonus bonus in offer.Bonuses)
            {
                DeadlineStatus status = await deadlines.GetStatusAsync(bonus.Deadline, lead, cancellationToken).ConfigureAwait(false);
                if (status.IsOpen && !products.Contains(bonus.Product))
                {
                    products = products.Add(bonus.Product);
                }
            }

            lines.Add(new OrderLine { Offer = line.Offer, Role = line.Role, Quantity = line.Quantity, PaymentPlan = line.PaymentPlan, Total = line.Total, Products = products });
        }

        var order = new Order
        {
            Id = id ?? OrderId.New(),
            Lead = lead,
            PlacedAt = now,
            Lines = lines.MoveToImmutable(),
            Total = quote.Total,
            Tax = quote.Tax,
            Schedule = quote.Schedule,
            Coupons = [.. redeemed],
            PaymentMethod = paymentMethod,
            UpsellOf = upsellOf,
            Seats = held,
            Installments = [.. quote.Schedule.Select(c => new Installment { Number = c.Number, DueAt = c.DueAt, Amount = c.Amount })],
            Paid = Money.Zero(quote.Currency),
            Refunded = Money.Zero(quote.Currency),
        };
        if (!await orders.TryAddAsync(order, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"Order {order.Id} already exists.");
        }

        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        events.AddRange(leading);
        events.Add(new OrderPlaced { LeadId = lead, OccurredAt = now, Order = order.Id, Offer = order.MainOffer, Total = order.Total });
        foreach (OrderLine line in order.Lines)
        {
            if (line.Role is OfferRole.OrderBump or OfferRole.CrossSell)
            {
                events.Add(new AddOnAccepted { LeadId = lead, OccurredAt = now, Order = order.Id, Offer = line.Offer, Role = line.Role, Amount = line.Total });
            }
        }

        var recording = new Recording(null);
        await RecordAsync(recording, events.ToImmutable()).ConfigureAwait(false);
        return new OrderResult { Order = order, Events = recording.Events.ToImmutable() };
    }

    /// <summary>Taxes the quote when a tax calculator is registered; the place of supply is <see langword="null"/> without one.</summary>
    private async Task<(Quote Quote, Tax.PlaceOfSupply? Place)> TaxAsync(Quote quote, Tax.BuyerTaxDetails? buyer, CancellationToken cancellationToken)
    {
        if (tax is null)
        {
            return (quote, null);
        }

        var request = new Tax.TaxRequest
        {
            Quote = quote,
            Categories = [.. quote.Lines.Select(l => TaxCategoryOf(l.Offer))],
            Buyer = buyer ?? new Tax.BuyerTaxDetails(),
        };
        Tax.TaxBreakdown breakdown = await tax.CalculateAsync(request, cancellationToken).ConfigureAwait(false);
        return breakdown.IsResolved ? (quote.WithTax(breakdown), breakdown.PlaceOfSupply) : (quote, breakdown.PlaceOfSupply);
    }

    /// <summary>An offer is an e-book for tax when every product it grants is one.</summary>
    private Tax.TaxCategory TaxCategoryOf(OfferId offer)
    {
        ImmutableArray<string> products = prices.GetOffer(offer).Products;
        return !products.IsDefaultOrEmpty && products.All(p => productKinds.GetValueOrDefault(p) == ProductKind.EBook)
            ? Tax.TaxCategory.EBook
            : Tax.TaxCategory.Standard;
    }

    private async Task<Order> PostPurchaseParentAsync(OrderId parentOrder, OfferId offer, CancellationToken cancellationToken)
    {
        Order parent = await orders.FindAsync(parentOrder, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"Order {parentOrder} is unknown.", nameof(parentOrder));
        if (!path.IsPostPurchaseOffer(parent.MainOffer, offer))
        {
            throw new ArgumentException($"Offer '{offer}' is not offered after a purchase of '{parent.MainOffer}' in the offer path.", nameof(offer));
        }

        return parent;
    }

    private async Task<bool> AnyDeadlinePassedAsync(LeadId lead, Quote quote, CancellationToken cancellationToken)
    {
        foreach (QuoteLine line in quote.Lines)
        {
            if (prices.GetOffer(line.Offer).Deadline is { } deadline
                && !(await deadlines.GetStatusAsync(deadline, lead, cancellationToken).ConfigureAwait(false)).IsOpen)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<ImmutableArray<SeatReservation>?> HoldSeatsAsync(LeadId lead, Quote quote, CancellationToken cancellationToken)
    {
        var held = ImmutableArray.CreateBuilder<SeatReservation>();
        foreach (QuoteLine line in quote.Lines)
        {
            if (prices.GetOffer(line.Offer).Seats is not { } limit)
            {
                continue;
            }

            SeatReservation? seat = await seats.TryReserveAsync(line.Offer, lead, limit, cancellationToken).ConfigureAwait(false);
            if (seat is null)
            {
                await ReleaseAsync(held.ToImmutable(), cancellationToken).ConfigureAwait(false);
                return null;
            }

            held.Add(seat.Value);
        }

        return held.ToImmutable();
    }

    private async Task ReleaseAsync(ImmutableArray<SeatReservation> held, CancellationToken cancellationToken)
    {
        foreach (SeatReservation seat in held)
        {
            await seats.ReleaseAsync(seat, cancellationToken).ConfigureAwait(false);
        }
    }

    private ImmutableArray<Entitlement> EntitlementsOf(Order order)
    {
        var result = ImmutableArray.CreateBuilder<Entitlement>();
        foreach (OrderLine line in order.Lines)
        {
            foreach (string product in line.Products)
            {
                result.Add(new Entitlement(order.Lead, order.Id, line.Offer, product, productKinds.GetValueOrDefault(product)));
            }
        }

        return result.ToImmutable();
    }

    private async Task<(Order Before, Order After)> UpdateAsync(OrderId id, Func<Order, Order> change, CancellationToken cancellationToken)
    {
        (Order before, Order after, _) = await TryUpdateAsync(id, change, cancellationToken).ConfigureAwait(false);
        return (before, after);
    }

    /// <summary>Applies a change that may decide nothing needs changing (<see langword="null"/>), with optimistic concurrency.</summary>
    private async Task<(Order Before, Order After, bool Changed)> TryUpdateAsync(OrderId id, Func<Order, Order?> change, CancellationToken cancellationToken)
    {
        OptimisticConcurrency.Update<Order> update = await OptimisticConcurrency.UpdateAsync(
            async c => await orders.FindAsync(id, c).ConfigureAwait(false) ?? throw new ArgumentException($"Order {id} is unknown.", nameof(id)),
            current => change(current!),
            tryAddAsync: null,
            orders.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Order {id}",
            cancellationToken).ConfigureAwait(false);
        return (update.Before!, update.After!, update.Changed);
    }

    private static void CheckAmount(Money amount, Order order)
    {
        if (amount.Currency != order.Total.Currency)
        {
            throw new ArgumentException($"The amount is in {amount.Currency.Code} but order {order.Id} is in {order.Total.Currency.Code}.", nameof(amount));
        }

        if (!amount.IsPositive)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "The amount must be positive.");
        }
    }

    /// <summary>Stamps the events (ids derived from the recording's cause, if any) and appends them to the log.</summary>
    /// <remarks>
    /// Called right after the state change that caused the events. The append is not cancelled with the caller: the
    /// change is stored, so its events must reach the log.
    /// </remarks>
    private async Task RecordAsync(Recording recording, IReadOnlyList<FunnelEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        FunnelEvent[] stamped = [.. events.Select(recording.Stamp)];
        await log.AppendAsync(stamped, CancellationToken.None).ConfigureAwait(false);
        recording.Events.AddRange(stamped);
    }

    /// <summary>The events one operation recorded and the cause their ids derive from.</summary>
    /// <param name="cause">The id the events' ids derive from, or <see langword="null"/> for fresh ids.</param>
    private sealed class Recording(EventId? cause)
    {
        private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);

        /// <summary>Gets the events recorded so far.</summary>
        public ImmutableArray<FunnelEvent>.Builder Events { get; } = ImmutableArray.CreateBuilder<FunnelEvent>();

        /// <summary>Gives the event an id derived from the cause, its type and how many of that type came before.</summary>
        public FunnelEvent Stamp(FunnelEvent e)
        {
            if (cause is not { } c)
            {
                return e;
            }

            int n = counts.GetValueOrDefault(e.EventType);
            counts[e.EventType] = n + 1;
            return e with { Id = EventId.Derive(c, $"{e.EventType}:{n}") };
        }
    }

    /// <summary>The id an event caused by a provider's object (a payment, refund, dispute or webhook event) derives from.</summary>
    internal static EventId CauseOf(string kind, string providerId) => EventId.Derive(ProviderCauses, kind + ":" + providerId);

    /// <summary>The root every provider-caused id derives from.</summary>
    private static readonly EventId ProviderCauses = new(new Guid("6f1d8a52-3c0b-4e57-9a61-2b8f0c4d7e19"));
}
