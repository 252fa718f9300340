using Funnel.CartRecovery;
using Funnel.Invoices;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.Sqlite.Commerce;
using Funnel.Subscriptions;
using Funnel.Waitlists;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.Sqlite;

public static partial class FunnelSqliteServiceCollectionExtensions
{
    static partial void AddCommerceStores(IServiceCollection services)
    {
        Replace<IOrderStore, SqliteOrderStore>(services);
        Replace<IWebhookEventStore, SqliteWebhookEventStore>(services);
        Replace<ISeatInventory, SqliteSeatInventory>(services);
        Replace<ICouponRedemptionStore, SqliteCouponRedemptionStore>(services);
        Replace<IDeadlineStore, SqliteDeadlineStore>(services);
        Replace<ICheckoutStore, SqliteCheckoutStore>(services);
        Replace<IInvoiceStore, SqliteInvoiceStore>(services);
        Replace<IWaitlistStore, SqliteWaitlistStore>(services);
        Replace<ISubscriptionStore, SqliteSubscriptionStore>(services);
    }
}
