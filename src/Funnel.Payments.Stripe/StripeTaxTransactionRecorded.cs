using Funnel.Events;

namespace Funnel.Payments.Stripe;

/// <summary>An order's sale was recorded with Stripe Tax: a tax transaction was created from its calculation.</summary>
/// <remarks>
/// Appended by the <c>stripe-tax</c> handler of <c>AddFunnelStripeTax</c> once the order is paid. It is the durable
/// record of the Stripe transaction id, which each refund's reversal names; its event id is derived from the order, so
/// appending it again changes nothing.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(StripeTaxTransactionRecorded.TypeName)]
public sealed record StripeTaxTransactionRecorded : LeadEvent
{
    /// <summary>The stable name of the event type: <c>stripe_tax_transaction_recorded</c>.</summary>
    public const string TypeName = "stripe_tax_transaction_recorded";

    /// <summary>Gets the order whose sale was recorded.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the Stripe Tax calculation the transaction was created from, such as <c>taxcalc_1NaS</c>.</summary>
    public required string Calculation { get; init; }

    /// <summary>Gets the Stripe Tax transaction, such as <c>tax_1NaT</c>.</summary>
    public required string Transaction { get; init; }

    /// <inheritdoc/>
    public override string EventType => TypeName;
}
