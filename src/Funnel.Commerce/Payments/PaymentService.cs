using System.Collections.Immutable;
using FluentValidation;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Payments;

/// <summary>The outcome of a call that charges: what the provider said and the order after it.</summary>
/// <param name="Payment">The provider's answer, or <see langword="null"/> when the order was rejected before anything was charged.</param>
/// <param name="Result">The order after the call, its events, or why it was rejected.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PaymentAttempt(PaymentResult? Payment, OrderResult Result);

/// <summary>Moves money for orders through an <see cref="IPaymentGateway"/> and keeps each order's installments, grants and dunning in step.</summary>
/// <remarks>
/// <para>
/// A successful charge is recorded at once (the buyer sees access immediately) and again, harmlessly, when the
/// provider's webhook arrives: payments are applied once per provider payment id, refunds and disputes once per
/// refund or dispute id. Failures are recorded only from notifications (<see cref="WebhookProcessor"/>), so that a
/// decline returned here and notified later counts once.
/// </para>
/// <para>
/// Dunning: when an installment fails, <see cref="RetryFailedInstallmentsAsync"/> charges the saved method again
/// at the times of the <see cref="DunningPolicy"/>; access is paused after the policy's number of failures and
/// restored when the installment is paid. "Now" comes from the <see cref="IClock"/>.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; order changes are compare-and-swap on the order version.</threadsafety>
public sealed class PaymentService
{
    private readonly OrderService orders;
    private readonly PriceBook prices;
    private readonly IPaymentGateway gateway;
    private readonly IClock clock;

    /// <summary>Initializes the service.</summary>
    /// <param name="orders">The order service whose orders are paid.</param>
    /// <param name="prices">The price book, for the interval of payment plans.</param>
    /// <param name="gateway">The payment provider.</param>
    /// <param name="policy">The dunning policy.</param>
    /// <param name="clock">The source of "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException"><paramref name="policy"/> is not valid; the message names the field.</exception>
    public PaymentService(OrderService orders, PriceBook prices, IPaymentGateway gateway, DunningPolicy policy, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(clock);
        new DunningPolicyValidator().ValidateAndThrow(policy);
        this.orders = orders;
        this.prices = prices;
        this.gateway = gateway;
        Policy = policy;
        this.clock = clock;
    }

    /// <summary>Gets the dunning policy.</summary>
    public DunningPolicy Policy { get; }

    /// <summary>Pays a placed order with the card the buyer entered, saving it for one-click upsells and later installments.</summary>
    /// <remarks>An order of one charge is charged once (key <see cref="IdempotencyKeys.ForPayment"/>); an order on a payment plan starts the plan (key <see cref="IdempotencyKeys.ForPlan"/>). A declined or unauthenticated attempt is counted on the order (<see cref="Order.FailedPaymentAttempts"/>), so paying again, such as with another card, uses a new key.</remarks>
    /// <param name="order">The order, awaiting payment.</param>
    /// <param name="paymentMethod">The provider token of the card entered.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The provider's answer and the order; on success the first payment is recorded and access granted.</returns>
    /// <exception cref="ArgumentException">The order is unknown, or <paramref name="paymentMethod"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">The order is not awaiting payment.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed.</exception>
    public async Task<PaymentAttempt> PayAsync(OrderId order, string paymentMethod, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentMethod);
        Order current = await FindAsync(order, cancellationToken).ConfigureAwait(false);
        if (current.Status != OrderStatus.AwaitingPayment)
        {
            throw new InvalidOperationException($"Order {order} is {current.Status}, not awaiting payment.");
        }

