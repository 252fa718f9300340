using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Advocacy;

public class AdvocacyRegistrationTests
{
    [Fact]
    public void AddFunnel_WithCoursesWebinarsAndSettings_ResolvesTheAdvocacyServices()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 10, 5, 12, 0));
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(new Course { Key = "masterclass-videos", Modules = ["one", "two"] })
            .AddSingleton(new Webinar { Key = "w", Length = Duration.FromHours(1), Every = Duration.FromMinutes(15) })
            .AddSingleton(new AffiliateProgramSettings { Currency = Currency.USD, Rules = [new CommissionRule { Percent = 30m }] })
            .AddFunnel()
            .BuildServiceProvider();

        provider.GetRequiredService<ReviewService>().ShouldNotBeNull();
        provider.GetRequiredService<IEntitlementLookup>().ShouldBeSameAs(provider.GetRequiredService<EntitlementLedger>());
        provider.GetRequiredService<CourseProgressTracker>().ShouldNotBeNull();
        provider.GetRequiredService<WebinarRegistrar>().Register("w", LeadId.New(), DateTimeZone.Utc).Registration.Session.StartsAt
            .ShouldBe(Instant.FromUtc(2026, 10, 5, 12, 0));
        provider.GetRequiredService<AffiliateProgram>().Settings.Rules.ShouldHaveSingleItem();
    }

    [Fact]
    public void AddFunnel_OwnReviewStoreRegisteredFirst_IsKept()
    {
        var store = new InMemoryReviewStore();
        using ServiceProvider provider = new ServiceCollection().AddSingleton<IReviewStore>(store).AddFunnel().BuildServiceProvider();

        provider.GetRequiredService<IReviewStore>().ShouldBeSameAs(store);
    }
}
