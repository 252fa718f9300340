namespace Funnel.Analytics.Experiments;

/// <summary>The normal prior on the relative lift of GrowthBook's Bayesian engine.</summary>
/// <remarks>
/// <para>
/// GrowthBook's defaults, and ours: mean 0, standard deviation 0.3, and <see cref="IsProper"/> off, so the prior is
/// flat (improper) and the posterior is the data's normal approximation alone. A proper prior shrinks small, noisy
/// tests towards <see cref="Mean"/>: the posterior precision is the prior's plus the data's, and the posterior mean
/// their precision-weighted average.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BayesianPrior
{
    /// <summary>Gets the flat default: mean 0, standard deviation 0.3, not proper (GrowthBook's defaults).</summary>
    public static BayesianPrior Default { get; } = new();

    /// <summary>Gets the prior mean of the relative lift.</summary>
    /// <value>Defaults to 0.</value>
    public double Mean { get; init; }

    /// <summary>Gets the prior standard deviation of the relative lift (0.3 is ±30 % lift as one standard deviation).</summary>
    /// <value>Defaults to 0.3.</value>
    public double StandardDeviation { get; init; } = 0.3;

    /// <summary>Gets whether the prior is used; when off, the prior is flat and the data decide alone.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool IsProper { get; init; }
}

/// <summary>A Bayesian result on the relative lift of a treatment over the control.</summary>
/// <remarks>
/// <para>
/// The risk of a variant is its expected loss: the relative lift given up, on average over the posterior, by shipping it.
/// <see cref="ControlRisk"/> = E[max(lift, 0)] and <see cref="TreatmentRisk"/> = E[max(−lift, 0)], as GrowthBook
/// reports them (relative risk). Ship the treatment when its risk is below what you are willing to lose, such as 0.5 %.
/// Their difference is <see cref="ExpectedLift"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BayesianLiftResult
{
    /// <summary>Gets the posterior mean of the relative lift, (treatment − control) ÷ control.</summary>
    public required double ExpectedLift { get; init; }

    /// <summary>Gets the posterior standard deviation of the relative lift.</summary>
    /// <value><see cref="double.PositiveInfinity"/> when the posterior has no finite variance (the control has at most one conversion).</value>
    public required double StandardDeviation { get; init; }

    /// <summary>Gets the equal-tailed credible interval of the relative lift at the settings' confidence level.</summary>
    public required ConfidenceInterval CredibleInterval { get; init; }

    /// <summary>Gets the posterior probability that the treatment beats the control.</summary>
    public required double ChanceToWin { get; init; }

    /// <summary>Gets the expected relative loss of shipping the control: E[max(lift, 0)].</summary>
    public required double ControlRisk { get; init; }

    /// <summary>Gets the expected relative loss of shipping the treatment: E[max(−lift, 0)].</summary>
    public required double TreatmentRisk { get; init; }
}

/// <content>The Bayesian results: GrowthBook's normal approximation and exact Beta-binomial posteriors.</content>
public static partial class ExperimentStatistics
{
    // Composite 5-point Gauss–Legendre over the bulk of the control's Beta posterior.
    private const int Panels = 40;
    private const double BulkDeviations = 12;

    private static readonly double[] GaussNodes = [-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640];

    private static readonly double[] GaussWeights = [0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891];

