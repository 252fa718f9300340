using Funnel.Events;

namespace Funnel.Subscriptions;

/// <summary>What one subscription event did to recurring revenue, as the ledger applied it.</summary>
internal enum SubscriptionChange
{
    /// <summary>Nothing: the event does not move MRR, or it does not apply to the subscription's state.</summary>
    None = 0,

    /// <summary>A trial started; it counts for no MRR yet.</summary>
    TrialStarted,

    /// <summary>A subscription started paid: new MRR.</summary>
    New,

    /// <summary>A trial converted: new MRR.</summary>
    TrialConverted,

    /// <summary>A trial ended without converting; it never counted, so it churns nothing.</summary>
    TrialLapsed,

    /// <summary>A paying subscription moved to a plan worth more per month.</summary>
    Expansion,

    /// <summary>A paying subscription moved to a plan worth less per month.</summary>
    Contraction,

    /// <summary>A paying subscription paused: its MRR leaves until it resumes.</summary>
    Paused,

    /// <summary>A subscription paused while paying resumed: its MRR comes back.</summary>
    Reactivation,

    /// <summary>A paying subscription ended: churned MRR.</summary>
    Churned,

    /// <summary>A paused subscription ended; its MRR had already left when it paused.</summary>
    EndedWhilePaused,
}

/// <summary>The state of one subscription in the replay.</summary>
internal enum SubscriptionState
{
    Trialing = 0,
    Active,
    Paused,
    Ended,
}

/// <summary>One subscription as the ledger knows it.</summary>
internal sealed class SubscriptionEntry(Currency currency, long monthly, SubscriptionState state)
{
    public Currency Currency { get; } = currency;

    public long Monthly { get; set; } = monthly;

    public SubscriptionState State { get; set; } = state;

    /// <summary>Gets or sets whether a paused subscription was in its trial when it paused (it resumes into the trial).</summary>
    public bool PausedInTrial { get; set; }

    /// <summary>Gets the MRR the subscription counts for now, in minor units.</summary>
    public long Mrr => State == SubscriptionState.Active ? Monthly : 0;
}

/// <summary>Replays subscription events in order and keeps each subscription's state and the MRR per currency.</summary>
/// <remarks>
/// The ledger is the one place the MRR rules live: a trial counts from its conversion, a paid start counts at once, a
/// plan change or the end of its coupons moves a paying subscription to the new monthly amount, a pause removes it until it resumes, and an end
/// removes it (churn) unless it was trialing or paused. Events of a subscription before its start, after its end, or
/// that do not apply to its state (a conversion of a subscription that is not trialing) change nothing.
/// </remarks>
internal sealed class SubscriptionMetricsLedger
{
    private readonly Dictionary<Currency, long> _mrr = [];

    public Dictionary<SubscriptionId, SubscriptionEntry> Subscriptions { get; } = [];

    public long Active { get; private set; }

    public long Trialing { get; private set; }

    public long PausedCount { get; private set; }

    public IReadOnlyDictionary<Currency, long> Mrr => _mrr;

