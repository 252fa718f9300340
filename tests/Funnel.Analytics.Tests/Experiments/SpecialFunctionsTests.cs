using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests.Experiments;

/// <summary>The special functions against well-known table values (Abramowitz &amp; Stegun; standard normal, t and chi-square tables).</summary>
public class SpecialFunctionsTests
{
    [Theory]
    [InlineData(1.96, 0.9750021048517795)]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.0, 0.15865525393145707)]
    [InlineData(2.5758293035489004, 0.995)]
    [InlineData(-6.0, 9.865876450376946e-10)]
    public void NormalCdf_TableValues_Agree(double z, double expected) =>
        SpecialFunctions.NormalCdf(z).ShouldBe(expected, Math.Max(1e-14, expected * 1e-9));

    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.95, 1.6448536269514722)]
    [InlineData(0.8, 0.8416212335729143)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(1e-10, -6.361340902404056)]
    public void NormalQuantile_TableValues_Agree(double p, double expected) =>
        SpecialFunctions.NormalQuantile(p).ShouldBe(expected, 1e-12);

    [Theory]
    [InlineData(0.5, 0.5723649429247001)] // ln Γ(½) = ln √π
    [InlineData(10.0, 12.801827480081469)] // ln 9!
    [InlineData(100.5, 361.4355404677776)]
    public void LogGamma_KnownValues_Agree(double x, double expected) =>
        SpecialFunctions.LogGamma(x).ShouldBe(expected, 1e-10);

    [Theory]
    [InlineData(0.975, 1.0, 12.706204736174698)]
    [InlineData(0.975, 10.0, 2.2281388519862744)]
    [InlineData(0.975, 30.0, 2.0422724563012373)]
    [InlineData(0.95, 5.0, 2.015048372669157)]
    [InlineData(0.995, 2.0, 9.924843200918276)]
    public void StudentTQuantile_TableValues_Agree(double p, double df, double expected) =>
        SpecialFunctions.StudentTQuantile(p, df).ShouldBe(expected, 1e-8);

    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]
    [InlineData(5.991464547107979, 2, 0.05)]
    [InlineData(6.6348966010212145, 1, 0.01)]
    public void ChiSquareUpperTail_TableValues_Agree(double x, int df, double expected) =>
        SpecialFunctions.GammaQ(df / 2.0, x / 2).ShouldBe(expected, 1e-10);

    [Fact]
    public void IncompleteBeta_Symmetric_IsOneHalfAtTheMiddle() =>
        SpecialFunctions.IncompleteBeta(3.5, 3.5, 0.5).ShouldBe(0.5, 1e-13);
}
