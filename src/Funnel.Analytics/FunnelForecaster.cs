using System.Collections.Immutable;

namespace Funnel.Analytics;

/// <summary>What a forecast starts from: the measured counts per stage, orders, revenue and ad spend.</summary>
/// <remarks>
/// <see cref="StageCounts"/> lists the people at each stage in funnel order, from the paid visitors (clicks) to the
/// buyers, such as 50,000 visitors → 5,000 leads → 1,000 sales-page visitors → 50 buyers. The stage rates are the
/// ratios of consecutive counts.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ForecastBaseline
{
    /// <summary>Gets the people at each stage, from visitors to buyers; at least two, never increasing.</summary>
    public required ImmutableArray<long> StageCounts { get; init; }

    /// <summary>Gets the orders placed by the buyers.</summary>
    public required long Orders { get; init; }

    /// <summary>Gets the revenue of those orders.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the ad spend that bought the visitors.</summary>
    public required Money AdSpend { get; init; }

    /// <summary>Creates a baseline from a funnel analysis, whose steps are the stages.</summary>
    /// <param name="analysis">The analysis; its first step is the paid visit and its last the purchase.</param>
    /// <param name="orders">The orders placed.</param>
    /// <param name="revenue">The revenue.</param>
    /// <param name="adSpend">The ad spend.</param>
    /// <returns>The baseline.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="analysis"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="orders"/>, <paramref name="revenue"/> or <paramref name="adSpend"/> is negative.</exception>
    public static ForecastBaseline FromAnalysis(FunnelAnalysis analysis, long orders, Money revenue, Money adSpend)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentOutOfRangeException.ThrowIfNegative(orders);
        if (revenue.IsNegative)
        {
            throw new ArgumentOutOfRangeException(nameof(revenue), revenue, "The revenue must not be negative.");
        }

        if (adSpend.IsNegative)
        {
            throw new ArgumentOutOfRangeException(nameof(adSpend), adSpend, "The ad spend must not be negative.");
        }

        return new ForecastBaseline { StageCounts = [.. analysis.Steps.Select(s => s.Reached)], Orders = orders, Revenue = revenue, AdSpend = adSpend };
    }
}

/// <summary>A deterministic projection of the funnel for an ad budget.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelForecast
{
    /// <summary>Gets the ad spend projected.</summary>
    public required Money AdSpend { get; init; }

    /// <summary>Gets the expected people per stage, from visitors to buyers.</summary>
    public required ImmutableArray<decimal> StageCounts { get; init; }

    /// <summary>Gets the expected buyers (the last stage).</summary>
    public decimal Buyers => StageCounts[^1];

    /// <summary>Gets the expected revenue, rounded to whole minor units.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the expected cost per buyer, or <see langword="null"/> when no buyer is expected.</summary>
    public required Money? CustomerAcquisitionCost { get; init; }

    /// <summary>Gets the expected revenue ÷ ad spend.</summary>
    public required Ratio ReturnOnAdSpend { get; init; }

    /// <summary>Gets the most you can pay per lead (the second stage) and break even: revenue per lead, rounded down.</summary>
    public required Money BreakEvenCostPerLead { get; init; }

    /// <summary>Gets the most you can pay per click (the first stage) and break even: revenue per visitor, rounded down.</summary>
    public required Money BreakEvenCostPerClick { get; init; }
}

/// <summary>A low–median–high band of a simulated amount.</summary>
/// <param name="Low">The 5th percentile.</param>
/// <param name="Median">The median.</param>
/// <param name="High">The 95th percentile.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record MoneyBand(Money Low, Money Median, Money High);

/// <summary>A low–median–high band of a simulated count or ratio.</summary>
/// <param name="Low">The 5th percentile.</param>
/// <param name="Median">The median.</param>
/// <param name="High">The 95th percentile.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ValueBand(double Low, double Median, double High);

