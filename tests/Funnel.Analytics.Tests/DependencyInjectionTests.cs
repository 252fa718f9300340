using FluentValidation;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Analytics.Tests;

public class DependencyInjectionTests
{
    [Fact]
    public void AddFunnelAnalytics_RegistersAnalyticsAndCoreServices()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelAnalytics().BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        provider.GetRequiredService<ExperimentAssigner>().ShouldNotBeNull();
        provider.GetRequiredService<IValidator<Experiment>>().ShouldBeOfType<ExperimentValidator>();
        provider.GetRequiredService<IValidator<FunnelQuery>>().ShouldBeOfType<FunnelQueryValidator>();
        provider.GetRequiredService<IFunnelReporter>().ShouldNotBeNull();
    }

    [Fact]
    public void AddFunnelAnalytics_RegistersTheExperimentEventForTheJsonContract()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelAnalytics().BuildServiceProvider();
        var exposed = new ExperimentExposed
        {
            LeadId = LeadId.New(), OccurredAt = NodaTime.Instant.FromUtc(2026, 12, 4, 15, 52), Experiment = "headline", Variant = "b",
        };

        provider.GetRequiredService<FunnelEventTypes>().TryFind(EventTypes.ExperimentExposed, out _).ShouldBeTrue();
        FunnelEventSerializer serializer = provider.GetRequiredService<FunnelEventSerializer>();
        serializer.Deserialize(serializer.Serialize(exposed)).ShouldBe(exposed);
    }

    [Fact]
    public void AddFunnelAnalytics_Twice_RegistersNothingTwice()
    {
        var services = new ServiceCollection().AddFunnelAnalytics();
        int count = services.Count;

        services.AddFunnelAnalytics().Count.ShouldBe(count);
    }

    [Fact]
    public void AddFunnelAnalytics_AfterACustomAssigner_KeepsIt()
    {
        var mine = new ExperimentAssigner();
        using ServiceProvider provider = new ServiceCollection().AddSingleton(mine).AddFunnelAnalytics().BuildServiceProvider();

        provider.GetRequiredService<ExperimentAssigner>().ShouldBeSameAs(mine);
    }

    [Fact]
    public void AddFunnelAnalytics_NullServices_Throws() =>
        Should.Throw<ArgumentNullException>(() => AnalyticsServiceCollectionExtensions.AddFunnelAnalytics(null!));
}
