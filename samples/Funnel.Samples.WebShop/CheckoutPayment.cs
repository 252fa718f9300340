using Funnel.Events;
using Funnel.Offers;

namespace Funnel.Samples.WebShop;

/// <summary>The one place the shop takes money: collects the first charge of an order.</summary>
/// <remarks>
/// This is the sample's payment step in test mode: no card is charged, the first scheduled charge is simply
/// recorded as paid with <see cref="OrderService.RecordPaymentAsync"/>, which grants the entitlements. A real shop
/// calls its payment provider here and records the payment when the provider confirms it.
/// </remarks>
public sealed class CheckoutPayment(OrderService orders)
{
    /// <summary>Gets the payment method reference stored with orders, for one-click upsells.</summary>
    public static string PaymentMethodOf(LeadId lead) => "pm_test_" + lead.Value.ToString("N");

    /// <summary>Collects the order's first charge (the full price, or the first installment of a plan).</summary>
    public async Task<IReadOnlyList<FunnelEvent>> CollectFirstChargeAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        OrderResult paid = await orders.RecordPaymentAsync(order.Id, order.Schedule[0].Amount, cancellationToken).ConfigureAwait(false);
        return paid.Events;
    }
}
