using Funnel.CartRecovery;
using Funnel.Invoices;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.PostgreSql.Commerce;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.PostgreSql;

public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    static partial void AddCommerceStores(IServiceCollection services)
    {
        Replace<IOrderStore, PgOrderStore>(services);
        Replace<IWebhookEventStore, PgWebhookEventStore>(services);
        Replace<ISeatInventory, PgSeatInventory>(services);
        Replace<ICouponRedemptionStore, PgCouponRedemptionStore>(services);
        Replace<IDeadlineStore, PgDeadlineStore>(services);
        Replace<ICheckoutStore, PgCheckoutStore>(services);
        Replace<IInvoiceStore, PgInvoiceStore>(services);
        Replace<Funnel.Waitlists.IWaitlistStore, PgWaitlistStore>(services);
        Replace<Funnel.Subscriptions.ISubscriptionStore, PgSubscriptionStore>(services);
    }
}
