using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>Recurring revenue at one instant: MRR per currency and how many subscriptions pay, trial or pause.</summary>
/// <remarks>
/// The snapshot at <see cref="At"/> counts the events that occurred <em>before</em> it: an event at exactly
/// <see cref="At"/> belongs to the window that starts there. See <see cref="SubscriptionMetrics"/> for the rules.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RecurringRevenueSnapshot
{
    /// <summary>Gets the instant of the snapshot.</summary>
    public required Instant At { get; init; }

    /// <summary>Gets the monthly recurring revenue per currency, ordered by currency code; currencies are never added together.</summary>
    /// <value>One amount for each currency of <see cref="SubscriptionMetrics.Currencies"/>, zero when nothing pays in it.</value>
    public required ImmutableArray<Money> MonthlyRecurringRevenue { get; init; }

    /// <summary>Gets the subscriptions that count for MRR: started paid or converted, not paused, not ended.</summary>
    public required long ActiveSubscribers { get; init; }

    /// <summary>Gets the subscriptions in their free trial.</summary>
    public required long TrialingSubscribers { get; init; }

    /// <summary>Gets the paused subscriptions.</summary>
    public required long PausedSubscribers { get; init; }

    /// <summary>Returns the MRR in one currency.</summary>
    /// <param name="currency">The currency.</param>
    /// <returns>The MRR in <paramref name="currency"/>; zero when no subscription is in it.</returns>
    public Money Mrr(Currency currency)
    {
        foreach (Money amount in MonthlyRecurringRevenue)
        {
            if (amount.Currency == currency)
            {
                return amount;
            }
        }

        return Money.Zero(currency);
    }
}

/// <summary>How the MRR in one currency moved over a window, and its retention and churn.</summary>
/// <remarks>
/// <para>
/// The lines reconcile exactly: <see cref="Starting"/> + <see cref="New"/> + <see cref="Expansion"/> −
/// <see cref="Contraction"/> − <see cref="Churned"/> − <see cref="Paused"/> + <see cref="Reactivation"/> =
/// <see cref="Ending"/>. Every line is a positive amount (or zero); <see cref="NetChange"/> is signed.
/// </para>
/// <para>
/// A pause is its own line rather than contraction or churn, because the subscriber is expected back; its resume is
/// <see cref="Reactivation"/>. A subscription that ends while paused churns nothing: its MRR left at the pause.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RecurringRevenueMovement
{
    /// <summary>Gets the currency of every amount of the movement.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the MRR at the window's start.</summary>
    public required Money Starting { get; init; }

    /// <summary>Gets the MRR of subscriptions that started paid, or converted from a trial, in the window.</summary>
    public required Money New { get; init; }

    /// <summary>Gets the MRR added by plan changes of paying subscriptions to plans worth more per month.</summary>
    public required Money Expansion { get; init; }

    /// <summary>Gets the MRR removed by plan changes of paying subscriptions to plans worth less per month.</summary>
    public required Money Contraction { get; init; }

    /// <summary>Gets the MRR of paying subscriptions that ended in the window.</summary>
    public required Money Churned { get; init; }

    /// <summary>Gets the MRR of paying subscriptions that paused in the window.</summary>
    public required Money Paused { get; init; }

    /// <summary>Gets the MRR of paused subscriptions that resumed in the window, at the monthly amount they resumed with.</summary>
    public required Money Reactivation { get; init; }

    /// <summary>Gets the MRR at the window's end.</summary>
    public required Money Ending { get; init; }

    /// <summary>Gets what the subscriptions paying at the window's start count for at its end (zero for those that paused or ended).</summary>
    public required Money Retained { get; init; }

    /// <summary>Gets the subscriptions in this currency paying at the window's start.</summary>
    public required long SubscribersAtStart { get; init; }

    /// <summary>Gets how many of <see cref="SubscribersAtStart"/> ended in the window, whether paying or paused when they ended.</summary>
    public required long ChurnedSubscribers { get; init; }

    /// <summary>Gets <see cref="Ending"/> − <see cref="Starting"/>.</summary>
    public Money NetChange => Ending - Starting;

    /// <summary>Gets the net revenue retention: <see cref="Retained"/> ÷ <see cref="Starting"/>.</summary>
    /// <remarks>New subscriptions of the window are left out; expansion of the starting ones counts, so it can exceed 1.</remarks>
    public Ratio NetRevenueRetention => Ratio.Of(Retained, Starting);

    /// <summary>Gets the revenue churn: <see cref="Churned"/> ÷ <see cref="Starting"/>.</summary>
    public Ratio RevenueChurn => Ratio.Of(Churned, Starting);

    /// <summary>Gets the logo churn: <see cref="ChurnedSubscribers"/> ÷ <see cref="SubscribersAtStart"/>.</summary>
    public Ratio LogoChurn => Ratio.Of(ChurnedSubscribers, SubscribersAtStart);
}

