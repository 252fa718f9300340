using Funnel.Analytics.Experiments;
using Funnel.Email;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Analytics.Tests.Experiments;

public sealed class StatisticalVariantWinnerSelectorTests
{
    private static readonly StatisticalVariantWinnerSelector Selector = new(ExperimentStatisticsSettings.Default);

    [Fact]
    public void A_significantly_better_challenger_wins_once_every_variant_has_the_minimum_sample()
    {
        VariantResult[] results = [new("control", 500, 75), new("short", 500, 150)];

        Selector.SelectWinner(results, "control", minimumSamplePerVariant: 100).ShouldBe("short");
        Selector.SelectWinner(results, "control", minimumSamplePerVariant: 1_000).ShouldBeNull("too few sends");
    }

    [Fact]
    public void No_significant_difference_names_no_winner()
    {
        Selector.SelectWinner([new("control", 500, 75), new("short", 500, 80)], "control", 100).ShouldBeNull();
    }

    [Fact]
    public void A_variant_named_twice_or_impossible_results_are_refused()
    {
        Should.Throw<ArgumentException>(() => Selector.SelectWinner([new("control", 10, 1), new("control", 10, 2)], "control", 1)).Message.ShouldContain("named twice");
        Should.Throw<ArgumentException>(() => Selector.SelectWinner([new("control", 10, 11), new("short", 10, 2)], "control", 1));
    }

    [Fact]
    public void AddFunnelAnalytics_registers_it()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelAnalytics().BuildServiceProvider();

        provider.GetRequiredService<IVariantWinnerSelector>().ShouldBeOfType<StatisticalVariantWinnerSelector>();
    }
}
