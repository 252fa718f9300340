using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.Sqlite.Advocacy;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.Sqlite;

/// <summary>The SQLite stores of Funnel.Advocacy.</summary>
public static partial class FunnelSqliteServiceCollectionExtensions
{
    static partial void AddAdvocacyStores(IServiceCollection services)
    {
        Replace<IAffiliateStore, SqliteAffiliateStore>(services);
        Replace<IAffiliateClickStore, SqliteAffiliateClickStore>(services);
        Replace<IAffiliateSaleStore, SqliteAffiliateSaleStore>(services);
        Replace<IAffiliatePayoutStore, SqliteAffiliatePayoutStore>(services);
        Replace<IReferrerStore, SqliteReferrerStore>(services);
        Replace<IReferralStore, SqliteReferralStore>(services);
        Replace<IReviewStore, SqliteReviewStore>(services);
        Replace<ICourseProgressStore, SqliteCourseProgressStore>(services);
        Replace<IEntitlementStore, SqliteEntitlementStore>(services);
        Replace<IWebinarRegistrationStore, SqliteWebinarRegistrationStore>(services);
    }
}
