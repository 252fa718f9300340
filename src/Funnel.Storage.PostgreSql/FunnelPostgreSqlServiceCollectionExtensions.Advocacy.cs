using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.PostgreSql;

/// <summary>The PostgreSQL stores of Funnel.Advocacy.</summary>
public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    static partial void AddAdvocacyStores(IServiceCollection services)
    {
        Replace<IAffiliateStore, PgAffiliateStore>(services);
        Replace<IAffiliateClickStore, PgAffiliateClickStore>(services);
        Replace<IAffiliateSaleStore, PgAffiliateSaleStore>(services);
        Replace<IAffiliatePayoutStore, PgAffiliatePayoutStore>(services);
        Replace<IReferrerStore, PgReferrerStore>(services);
        Replace<IReferralStore, PgReferralStore>(services);
        Replace<IReviewStore, PgReviewStore>(services);
        Replace<ICourseProgressStore, PgCourseProgressStore>(services);
        Replace<IEntitlementStore, PgEntitlementStore>(services);
        Replace<IWebinarRegistrationStore, PgWebinarRegistrationStore>(services);
    }
}