/// <summary>Subscription KPIs of one window [<see cref="From"/>, <see cref="To"/>): MRR movements per currency, churn and trial conversion.</summary>
/// <remarks>
/// An event belongs to the window when <see cref="From"/> ≤ its instant &lt; <see cref="To"/>. Counts of subscribers
/// and trials are over every currency; money is per currency in <see cref="Currencies"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RecurringRevenueReport
{
    /// <summary>Gets the start of the window (included).</summary>
    public required Instant From { get; init; }

    /// <summary>Gets the end of the window (excluded).</summary>
    public required Instant To { get; init; }

    /// <summary>Gets the state at <see cref="From"/>.</summary>
    public required RecurringRevenueSnapshot Start { get; init; }

    /// <summary>Gets the state at <see cref="To"/>.</summary>
    public required RecurringRevenueSnapshot End { get; init; }

    /// <summary>Gets the MRR movement of each currency, ordered by currency code.</summary>
    /// <value>One movement for each currency of <see cref="SubscriptionMetrics.Currencies"/>.</value>
    public required ImmutableArray<RecurringRevenueMovement> Currencies { get; init; }

    /// <summary>Gets the subscriptions (all currencies) paying at <see cref="From"/>.</summary>
    public required long SubscribersAtStart { get; init; }

    /// <summary>Gets how many of <see cref="SubscribersAtStart"/> ended in the window.</summary>
    public required long ChurnedSubscribers { get; init; }

    /// <summary>Gets the subscriptions that started in the window, with or without a trial.</summary>
    public required long SubscriptionsStarted { get; init; }

    /// <summary>Gets the trials that started in the window.</summary>
    public required long TrialsStarted { get; init; }

    /// <summary>Gets the trials that converted in the window (whenever they started).</summary>
    public required long TrialsConverted { get; init; }

    /// <summary>Gets the trials that ended without converting in the window, for whatever reason (a lapse, a cancellation).</summary>
    public required long TrialsLapsed { get; init; }

    /// <summary>Gets the logo churn over every currency: <see cref="ChurnedSubscribers"/> ÷ <see cref="SubscribersAtStart"/>.</summary>
    public Ratio LogoChurn => Ratio.Of(ChurnedSubscribers, SubscribersAtStart);

    /// <summary>Gets the trial conversion: <see cref="TrialsConverted"/> ÷ (<see cref="TrialsConverted"/> + <see cref="TrialsLapsed"/>).</summary>
    /// <remarks>Trials still running at <see cref="To"/> are in neither count; the rate is not defined when no trial ended.</remarks>
    public Ratio TrialConversion => Ratio.Of(TrialsConverted, checked(TrialsConverted + TrialsLapsed));

    /// <summary>Returns the movement of one currency.</summary>
    /// <param name="currency">The currency.</param>
    /// <returns>The movement, all zero when no subscription is in <paramref name="currency"/>.</returns>
    public RecurringRevenueMovement Movement(Currency currency)
    {
        foreach (RecurringRevenueMovement movement in Currencies)
        {
            if (movement.Currency == currency)
            {
                return movement;
            }
        }

        Money zero = Money.Zero(currency);
        return new RecurringRevenueMovement
        {
            Currency = currency,
            Starting = zero,
            New = zero,
            Expansion = zero,
            Contraction = zero,
            Churned = zero,
            Paused = zero,
            Reactivation = zero,
            Ending = zero,
            Retained = zero,
            SubscribersAtStart = 0,
            ChurnedSubscribers = 0,
        };
    }
}