    /// <summary>GrowthBook's Bayesian engine: a normal posterior on the relative lift from its delta-method estimate and variance.</summary>
    private static BayesianLiftResult NormalPosterior(double lift, double variance, ExperimentStatisticsSettings settings)
    {
        BayesianPrior prior = settings.Prior ?? BayesianPrior.Default;
        double mean = lift;
        if (prior.IsProper)
        {
            if (!(prior.StandardDeviation > 0))
            {
                throw new ArgumentOutOfRangeException(nameof(settings), prior.StandardDeviation, "'Prior.StandardDeviation' must be positive.");
            }

            double priorPrecision = 1 / (prior.StandardDeviation * prior.StandardDeviation);
            double precision = priorPrecision + (1 / variance);
            mean = ((prior.Mean * priorPrecision) + (lift / variance)) / precision;
            variance = 1 / precision;
        }

        double sd = Math.Sqrt(variance);
        double z = SpecialFunctions.NormalQuantile(1 - ((1 - settings.ConfidenceLevel) / 2));
        if (!(sd > 0))
        {
            double gain = Math.Max(mean, 0);
            return new BayesianLiftResult
            {
                ExpectedLift = mean,
                StandardDeviation = 0,
                CredibleInterval = new ConfidenceInterval(mean, mean),
                ChanceToWin = mean > 0 ? 1 : mean < 0 ? 0 : 0.5,
                ControlRisk = gain,
                TreatmentRisk = gain - mean,
            };
        }

        // E[max(X, 0)] for X ~ N(μ, σ²) is μΦ(μ/σ) + σφ(μ/σ); E[max(−X, 0)] is that minus μ.
        double ratio = mean / sd;
        double controlRisk = (mean * SpecialFunctions.NormalCdf(ratio)) + (sd * Math.Exp(-ratio * ratio / 2) / Math.Sqrt(2 * Math.PI));
        return new BayesianLiftResult
        {
            ExpectedLift = mean,
            StandardDeviation = sd,
            CredibleInterval = new ConfidenceInterval(mean - (z * sd), mean + (z * sd)),
            ChanceToWin = SpecialFunctions.NormalCdf(ratio),
            ControlRisk = controlRisk,
            TreatmentRisk = Math.Max(0, controlRisk - mean),
        };
    }

    /// <summary>Exact Beta(1 + conversions, 1 + non-conversions) posteriors; the control has at least one conversion.</summary>
    private static BayesianLiftResult BetaPosterior(ConversionSample control, ConversionSample treatment, double level)
    {
        var a = new BetaPosteriorParameters(1 + control.Conversions, 1 + control.Visitors - control.Conversions);
        var b = new BetaPosteriorParameters(1 + treatment.Conversions, 1 + treatment.Visitors - treatment.Conversions);

        // E[pB / pA] = E[pB] · E[1 / pA], with E[1 / pA] = (α + β − 1) / (α − 1) and E[1 / pA²] = that · (α + β − 2) / (α − 2).
        double inverseA = (a.Alpha + a.Beta - 1) / (a.Alpha - 1);
        double expected = (b.Mean * inverseA) - 1;
        double sd = double.PositiveInfinity;
        if (a.Alpha > 2)
        {
            double inverseSquareA = inverseA * (a.Alpha + a.Beta - 2) / (a.Alpha - 2);
            double squareB = b.Alpha * (b.Alpha + 1) / ((b.Alpha + b.Beta) * (b.Alpha + b.Beta + 1));
            sd = Math.Sqrt(Math.Max(0, (squareB * inverseSquareA) - ((expected + 1) * (expected + 1))));
        }

        // Treatment risk E[max(pA − pB, 0) / pA] = ∫ fA(x) (x·I_x(αB, βB) − μB·I_x(αB + 1, βB)) / x dx; the control's follows from the mean.
        double treatmentRisk = IntegrateOverControl(a, x =>
            ((x * SpecialFunctions.IncompleteBeta(b.Alpha, b.Beta, x)) - (b.Mean * SpecialFunctions.IncompleteBeta(b.Alpha + 1, b.Beta, x))) / x);
        treatmentRisk = Math.Max(0, treatmentRisk);
        double tail = (1 - level) / 2;
        return new BayesianLiftResult
        {
            ExpectedLift = expected,
            StandardDeviation = sd,
            CredibleInterval = new ConfidenceInterval(RatioQuantile(a, b, tail) - 1, RatioQuantile(a, b, 1 - tail) - 1),
            ChanceToWin = ChanceToBeatControl(control, treatment),
            ControlRisk = treatmentRisk + expected,
            TreatmentRisk = treatmentRisk,
        };
    }

