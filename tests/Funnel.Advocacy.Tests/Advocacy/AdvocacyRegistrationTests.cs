using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Segments;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Advocacy;

public class AdvocacyRegistrationTests
{
    [Fact]
    public async Task AddFunnelAdvocacy_WithCoursesWebinarsAndSettings_ResolvesTheAdvocacyServices()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(new Course { Key = "masterclass-videos", Modules = ["one", "two"] })
            .AddSingleton(new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) })
            .AddSingleton(new AffiliateProgramSettings { Currency = Currency.USD, Rules = [new CommissionRule { Percent = 30m }] })
            .AddFunnelAdvocacy()
            .BuildServiceProvider();

        provider.GetRequiredService<ReviewService>().ShouldNotBeNull();
        provider.GetRequiredService<IEntitlementLookup>().ShouldBeSameAs(provider.GetRequiredService<EntitlementLedger>());
        provider.GetRequiredService<CourseProgressTracker>().ShouldNotBeNull();
        (await provider.GetRequiredService<WebinarRegistrar>().RegisterAsync("w", LeadId.New(), DateTimeZone.Utc)).Registration.Session.StartsAt
            .ShouldBe(Instant.FromUtc(2026, 10, 5, 12, 0));
        provider.GetRequiredService<AffiliateProgram>().Settings.Rules.ShouldHaveSingleItem();
    }

    [Fact]
    public void AddFunnelAdvocacy_OwnReviewStoreRegisteredFirst_IsKept()
    {
        var store = new InMemoryReviewStore();
        using ServiceProvider provider = new ServiceCollection().AddSingleton<IReviewStore>(store).AddFunnelAdvocacy().BuildServiceProvider();

        provider.GetRequiredService<IReviewStore>().ShouldBeSameAs(store);
    }

    [Fact]
    public void AddFunnelAdvocacy_NoStoresRegistered_RegistersOneInMemoryStorePerSeam()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelAdvocacy().BuildServiceProvider();

        provider.GetRequiredService<IEntitlementStore>().ShouldBeOfType<InMemoryEntitlementStore>();
        provider.GetRequiredService<IWebinarRegistrationStore>().ShouldBeOfType<InMemoryWebinarRegistrationStore>();
        provider.GetRequiredService<IAffiliateStore>().ShouldBeOfType<InMemoryAffiliateStore>();
        provider.GetRequiredService<IAffiliateClickStore>().ShouldBeOfType<InMemoryAffiliateClickStore>();
        provider.GetRequiredService<IAffiliateSaleStore>().ShouldBeOfType<InMemoryAffiliateSaleStore>();
        provider.GetRequiredService<IAffiliatePayoutStore>().ShouldBeOfType<InMemoryAffiliatePayoutStore>();
        provider.GetRequiredService<IReferrerStore>().ShouldBeOfType<InMemoryReferrerStore>();
        provider.GetRequiredService<IReferralStore>().ShouldBeOfType<InMemoryReferralStore>();
        provider.GetRequiredService<ISegmentMembershipStore>().ShouldBeOfType<InMemorySegmentMembershipStore>();
        provider.GetRequiredService<IAffiliateSaleStore>().ShouldBeSameAs(provider.GetRequiredService<IAffiliateSaleStore>());
    }

    [Fact]
    public async Task AddFunnelAdvocacy_OwnStoresRegisteredFirst_AreKeptAndUsedByTheEngines()
    {
        var registrations = new InMemoryWebinarRegistrationStore();
        var entitlements = new InMemoryEntitlementStore();
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton<IWebinarRegistrationStore>(registrations)
            .AddSingleton<IEntitlementStore>(entitlements)
            .AddSingleton(new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) })
            .AddFunnelAdvocacy()
            .BuildServiceProvider();
        LeadId lead = LeadId.New();

        await provider.GetRequiredService<WebinarRegistrar>().RegisterAsync("w", lead, DateTimeZone.Utc);
        await provider.GetRequiredService<EntitlementLedger>().ApplyAsync(
            new Funnel.Offers.EntitlementGranted { LeadId = lead, OccurredAt = clock.GetCurrentInstant(), Order = OrderId.New(), Product = "course" });

        (await registrations.FindAsync("w", lead)).ShouldNotBeNull();
        (await entitlements.ListAsync(lead, "course", 10)).ShouldHaveSingleItem().Held.ShouldBeTrue();
    }

    [Fact]
    public void AddFunnelAdvocacy_NullServices_Throws() =>
        Should.Throw<ArgumentNullException>(() => AdvocacyServiceCollectionExtensions.AddFunnelAdvocacy(null!));

    [Fact]
    public void AddFunnelAdvocacy_CalledTwice_AddsCommerceAndBothSectionsOnce()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelAdvocacy().AddFunnelAdvocacy().BuildServiceProvider();

        provider.GetServices<Funnel.Kpis.IFunnelReportSection>().Select(s => s.Key).Order(StringComparer.Ordinal)
            .ShouldBe(["advocacy", "payments"]);
        Funnel.Kpis.FunnelReport report = provider.GetRequiredService<Funnel.Kpis.IFunnelReporter>()
            .CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, []);
        report.Section<AdvocacyMetrics>().ShouldNotBeNull().Cohorts.ShouldBeEmpty();
    }
}