/// <summary>A Monte Carlo forecast: bands for buyers, revenue, CAC and ROAS at a 90 % level.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelSimulation
{
    /// <summary>Gets the ad spend simulated.</summary>
    public required Money AdSpend { get; init; }

    /// <summary>Gets the number of simulated runs.</summary>
    public required int Runs { get; init; }

    /// <summary>Gets the band of buyers.</summary>
    public required ValueBand Buyers { get; init; }

    /// <summary>Gets the band of revenue.</summary>
    public required MoneyBand Revenue { get; init; }

    /// <summary>Gets the band of the cost per buyer (runs with no buyer count as the whole spend).</summary>
    public required MoneyBand CustomerAcquisitionCost { get; init; }

    /// <summary>Gets the band of revenue ÷ ad spend.</summary>
    public required ValueBand ReturnOnAdSpend { get; init; }

    /// <summary>Gets the share of runs in which revenue covers the ad spend.</summary>
    public required double ChanceToBreakEven { get; init; }
}

/// <summary>Projects a funnel for another ad budget, from its measured stage rates, order value and cost per visitor.</summary>
/// <remarks>
/// <para>
/// The projection assumes the cost per visitor and every stage rate stay as measured: visitors = new spend ×
/// measured visitors ÷ measured spend, each next stage = previous × its rate, revenue = buyers × measured revenue
/// per buyer. Real campaigns usually get dearer as they scale, so treat a projection for a much larger budget
/// as an upper bound. Money stays exact: amounts are rounded once, to whole minor units.
/// </para>
/// <para>
/// The Monte Carlo mode keeps the visitors deterministic and draws every stage rate from its Beta posterior
/// Beta(1 + converted, 1 + not converted) (uniform prior), with a seeded random generator, so the bands show
/// how uncertain the measured rates are and the same seed always gives the same bands.
/// </para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class FunnelForecaster
{
    /// <summary>Projects the funnel for an ad budget.</summary>
    /// <param name="baseline">The measured funnel.</param>
    /// <param name="adSpend">The budget to project.</param>
    /// <returns>The projection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="baseline"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The baseline is invalid (fewer than 2 stages, increasing counts, no spend, no buyers) or the currencies differ.</exception>
    public static FunnelForecast Project(ForecastBaseline baseline, Money adSpend)
    {
        Check(baseline, adSpend);
        ImmutableArray<long> counts = baseline.StageCounts;
        decimal visitors = (decimal)counts[0] * adSpend.MinorUnits / baseline.AdSpend.MinorUnits;
        var stages = ImmutableArray.CreateBuilder<decimal>(counts.Length);
        stages.Add(visitors);
        for (int i = 1; i < counts.Length; i++)
        {
            stages.Add(counts[i - 1] == 0 ? 0 : stages[i - 1] * counts[i] / counts[i - 1]);
        }

        decimal buyers = stages[^1];
        long baselineBuyers = counts[^1];
        Money revenue = baseline.Revenue.Multiply(buyers / baselineBuyers, MidpointRounding.AwayFromZero);
        return new FunnelForecast
        {
            AdSpend = adSpend,
            StageCounts = stages.MoveToImmutable(),
            Revenue = revenue,
            CustomerAcquisitionCost = buyers == 0 ? null : adSpend.Multiply(1m / buyers, MidpointRounding.AwayFromZero),
            ReturnOnAdSpend = Ratio.Of(revenue, adSpend),
            BreakEvenCostPerLead = baseline.Revenue.Divide(counts[1], MidpointRounding.ToZero),
            BreakEvenCostPerClick = baseline.Revenue.Divide(counts[0], MidpointRounding.ToZero),
        };
    }

    /// <summary>Simulates the funnel for an ad budget, drawing the stage rates from their posteriors.</summary>
    /// <param name="baseline">The measured funnel.</param>
    /// <param name="adSpend">The budget to simulate.</param>
    /// <param name="runs">The number of runs; at least 100.</param>
    /// <param name="seed">The random seed; the same seed gives the same bands.</param>
    /// <returns>The bands (5th, 50th and 95th percentiles).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="baseline"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The baseline is invalid or the currencies differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="runs"/> is below 100 or above 10,000,000.</exception>
    public static FunnelSimulation Simulate(ForecastBaseline baseline, Money adSpend, int runs = 10_000, int seed = 1)
    {
        Check(baseline, adSpend);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(runs, 10_000_000); // four arrays of runs: bound the memory
        ImmutableArray<long> counts = baseline.StageCounts;
        double visitors = (double)counts[0] * adSpend.MinorUnits / baseline.AdSpend.MinorUnits;
        double revenuePerBuyer = (double)baseline.Revenue.MinorUnits / counts[^1];
        var random = new Random(seed);
        var buyers = new double[runs];
        var revenue = new long[runs];
        var cac = new long[runs];
        var roas = new double[runs];
        int breakEven = 0;
        for (int r = 0; r < runs; r++)
        {
            double people = visitors;
            for (int i = 1; i < counts.Length; i++)
            {
                people *= SampleBeta(random, 1 + counts[i], 1 + counts[i - 1] - counts[i]);
            }

            buyers[r] = people;
            revenue[r] = (long)Math.Round(people * revenuePerBuyer, MidpointRounding.AwayFromZero);
            cac[r] = people < 1e-9 ? adSpend.MinorUnits : (long)Math.Round(adSpend.MinorUnits / people, MidpointRounding.AwayFromZero);
            roas[r] = (double)revenue[r] / adSpend.MinorUnits;
            if (revenue[r] >= adSpend.MinorUnits)
            {
                breakEven++;
            }
        }

        Array.Sort(buyers);
        Array.Sort(revenue);
        Array.Sort(cac);
        Array.Sort(roas);
        Currency currency = adSpend.Currency;
        return new FunnelSimulation
        {
            AdSpend = adSpend,
            Runs = runs,
            Buyers = new ValueBand(Percentile(buyers, 0.05), Percentile(buyers, 0.5), Percentile(buyers, 0.95)),
            Revenue = new MoneyBand(M(Percentile(revenue, 0.05)), M(Percentile(revenue, 0.5)), M(Percentile(revenue, 0.95))),
            CustomerAcquisitionCost = new MoneyBand(M(Percentile(cac, 0.05)), M(Percentile(cac, 0.5)), M(Percentile(cac, 0.95))),
            ReturnOnAdSpend = new ValueBand(Percentile(roas, 0.05), Percentile(roas, 0.5), Percentile(roas, 0.95)),
            ChanceToBreakEven = (double)breakEven / runs,
        };

        Money M(long minor) => Money.FromMinorUnits(minor, currency);
    }

    private static T Percentile<T>(T[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>Draws from Beta(a, b) as X ÷ (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    internal static double SampleBeta(Random random, double a, double b)
    {
        double x = SampleGamma(random, a);
        double y = SampleGamma(random, b);
        return x / (x + y);
    }

    /// <summary>Draws from Gamma(shape, 1) with Marsaglia and Tsang's method (shape ≥ 1 here).</summary>
    private static double SampleGamma(Random random, double shape)
    {
        double d = shape - (1.0 / 3);
        double c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x;
            double v;
            do
            {
                x = SampleNormal(random);
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            double u = random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    private static double SampleNormal(Random random)
    {
        // Box–Muller; 1 − NextDouble() is in (0, 1], so the logarithm is finite.
        double u1 = 1 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void Check(ForecastBaseline baseline, Money adSpend)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ImmutableArray<long> counts = baseline.StageCounts;
        if (counts.IsDefault || counts.Length < 2)
        {
            throw new ArgumentException("'StageCounts' must list at least two stages, from visitors to buyers.", nameof(baseline));
        }

        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] < 0 || (i > 0 && counts[i] > counts[i - 1]))
            {
                throw new ArgumentException($"'StageCounts[{i}]' must be between 0 and the previous stage's count, not {counts[i]}.", nameof(baseline));
            }
        }

        if (counts[^1] == 0)
        {
            throw new ArgumentException("'StageCounts' must end with at least one buyer to measure revenue per buyer.", nameof(baseline));
        }

        if (!baseline.AdSpend.IsPositive)
        {
            throw new ArgumentException("'AdSpend' must be positive to measure the cost per visitor.", nameof(baseline));
        }

        if (baseline.Revenue.Currency != adSpend.Currency || baseline.AdSpend.Currency != adSpend.Currency)
        {
            throw new ArgumentException($"The ad spend is in {adSpend.Currency} but the baseline is in {baseline.AdSpend.Currency}.", nameof(adSpend));
        }

        if (adSpend.IsNegative)
        {
            throw new ArgumentException("The ad spend must not be negative.", nameof(adSpend));
        }
    }
}
