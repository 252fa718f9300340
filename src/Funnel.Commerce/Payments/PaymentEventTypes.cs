namespace Funnel.Payments;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the payment events (Funnel.Commerce).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class PaymentEventTypes
{
    /// <summary>One installment of a payment plan was collected (<see cref="Funnel.Payments.InstallmentPaid"/>).</summary>
    public const string InstallmentPaid = "installment_paid";

    /// <summary>An attempt to collect an installment failed (<see cref="Funnel.Payments.InstallmentFailed"/>).</summary>
    public const string InstallmentFailed = "installment_failed";

    /// <summary>A buyer disputed a payment with their bank (<see cref="Funnel.Payments.PaymentDisputed"/>).</summary>
    public const string PaymentDisputed = "payment_disputed";

    /// <summary>A dispute was closed, won or lost (<see cref="Funnel.Payments.DisputeClosed"/>).</summary>
    public const string DisputeClosed = "dispute_closed";

    /// <summary>Access was paused because an installment could not be collected (<see cref="Funnel.Payments.AccessPaused"/>).</summary>
    public const string AccessPaused = "access_paused";

    /// <summary>Paused access was restored after the overdue installment was paid (<see cref="Funnel.Payments.AccessRestored"/>).</summary>
    public const string AccessRestored = "access_restored";
}