        return await ChargeFirstAsync(current, paymentMethod, customer: null, offSession: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Accepts a one-click upsell and charges the parent order's saved payment method; the buyer enters no card.</summary>
    /// <param name="parentOrder">The paid order whose purchase the upsell follows.</param>
    /// <param name="upsell">The upsell or downsell offer.</param>
    /// <param name="buyerZone">The buyer's time zone.</param>
    /// <param name="paymentPlan">The key of one of the upsell's payment plans, or <see langword="null"/> to pay once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The provider's answer and the new order, or a rejection with no charge.</returns>
    /// <exception cref="ArgumentException">The parent order is unknown, or the upsell does not follow it.</exception>
    /// <exception cref="InvalidOperationException">The parent order has no saved payment method.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed.</exception>
    public async Task<PaymentAttempt> AcceptUpsellAsync(OrderId parentOrder, OfferId upsell, DateTimeZone buyerZone, string? paymentPlan = null,
        CancellationToken cancellationToken = default)
    {
        Order parent = await FindAsync(parentOrder, cancellationToken).ConfigureAwait(false);
        OrderResult placed = await orders.AcceptUpsellAsync(parentOrder, upsell, buyerZone, paymentPlan, cancellationToken).ConfigureAwait(false);
        if (placed.Order is null)
        {
            return new PaymentAttempt(null, placed);
        }

        PaymentAttempt charged = await ChargeFirstAsync(placed.Order, parent.PaymentMethod!, parent.Customer, offSession: true, cancellationToken).ConfigureAwait(false);
        return charged with { Result = charged.Result with { Events = placed.Events.AddRange(charged.Result.Events) } };
    }

    /// <summary>Refunds money on an order through the provider, newest payments first, and records it.</summary>
    /// <param name="order">The order.</param>
    /// <param name="amount">The amount; at most what was paid and not refunded.</param>
    /// <param name="revokeOffers">The offers whose access a partial refund takes back; a full refund takes everything.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The order after the refunds, with a <see cref="Events.RefundIssued"/> per provider refund.</returns>
    /// <exception cref="ArgumentException">The order is unknown or the amount is in another currency.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The amount is not positive or exceeds what is refundable.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed or refused a refund.</exception>
    public async Task<OrderResult> RefundAsync(OrderId order, Money amount, ImmutableArray<OfferId> revokeOffers = default, CancellationToken cancellationToken = default)
    {
        Order current = await FindAsync(order, cancellationToken).ConfigureAwait(false);
        if (amount.Currency != current.Total.Currency)
        {
            throw new ArgumentException($"The amount is in {amount.Currency.Code} but order {order} is in {current.Total.Currency.Code}.", nameof(amount));
        }

        if (!amount.IsPositive || amount > current.Paid - current.Refunded)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Order {order} has {current.Paid - current.Refunded} left to refund.");
        }

        Money left = amount;
        int sequence = current.AppliedAdjustments.Length;
        OrderResult result = new() { Order = current };
        var events = ImmutableArray.CreateBuilder<Events.FunnelEvent>();
        foreach (Installment installment in current.Installments.Reverse())
        {
            if (!left.IsPositive)
            {
                break;
            }

            Money refundable = installment.Amount - (installment.Refunded ?? Money.Zero(amount.Currency));
            if (installment.Status != InstallmentStatus.Paid || installment.PaymentId is null || !refundable.IsPositive)
            {
                continue;
            }

            Money part = refundable < left ? refundable : left;
            sequence++;
            RefundResult refund = await gateway.RefundAsync(
                new RefundRequest { Order = order, PaymentId = installment.PaymentId, Amount = part, IdempotencyKey = IdempotencyKeys.ForRefund(order, sequence) },
                cancellationToken).ConfigureAwait(false);
            if (!refund.Succeeded)
            {
                throw new PaymentGatewayException($"The provider refused refund {refund.RefundId} of {part} on payment {installment.PaymentId}: {refund.FailureCode}.") { Code = refund.FailureCode };
            }

            result = await orders.RecordProviderRefundAsync(order, refund.RefundId, installment.PaymentId, part, revokeOffers, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Payment {installment.PaymentId} of order {order} is no longer recorded.");
            events.AddRange(result.Events);
            left -= part;
        }

        if (left.IsPositive)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Order {order} has no provider payment left to refund {left} from.");
        }

        return result with { Events = events.ToImmutable() };
    }

