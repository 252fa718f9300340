using System.Collections.Immutable;
using System.Globalization;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Payments;

/// <summary>What became of a charge or of starting a plan.</summary>
public enum PaymentOutcome
{
    /// <summary>The money was collected (for a plan: the plan started and its first installment was collected or is being collected).</summary>
    Succeeded = 0,

    /// <summary>The buyer must act first, such as completing 3-D Secure authentication; nothing is collected yet.</summary>
    RequiresAction = 1,

    /// <summary>The provider or the bank declined; <see cref="PaymentResult.DeclineCode"/> says why.</summary>
    Declined = 2,
}

/// <summary>The outcome of a charge or of starting an installment plan: an expected result, not an error.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PaymentResult
{
    /// <summary>Gets what became of the request.</summary>
    public required PaymentOutcome Outcome { get; init; }

    /// <summary>Gets the provider's id of the payment (a Stripe PaymentIntent or invoice id).</summary>
    /// <value><see langword="null"/> when the provider created none, or for a plan whose first payment is reported later by a notification.</value>
    public string? PaymentId { get; init; }

    /// <summary>Gets the provider's customer reference holding the saved payment method.</summary>
    public string? Customer { get; init; }

    /// <summary>Gets the saved payment method's reference, to charge later without the buyer entering a card again.</summary>
    public string? PaymentMethod { get; init; }

    /// <summary>Gets the provider's id of the installment plan, for <see cref="IPaymentGateway.StartPlanAsync"/>.</summary>
    public string? PlanId { get; init; }

    /// <summary>Gets the provider's reason code when declined, such as <c>card_declined</c> or <c>insufficient_funds</c>.</summary>
    public string? DeclineCode { get; init; }

    /// <summary>Gets what the buyer's browser needs to complete the action, such as a client secret, when <see cref="Outcome"/> is <see cref="PaymentOutcome.RequiresAction"/>.</summary>
    public string? ActionToken { get; init; }
}

/// <summary>A request to collect money once: a new card entered at checkout, or the saved method charged with one click.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ChargeRequest
{
    /// <summary>Gets our order the charge pays for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the buyer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the exact amount to collect.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider token of the card just entered, or the saved payment method to charge.</summary>
    public required string PaymentMethod { get; init; }

    /// <summary>Gets the key that makes a retried call collect at most once (see <see cref="IdempotencyKeys"/>).</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets the provider customer that holds <see cref="PaymentMethod"/>, or <see langword="null"/> to create one.</summary>
    public string? Customer { get; init; }

    /// <summary>Gets whether to save the payment method for later charges without the buyer (one-click upsells, installments).</summary>
    public bool SaveForLater { get; init; }

    /// <summary>Gets whether the buyer is absent (a one-click upsell or a dunning retry), so the provider must not ask for authentication.</summary>
    public bool OffSession { get; init; }

    /// <summary>Gets the installment number this charge collects, for a dunning retry.</summary>
    public int? Installment { get; init; }

    /// <summary>Gets the provider's id of the failed payment this charge retries (Stripe retries the open invoice).</summary>
    public string? RetryOf { get; init; }
}

/// <summary>A request to collect a plan's installments: the first now, the rest on schedule, then stop.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record InstallmentPlanRequest
{
    /// <summary>Gets our order the plan pays for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the buyer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the installments, in order; the first is due now.</summary>
    public required ImmutableArray<ScheduledCharge> Installments { get; init; }

    /// <summary>Gets the calendar interval between installments.</summary>
    public required Period Interval { get; init; }

    /// <summary>Gets the provider token of the card entered, or the saved payment method.</summary>
    public required string PaymentMethod { get; init; }

    /// <summary>Gets the key that makes a retried call start at most one plan.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets the provider customer that holds <see cref="PaymentMethod"/>, or <see langword="null"/> to create one.</summary>
    public string? Customer { get; init; }
}

/// <summary>A request to give money back on one payment.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RefundRequest
{
    /// <summary>Gets our order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the provider's id of the payment to refund.</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets the exact amount to refund; the whole payment or part of it.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the key that makes a retried call refund at most once.</summary>
    public required string IdempotencyKey { get; init; }
}

/// <summary>The outcome of a refund request.</summary>
/// <param name="RefundId">The provider's id of the refund.</param>
/// <param name="Succeeded">Whether the refund went through (or is pending at the bank); <see langword="false"/> when the provider refused it.</param>
/// <param name="FailureCode">The provider's reason when refused.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RefundResult(string RefundId, bool Succeeded, string? FailureCode = null);

/// <summary>A request to stop an installment plan: no further installment is collected.</summary>
/// <param name="Order">Our order.</param>
/// <param name="PlanId">The provider's id of the plan.</param>
/// <param name="IdempotencyKey">The key that makes a retried call harmless.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CancelPlanRequest(OrderId Order, string PlanId, string IdempotencyKey);

