using Funnel.Events;

namespace Funnel.Payments;

/// <summary>One installment of a payment plan was collected; a <see cref="PaymentSucceeded"/> for the same money is recorded too.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.InstallmentPaid)]
public sealed record InstallmentPaid : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the 1-based installment number.</summary>
    public required int Installment { get; init; }

    /// <summary>Gets the amount collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider's payment id.</summary>
    public required string PaymentId { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.InstallmentPaid;
}

/// <summary>An attempt to collect an installment failed; a <see cref="PaymentFailed"/> is recorded too.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.InstallmentFailed)]
public sealed record InstallmentFailed : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the 1-based installment number.</summary>
    public required int Installment { get; init; }

    /// <summary>Gets the amount not collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider's reason code, such as <c>insufficient_funds</c>.</summary>
    public required string Reason { get; init; }

    /// <summary>Gets how many attempts to collect this installment have failed so far.</summary>
    public required int Attempt { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.InstallmentFailed;
}

/// <summary>A buyer disputed a payment with their bank (a chargeback).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.PaymentDisputed)]
public sealed record PaymentDisputed : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the disputed amount.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider's id of the disputed payment.</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets the provider's dispute reason, such as <c>fraudulent</c>.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.PaymentDisputed;
}

/// <summary>A dispute (chargeback) on a payment was closed: won (the money came back) or lost.</summary>
/// <remarks>
/// Recorded once per dispute id. A won dispute restores the access its <see cref="PaymentDisputed"/> paused (under
/// <see cref="DisputeAccess.Pause"/>); a lost one leaves it paused. Funnel.Advocacy earns the affiliate commission
/// clawed back when the dispute opened again when it is won, and a referral reward the dispute held is pending
/// again (a lost dispute cancels it).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.DisputeClosed)]
public sealed record DisputeClosed : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the provider's dispute id.</summary>
    public required string DisputeId { get; init; }

    /// <summary>Gets the provider's id of the disputed payment.</summary>
    public required string PaymentId { get; init; }

    /// <summary>Gets the disputed amount.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets whether the seller won the dispute: <see langword="true"/> when the money came back.</summary>
    public required bool Won { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.DisputeClosed;
}

/// <summary>Access to an order's products was paused because an installment could not be collected.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.AccessPaused)]
public sealed record AccessPaused : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the overdue installment.</summary>
    public required int Installment { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.AccessPaused;
}

/// <summary>Paused access to an order's products was restored because the overdue installment was paid.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(PaymentEventTypes.AccessRestored)]
public sealed record AccessRestored : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <inheritdoc/>
    public override string EventType => PaymentEventTypes.AccessRestored;
}