    /// <summary>Cancels an order's installment plan at the provider: no further installment is collected.</summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the plan is cancelled.</returns>
    /// <exception cref="ArgumentException">The order is unknown.</exception>
    /// <exception cref="InvalidOperationException">The order has no installment plan.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed.</exception>
    public async Task CancelPlanAsync(OrderId order, CancellationToken cancellationToken = default)
    {
        Order current = await FindAsync(order, cancellationToken).ConfigureAwait(false);
        string plan = current.PlanId ?? throw new InvalidOperationException($"Order {order} has no installment plan.");
        await gateway.CancelPlanAsync(new CancelPlanRequest(order, plan, IdempotencyKeys.ForCancel(order)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Charges the saved payment method again for each failed installment whose retry is due under the <see cref="DunningPolicy"/>.</summary>
    /// <remarks>Run it from a scheduled job. Only orders whose first payment went through are retried. A success is recorded at once (restoring paused access); a decline is recorded when its notification arrives.</remarks>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One attempt per retried installment; empty when none was due.</returns>
    /// <exception cref="ArgumentException">The order is unknown.</exception>
    /// <exception cref="PaymentGatewayException">The provider failed.</exception>
    public async Task<ImmutableArray<PaymentAttempt>> RetryFailedInstallmentsAsync(OrderId order, CancellationToken cancellationToken = default)
    {
        Order current = await FindAsync(order, cancellationToken).ConfigureAwait(false);
        Instant now = clock.GetCurrentInstant();
        var attempts = ImmutableArray.CreateBuilder<PaymentAttempt>();
        foreach (Installment installment in current.Installments)
        {
            // Only a purchase already paid for is dunned: an order still awaiting its first payment is a checkout the buyer may have left.
            if (Policy.NextRetryAt(installment) is not { } due || due > now || current.PaymentMethod is null
                || current.Status is not (OrderStatus.Paid or OrderStatus.PartiallyRefunded))
            {
                continue;
            }

            PaymentResult payment = await gateway.ChargeAsync(new ChargeRequest
            {
                Order = order,
                Lead = current.Lead,
                Amount = installment.Amount,
                PaymentMethod = current.PaymentMethod,
                Customer = current.Customer,
                OffSession = true,
                Installment = installment.Number,
                RetryOf = installment.PaymentId,
                IdempotencyKey = IdempotencyKeys.ForInstallment(order, installment.Number, installment.FailedAttempts + 1),
            }, cancellationToken).ConfigureAwait(false);
            OrderResult result = payment is { Outcome: PaymentOutcome.Succeeded, PaymentId: { } id }
                ? await orders.RecordInstallmentPaidAsync(order, installment.Number, id, installment.Amount, cancellationToken).ConfigureAwait(false)
                : new OrderResult { Order = current };
            attempts.Add(new PaymentAttempt(payment, result));
        }

        return attempts.ToImmutable();
    }

    /// <summary>Applies a provider notification to its order.</summary>
    /// <returns>The result, or <see langword="null"/> when it refers to a payment not recorded yet (park it).</returns>
    /// <summary>Whether the order exists, so a notification about it can ever apply.</summary>
    internal async Task<bool> OrderExistsAsync(OrderId order, CancellationToken cancellationToken) =>
        await orders.FindOrderAsync(order, cancellationToken).ConfigureAwait(false) is not null;

    internal Task<OrderResult?> ApplyAsync(PaymentNotification notification, CancellationToken cancellationToken) => notification.Kind switch
    {
        PaymentNotificationKind.PaymentSucceeded => Nullable(orders.RecordInstallmentPaidAsync(
            notification.Order, notification.Installment, notification.PaymentId, notification.Amount, cancellationToken)),
        PaymentNotificationKind.PaymentFailed => Nullable(orders.RecordInstallmentFailedAsync(
            notification.Order, notification.Installment, notification.PaymentId, notification.Reason ?? "unknown", notification.OccurredAt, Policy,
            OrderService.CauseOf("payment_failed", notification.EventId), cancellationToken)),
        PaymentNotificationKind.Refunded => orders.RecordProviderRefundAsync(
            notification.Order, AdjustmentOf(notification), notification.PaymentId, notification.Amount, [], cancellationToken),
        PaymentNotificationKind.Disputed => orders.RecordDisputeAsync(
            notification.Order, AdjustmentOf(notification), notification.PaymentId, notification.Amount, notification.Reason, notification.OccurredAt,
            Policy.OnDispute, cancellationToken),
        PaymentNotificationKind.DisputeWon or PaymentNotificationKind.DisputeLost => orders.RecordDisputeClosedAsync(
            notification.Order, AdjustmentOf(notification), notification.PaymentId, notification.Amount, notification.Reason,
            notification.Kind == PaymentNotificationKind.DisputeWon, notification.OccurredAt, Policy.OnDispute, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(notification), notification.Kind, "Unknown notification kind."),
    };

    private static string AdjustmentOf(PaymentNotification notification) =>
        notification.AdjustmentId ?? throw new ArgumentException($"Notification {notification.EventId} ({notification.Kind}) has no refund or dispute id.", nameof(notification));

    private static async Task<OrderResult?> Nullable(Task<OrderResult> task) => await task.ConfigureAwait(false);

    private async Task<PaymentAttempt> ChargeFirstAsync(Order order, string paymentMethod, string? customer, bool offSession, CancellationToken cancellationToken)
    {
        int attempt = order.FailedPaymentAttempts + 1;
        PaymentResult payment;
        if (order.Installments.Length <= 1)
        {
            payment = await gateway.ChargeAsync(new ChargeRequest
            {
                Order = order.Id,
                Lead = order.Lead,
                Amount = order.Total,
                PaymentMethod = paymentMethod,
                Customer = customer,
                SaveForLater = !offSession,
                OffSession = offSession,
                IdempotencyKey = IdempotencyKeys.ForPayment(order.Id, attempt),
            }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            payment = await gateway.StartPlanAsync(new InstallmentPlanRequest
            {
                Order = order.Id,
                Lead = order.Lead,
                Installments = order.Schedule,
                Interval = IntervalOf(order),
                PaymentMethod = paymentMethod,
                Customer = customer,
                IdempotencyKey = IdempotencyKeys.ForPlan(order.Id, attempt),
            }, cancellationToken).ConfigureAwait(false);
        }

        if (payment.Outcome != PaymentOutcome.Succeeded)
        {
            Order counted = await orders.RecordFailedPaymentAttemptAsync(order.Id, attempt, cancellationToken).ConfigureAwait(false);
            return new PaymentAttempt(payment, new OrderResult { Order = counted });
        }

        Order updated = await orders.SetPaymentReferencesAsync(order.Id, payment.Customer ?? customer, payment.PaymentMethod ?? (offSession ? paymentMethod : null),
            payment.PlanId, cancellationToken).ConfigureAwait(false);
        if (payment.PaymentId is null)
        {
            // The provider reports the first installment of the plan by notification.
            return new PaymentAttempt(payment, new OrderResult { Order = updated });
        }

        OrderResult recorded = await orders.RecordInstallmentPaidAsync(order.Id, 1, payment.PaymentId, order.Installments[0].Amount, cancellationToken).ConfigureAwait(false);
        return new PaymentAttempt(payment, recorded);
    }

    private Period IntervalOf(Order order)
    {
        foreach (OrderLine line in order.Lines)
        {
            if (line.PaymentPlan is { } key && prices.GetOffer(line.Offer).PaymentPlans.FirstOrDefault(p => p.Key == key) is { } plan)
            {
                return plan.Interval;
            }
        }

        throw new InvalidOperationException($"Order {order.Id} has {order.Installments.Length} charges but no line on a payment plan.");
    }

    private async Task<Order> FindAsync(OrderId order, CancellationToken cancellationToken) =>
        await orders.FindOrderAsync(order, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"Order {order} is unknown.", nameof(order));
}
