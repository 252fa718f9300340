namespace Funnel.Analytics.Experiments;

/// <summary>The argument checks the statistics share, so every entry point names its argument the same way.</summary>
internal static class StatisticsGuard
{
    /// <summary>Returns <paramref name="value"/> when it is strictly between 0 and 1; NaN is rejected.</summary>
    public static double Probability(double value, string paramName, string what) =>
        value > 0 && value < 1
            ? value
            : throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be strictly between 0 and 1.");

    /// <summary>Returns <paramref name="value"/> when it is positive and finite; NaN is rejected.</summary>
    public static double PositiveFinite(double value, string paramName, string what) =>
        value > 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be a positive, finite number.");
}
