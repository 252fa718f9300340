using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Webinars;
using Funnel.DependencyInjection;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel.Advocacy services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class AdvocacyServiceCollectionExtensions
{
    /// <summary>Adds the onboarding, review, affiliate, referral and webinar services.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: in-memory review and course-progress stores, a
    /// <see cref="ReviewService"/>, <see cref="CourseProgressTracker"/> and <see cref="WebinarRegistrar"/> over the
    /// <see cref="Course"/> and <see cref="Webinar"/> instances you register, an <see cref="AffiliateProgram"/> and
    /// <see cref="ReferralProgram"/> from their settings, and the <c>advocacy</c> report section
    /// (<see cref="AdvocacyMetrics.ReportSection"/>). Every engine records its own events in the
    /// <c>IFunnelEventLog</c>. Registers the pipeline handlers <c>affiliates</c> (commissions from order, payment, refund
    /// and chargeback events), <c>referrals</c> (the referrer's reward on the friend's purchase) and <c>onboarding</c>
    /// (course access from entitlement events), and the jobs <c>webinar-no-shows</c> (every minute) and
    /// <c>advocacy-clearing</c> (every 15 minutes: commissions and referral rewards past the refund window), which run in
    /// a host that calls <c>AddFunnelHosting()</c>. Also calls
    /// <see cref="CommerceServiceCollectionExtensions.AddFunnelCommerce"/>, which this package builds on.
    /// </para>
    /// <para>
    /// Calls <see cref="FunnelServiceCollectionExtensions.AddFunnel(IServiceCollection)"/> itself, so it may come before
    /// or after <c>AddFunnel(options =&gt; ...)</c>. Calling this method again registers nothing twice. Register your
    /// own services before or after this call to replace any of them.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelAdvocacy(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnel();
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.AddFunnelCommerce();
        services.AddFunnelEventTypes(typeof(AffiliateProgram).Assembly);
        AdvocacyRegistration.AddAdvocacy(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(AdvocacyMetrics.ReportSection));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelAdvocacy"/> ran.</summary>
    private sealed class Marker;
}