    /// <summary>Applies one event.</summary>
    /// <param name="e">The event.</param>
    /// <param name="subscription">The subscription the change is about, or <see langword="null"/> when none.</param>
    /// <param name="amount">The MRR that moved, in minor units, as a positive number (zero when none).</param>
    /// <returns>What the event did.</returns>
    /// <exception cref="InvalidOperationException">A plan change names a monthly amount in another currency than the subscription's.</exception>
    public SubscriptionChange Apply(FunnelEvent e, out SubscriptionEntry? subscription, out long amount)
    {
        amount = 0;
        subscription = null;
        switch (e)
        {
            case SubscriptionStarted started:
            {
                if (Subscriptions.ContainsKey(started.Subscription))
                {
                    return SubscriptionChange.None;
                }

                bool trial = started.TrialEndsAt is not null;
                subscription = new SubscriptionEntry(
                    started.MonthlyAmount.Currency,
                    started.MonthlyAmount.MinorUnits,
                    trial ? SubscriptionState.Trialing : SubscriptionState.Active);
                Subscriptions.Add(started.Subscription, subscription);
                if (trial)
                {
                    Trialing++;
                    return SubscriptionChange.TrialStarted;
                }

                Active++;
                amount = subscription.Monthly;
                AddMrr(subscription.Currency, amount);
                return SubscriptionChange.New;
            }

            case SubscriptionTrialConverted converted:
                if (!TryGet(converted.Subscription, SubscriptionState.Trialing, out subscription))
                {
                    return SubscriptionChange.None;
                }

                Same(subscription, converted.MonthlyAmount, e);
                Trialing--;
                Active++;
                subscription.State = SubscriptionState.Active;
                subscription.Monthly = converted.MonthlyAmount.MinorUnits;
                amount = subscription.Monthly;
                AddMrr(subscription.Currency, amount);
                return SubscriptionChange.TrialConverted;

            case SubscriptionPlanChanged changed:
                return Move(changed.Subscription, changed.ToMonthlyAmount, e, out subscription, out amount);

            case SubscriptionDiscountEnded discountEnded:
                return Move(discountEnded.Subscription, discountEnded.ToMonthlyAmount, e, out subscription, out amount);

            case SubscriptionPaused paused:
                if (!Subscriptions.TryGetValue(paused.Subscription, out subscription)
                    || subscription.State is SubscriptionState.Paused or SubscriptionState.Ended)
                {
                    subscription = null;
                    return SubscriptionChange.None;
                }

                subscription.PausedInTrial = subscription.State == SubscriptionState.Trialing;
                PausedCount++;
                if (subscription.PausedInTrial)
                {
                    Trialing--;
                    subscription.State = SubscriptionState.Paused;
                    return SubscriptionChange.None;
                }

                Active--;
                amount = subscription.Monthly;
                AddMrr(subscription.Currency, -amount);
                subscription.State = SubscriptionState.Paused;
                return SubscriptionChange.Paused;

            case SubscriptionResumed resumed:
                if (!TryGet(resumed.Subscription, SubscriptionState.Paused, out subscription))
                {
                    return SubscriptionChange.None;
                }

                Same(subscription, resumed.MonthlyAmount, e);
                PausedCount--;
                subscription.Monthly = resumed.MonthlyAmount.MinorUnits;
                if (subscription.PausedInTrial)
                {
                    Trialing++;
                    subscription.State = SubscriptionState.Trialing;
                    return SubscriptionChange.None;
                }

                Active++;
                subscription.State = SubscriptionState.Active;
                amount = subscription.Monthly;
                AddMrr(subscription.Currency, amount);
                return SubscriptionChange.Reactivation;

            case SubscriptionEnded ended:
            {
                if (!Subscriptions.TryGetValue(ended.Subscription, out subscription) || subscription.State == SubscriptionState.Ended)
                {
                    subscription = null;
                    return SubscriptionChange.None;
                }

                SubscriptionState was = subscription.State;
                subscription.State = SubscriptionState.Ended;
                switch (was)
                {
                    case SubscriptionState.Trialing:
                        Trialing--;
                        return SubscriptionChange.TrialLapsed;
                    case SubscriptionState.Paused:
                        PausedCount--;
                        return subscription.PausedInTrial ? SubscriptionChange.TrialLapsed : SubscriptionChange.EndedWhilePaused;
                    default:
                        Active--;
                        amount = subscription.Monthly;
                        AddMrr(subscription.Currency, -amount);
                        return SubscriptionChange.Churned;
                }
            }

            default:
                return SubscriptionChange.None;
        }
    }

    /// <summary>Tells whether an event is one the ledger reads.</summary>
    public static bool Reads(FunnelEvent e) =>
        e is SubscriptionStarted or SubscriptionTrialConverted or SubscriptionPlanChanged or SubscriptionDiscountEnded
            or SubscriptionPaused or SubscriptionResumed or SubscriptionEnded;

    /// <summary>Moves a subscription to a new monthly amount (a plan change, or coupons running out): expansion or contraction while it pays.</summary>
    private SubscriptionChange Move(SubscriptionId id, Money toMonthly, FunnelEvent e, out SubscriptionEntry? subscription, out long amount)
    {
        amount = 0;
        if (!Subscriptions.TryGetValue(id, out subscription) || subscription.State == SubscriptionState.Ended)
        {
            subscription = null;
            return SubscriptionChange.None;
        }

        Same(subscription, toMonthly, e);
        long before = subscription.Monthly;
        subscription.Monthly = toMonthly.MinorUnits;
        if (subscription.State != SubscriptionState.Active || before == subscription.Monthly)
        {
            return SubscriptionChange.None;
        }

        long delta = checked(subscription.Monthly - before);
        AddMrr(subscription.Currency, delta);
        amount = Math.Abs(delta);
        return delta > 0 ? SubscriptionChange.Expansion : SubscriptionChange.Contraction;
    }

    private bool TryGet(SubscriptionId id, SubscriptionState state, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SubscriptionEntry? subscription)
    {
        if (Subscriptions.TryGetValue(id, out subscription) && subscription.State == state)
        {
            return true;
        }

        subscription = null;
        return false;
    }

    private void AddMrr(Currency currency, long delta) =>
        _mrr[currency] = checked(_mrr.GetValueOrDefault(currency) + delta);

    private static void Same(SubscriptionEntry subscription, Money amount, FunnelEvent source)
    {
        if (amount.Currency != subscription.Currency)
        {
            throw new InvalidOperationException(
                $"Event {source.Id} ({source.EventType}) has a monthly amount in {amount.Currency.Code}, but the subscription is in "
                + $"{subscription.Currency.Code}: a subscription keeps its currency.");
        }
    }
}