/// <summary>The seam to a payment provider (Stripe, PayPal, Paddle, or <c>InMemoryPaymentGateway</c> from Funnel.Testing in test mode).</summary>
/// <remarks>
/// <para>
/// Expected outcomes (declined, authentication needed) are returned in <see cref="PaymentResult"/>; broken
/// infrastructure (network, invalid API key, provider outage) throws <see cref="PaymentGatewayException"/>.
/// Every request carries an idempotency key derived from our order or installment (<see cref="IdempotencyKeys"/>),
/// so a call retried after a timeout collects at most once.
/// </para>
/// <para>
/// The provider also reports every outcome by webhook; <see cref="WebhookProcessor"/> applies those, and applying the
/// same payment twice (returned here and notified later) changes nothing.
/// </para>
/// </remarks>
public interface IPaymentGateway
{
    /// <summary>Collects money once, optionally saving the payment method for later one-click charges.</summary>
    /// <param name="request">The charge.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Succeeded, requires action, or declined with a reason code.</returns>
    /// <exception cref="PaymentGatewayException">The provider could not be reached or refused the request as invalid.</exception>
    Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default);

    /// <summary>Starts an installment plan: N charges on the plan's calendar, then stop.</summary>
    /// <param name="request">The plan.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome with <see cref="PaymentResult.PlanId"/>.</returns>
    /// <exception cref="PaymentGatewayException">The provider could not be reached or refused the request as invalid.</exception>
    Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default);

    /// <summary>Refunds all or part of a payment.</summary>
    /// <param name="request">The refund.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The refund's id and whether it went through.</returns>
    /// <exception cref="PaymentGatewayException">The provider could not be reached or refused the request as invalid.</exception>
    Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default);

    /// <summary>Cancels an installment plan so that no further installment is collected.</summary>
    /// <param name="request">The plan to cancel.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the plan is cancelled.</returns>
    /// <exception cref="PaymentGatewayException">The provider could not be reached or refused the request as invalid.</exception>
    Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default);
}

/// <summary>A payment provider could not be reached or refused a request as invalid; not a decline.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class PaymentGatewayException : Exception
{
    /// <summary>Initializes the exception.</summary>
    public PaymentGatewayException()
        : this("The payment provider failed.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public PaymentGatewayException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes the exception with a message and the provider's error.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The provider's error.</param>
    public PaymentGatewayException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the provider's error code, such as <c>idempotency_key_in_use</c>.</summary>
    public string? Code { get; init; }

    /// <summary>Gets whether retrying the same call (same idempotency key) later may succeed.</summary>
    public bool IsTransient { get; init; }
}

/// <summary>Derives the idempotency keys of payment calls from our order and installment ids, so retries reuse them.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public static class IdempotencyKeys
{
    /// <summary>Returns the key of an order's one-time charge: <c>order_&lt;id&gt;</c>.</summary>
    /// <param name="order">The order.</param>
    /// <returns>The key.</returns>
    public static string ForOrder(OrderId order) => "order_" + order.Value.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>Gets the key of an attempt at an order's one-time payment.</summary>
    /// <param name="order">The order.</param>
    /// <param name="attempt">The attempt, from 1; a new attempt (such as with another card after a decline) needs a new key.</param>
    /// <returns><see cref="ForOrder"/> for the first attempt, then <c>order_&lt;id&gt;_try_&lt;attempt&gt;</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="attempt"/> is less than 1.</exception>
    public static string ForPayment(OrderId order, int attempt = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        return attempt == 1 ? ForOrder(order) : ForOrder(order) + "_try_" + attempt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Gets the key of an attempt at starting an order's installment plan.</summary>
    /// <param name="order">The order.</param>
    /// <param name="attempt">The attempt, from 1; a new attempt (such as with another card after a decline) needs a new key.</param>
    /// <returns><c>order_&lt;id&gt;_plan</c> for the first attempt, then <c>order_&lt;id&gt;_plan_try_&lt;attempt&gt;</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="attempt"/> is less than 1.</exception>
    public static string ForPlan(OrderId order, int attempt = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        string key = ForOrder(order) + "_plan";
        return attempt == 1 ? key : key + "_try_" + attempt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Returns the key of one attempt to collect an installment: <c>order_&lt;id&gt;_inst_2</c>, then <c>order_&lt;id&gt;_inst_2_try_2</c> for the first retry.</summary>
    /// <param name="order">The order.</param>
    /// <param name="installment">The 1-based installment number.</param>
    /// <param name="attempt">The 1-based attempt; each retry needs its own key because providers replay a declined key's decline.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="installment"/> or <paramref name="attempt"/> is less than 1.</exception>
    public static string ForInstallment(OrderId order, int installment, int attempt = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(installment, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        string key = ForOrder(order) + "_inst_" + installment.ToString(CultureInfo.InvariantCulture);
        return attempt == 1 ? key : key + "_try_" + attempt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Returns the key of the n-th refund of an order: <c>order_&lt;id&gt;_refund_1</c>.</summary>
    /// <param name="order">The order.</param>
    /// <param name="sequence">The 1-based number of the refund on this order.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is less than 1.</exception>
    public static string ForRefund(OrderId order, int sequence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        return ForOrder(order) + "_refund_" + sequence.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Returns the key that cancels an order's plan: <c>order_&lt;id&gt;_cancel</c>.</summary>
    /// <param name="order">The order.</param>
    /// <returns>The key.</returns>
    public static string ForCancel(OrderId order) => ForOrder(order) + "_cancel";
}
