using Funnel.Payments;

namespace Funnel.Samples.Snippets.Seams;

// The seam as docs/payments.md shows it, a copy of Funnel.Payments.IPaymentGateway kept in its own namespace.
// <snippet:payments-seam>
public interface IPaymentGateway
{
    Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default);
    Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default);
    Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default);
    Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default);
}
// </snippet:payments-seam>
