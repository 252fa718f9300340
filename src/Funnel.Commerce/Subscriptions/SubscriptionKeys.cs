using System.Globalization;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Derives the idempotency keys of a subscription's charges, so a retried or concurrent call collects at most once.</summary>
internal static class SubscriptionKeys
{
    /// <summary>The key of the first period's charge at a paid start: <c>sub_&lt;id&gt;_start</c>.</summary>
    public static string ForStart(SubscriptionId id) => Prefix(id) + "_start";

    /// <summary>The key of one attempt at the period starting at <paramref name="periodStart"/>: <c>sub_&lt;id&gt;_period_&lt;unix ticks&gt;</c>, then <c>_try_2</c>, … for retries.</summary>
    public static string ForPeriod(SubscriptionId id, Instant periodStart, int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        string key = Prefix(id) + "_period_" + periodStart.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture);
        return attempt == 1 ? key : key + "_try_" + attempt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The key of an upgrade's prorated charge to <paramref name="offer"/> requested at <paramref name="at"/>:
    /// <c>sub_&lt;id&gt;_change_&lt;offer&gt;_&lt;unix ticks&gt;</c>. A retry of the same request after a lost
    /// compare-and-set reuses it, so the provider collects the same amount once.
    /// </summary>
    public static string ForChange(SubscriptionId id, OfferId offer, Instant at) =>
        Prefix(id) + "_change_" + offer.Value + "_" + at.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture);

    public static string ForProvider(SubscriptionId id, ProviderSubscriptionChange change, long version) =>
        Prefix(id) + "_" + change.ToString() + "_v" + version.ToString(CultureInfo.InvariantCulture);

    private static string Prefix(SubscriptionId id) => "sub_" + id.Value.ToString("N", CultureInfo.InvariantCulture);
}
