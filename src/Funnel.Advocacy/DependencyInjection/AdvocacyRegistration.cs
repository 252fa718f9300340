using FluentValidation;
using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Onboarding;
using Funnel.Pipeline;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers the onboarding, review, affiliate, referral and webinar services (called by <c>AddFunnel</c>).</summary>
internal static class AdvocacyRegistration
{
    /// <summary>Adds the in-memory stores (reviews, course progress, entitlements, webinar registrations, affiliates, clicks, affiliate sales, payouts, referrers and referrals; each replaceable by registering your own first), validators, the review service, the course progress tracker and webinar registrar (over the registered <see cref="Course"/> and <see cref="Webinar"/> instances), and, when their settings are registered, the affiliate and referral programs (the affiliate program converting sales in other currencies with the registered <see cref="IExchangeRates"/>, if any); the <c>affiliates</c>, <c>referrals</c> and <c>onboarding</c> handlers and the <c>webinar-no-shows</c> and <c>advocacy-clearing</c> jobs.</summary>
    public static void AddAdvocacy(IServiceCollection services)
    {
        services.TryAddSingleton<IValidator<Course>, CourseValidator>();
        services.TryAddSingleton<IValidator<Webinar>, WebinarValidator>();
        services.TryAddSingleton<IValidator<ReviewSubmission>, ReviewSubmissionValidator>();
        services.TryAddSingleton<IValidator<AffiliateProgramSettings>, AffiliateProgramSettingsValidator>();
        services.TryAddSingleton<IValidator<ReferralProgramSettings>, ReferralProgramSettingsValidator>();
        services.TryAddSingleton<IReviewStore, InMemoryReviewStore>();
        services.TryAddSingleton<ICourseProgressStore, InMemoryCourseProgressStore>();
        services.TryAddSingleton<IEntitlementStore, InMemoryEntitlementStore>();
        services.TryAddSingleton<IWebinarRegistrationStore, InMemoryWebinarRegistrationStore>();
        services.TryAddSingleton<IAffiliateStore, InMemoryAffiliateStore>();
        services.TryAddSingleton<IAffiliateClickStore, InMemoryAffiliateClickStore>();
        services.TryAddSingleton<IAffiliateSaleStore, InMemoryAffiliateSaleStore>();
        services.TryAddSingleton<IAffiliatePayoutStore, InMemoryAffiliatePayoutStore>();
        services.TryAddSingleton<IReferrerStore, InMemoryReferrerStore>();
        services.TryAddSingleton<IReferralStore, InMemoryReferralStore>();
        services.TryAddSingleton<EntitlementLedger>();
        services.TryAddSingleton<IEntitlementLookup>(sp => sp.GetRequiredService<EntitlementLedger>());
        services.TryAddSingleton(sp => new ReviewService(sp.GetRequiredService<IReviewStore>(), sp.GetRequiredService<IClock>(), sp.GetRequiredService<IFunnelEventLog>()));
        services.TryAddSingleton(sp => new CourseProgressTracker(
            sp.GetServices<Course>(), sp.GetRequiredService<ICourseProgressStore>(), sp.GetRequiredService<IEntitlementLookup>(), sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>()));
        services.TryAddSingleton(sp => new WebinarRegistrar(
            sp.GetServices<Webinar>(), sp.GetRequiredService<IWebinarRegistrationStore>(), sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>()));
        services.TryAddSingleton(sp => new AffiliateProgram(
            sp.GetRequiredService<AffiliateProgramSettings>(),
            sp.GetRequiredService<IAffiliateStore>(),
            sp.GetRequiredService<IAffiliateClickStore>(),
            sp.GetRequiredService<IAffiliateSaleStore>(),
            sp.GetRequiredService<IAffiliatePayoutStore>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetService<IExchangeRates>()));
        services.TryAddSingleton(sp => new ReferralProgram(
            sp.GetRequiredService<ReferralProgramSettings>(),
            sp.GetRequiredService<IReferrerStore>(),
            sp.GetRequiredService<IReferralStore>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IFunnelEventLog>()));
        services.AddFunnelHandler<AffiliateCommissionHandler>("affiliates");
        services.AddFunnelHandler<ReferralRewardHandler>("referrals");
        services.AddFunnelHandler<OnboardingHandler>("onboarding");
        services.AddFunnelJob<WebinarNoShowJob>();
        services.AddFunnelJob<AdvocacyClearingJob>();
    }
}