    /// <summary>The quantile of pB ÷ pA: P(pB ≤ r·pA) = ∫ fA(x) I_{r·x}(αB, βB) dx = p, solved by the Illinois method.</summary>
    private static double RatioQuantile(BetaPosteriorParameters a, BetaPosteriorParameters b, double p)
    {
        // Above x = 1/r the inner probability is 1, so that part is the control's upper tail, in closed form.
        double F(double r) => r <= 1
            ? IntegrateOverControl(a, x => SpecialFunctions.IncompleteBeta(b.Alpha, b.Beta, r * x)) - p
            : IntegrateOverControl(a, x => SpecialFunctions.IncompleteBeta(b.Alpha, b.Beta, r * x), 1 / r)
                + (1 - SpecialFunctions.IncompleteBeta(a.Alpha, a.Beta, 1 / r)) - p;

        // Bracket around the log-normal approximation of the ratio, widening until F changes sign.
        double spread = Math.Sqrt((a.StandardDeviation * a.StandardDeviation / (a.Mean * a.Mean)) + (b.StandardDeviation * b.StandardDeviation / (b.Mean * b.Mean)));
        double guess = b.Mean / a.Mean * Math.Exp(SpecialFunctions.NormalQuantile(p) * spread);
        double step = Math.Exp(spread);
        double lo = guess / step;
        double flo = F(lo);
        while (flo > 0 && lo > 1e-12)
        {
            (lo, step) = (lo / step, step * step);
            flo = F(lo);
        }

        step = Math.Exp(spread);
        double hi = guess * step;
        double fhi = F(hi);
        while (fhi < 0 && hi < 1e12)
        {
            (hi, step) = (hi * step, step * step);
            fhi = F(hi);
        }

        int side = 0;
        for (int i = 0; i < 100 && hi - lo > 1e-10 * hi; i++)
        {
            double r = ((lo * fhi) - (hi * flo)) / (fhi - flo);
            double fr = F(r);
            if (Math.Abs(fr) < 1e-12)
            {
                return r;
            }

            if (fr < 0)
            {
                (lo, flo) = (r, fr);
                fhi = side == -1 ? fhi / 2 : fhi;
                side = -1;
            }
            else
            {
                (hi, fhi) = (r, fr);
                flo = side == 1 ? flo / 2 : flo;
                side = 1;
            }
        }

        return (lo + hi) / 2;
    }

    /// <summary>∫ fA(x) g(x) dx over the bulk of the Beta density fA (±12 standard deviations, within (0, <paramref name="upTo"/>)).</summary>
    private static double IntegrateOverControl(BetaPosteriorParameters a, Func<double, double> g, double upTo = 1)
    {
        double lo = Math.Max(0, a.Mean - (BulkDeviations * a.StandardDeviation));
        double hi = Math.Min(upTo, a.Mean + (BulkDeviations * a.StandardDeviation));
        if (hi <= lo)
        {
            return 0;
        }

        double width = (hi - lo) / Panels;
        double logNorm = SpecialFunctions.LogBeta(a.Alpha, a.Beta);
        double total = 0;
        for (int panel = 0; panel < Panels; panel++)
        {
            double center = lo + ((panel + 0.5) * width);
            for (int k = 0; k < GaussNodes.Length; k++)
            {
                double x = center + (GaussNodes[k] * width / 2);
                double density = Math.Exp(((a.Alpha - 1) * Math.Log(x)) + ((a.Beta - 1) * Math.Log(1 - x)) - logNorm);
                total += GaussWeights[k] * density * g(x);
            }
        }

        return total * width / 2;
    }

    private readonly record struct BetaPosteriorParameters(double Alpha, double Beta)
    {
        public double Mean => Alpha / (Alpha + Beta);

        public double StandardDeviation => Math.Sqrt(Alpha * Beta / ((Alpha + Beta) * (Alpha + Beta) * (Alpha + Beta + 1)));
    }
}
