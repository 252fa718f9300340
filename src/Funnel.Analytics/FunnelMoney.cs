using Funnel.Kpis;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>
/// The money of the leads counted at one step of a funnel analysis (overall, or in one breakdown row): what they
/// paid, what reaching them cost, and how long their payments took to earn the spend back.
/// </summary>
/// <remarks>
/// A lead's money is its orders minus its refunds from the first event of its funnel chain on, at any time after it
/// (not only within the conversion window), so a purchase a month after the window still pays the spend back. Ad
/// spend is all the spend in the store; in a breakdown by channel, the spend recorded for that channel; in other
/// breakdowns it cannot be divided, so it is <see langword="null"/>. See <see cref="FunnelQuery.IncludeMoney"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelMoney
{
    /// <summary>Gets the net revenue (orders minus refunds) of the leads counted, from the start of their chain on.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the ad spend that bought these leads, or <see langword="null"/> when the breakdown cannot attribute spend.</summary>
    public Money? AdSpend { get; init; }

    /// <summary>
    /// Gets the ad spend ÷ the leads counted, rounded half away from zero: the cost of a visitor at the first step, of
    /// a lead at an opt-in step, and the customer acquisition cost (CAC) at the purchase step.
    /// </summary>
    /// <value><see langword="null"/> without ad spend or without leads.</value>
    public Money? AcquisitionCost { get; init; }

    /// <summary>Gets the revenue ÷ the ad spend (ROAS); undefined without ad spend.</summary>
    public Ratio ReturnOnAdSpend => AdSpend is { } spend ? Kpi.ReturnOnAdSpend(Revenue, spend) : Ratio.Undefined;

    /// <summary>
    /// Gets the payback period: the shortest time <c>t</c> such that the payments the leads made within <c>t</c> of
    /// their chain's start add up to the ad spend.
    /// </summary>
    /// <value><see langword="null"/> when there is no ad spend, or when the revenue has not covered it (yet).</value>
    public Duration? PaybackPeriod { get; init; }
}
