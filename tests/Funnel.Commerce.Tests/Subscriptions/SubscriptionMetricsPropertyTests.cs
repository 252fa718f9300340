using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Subscriptions;
using NodaTime;
using static Funnel.Tests.Subscriptions.SubscriptionEventKit;

namespace Funnel.Tests.Subscriptions;

/// <summary>What one step of a subscription's random history does (whether or not it applies to its state then).</summary>
public enum SubscriptionStepKind
{
    Convert,
    Lapse,
    ChangePlan,
    Pause,
    Resume,
    CancelScheduled,
    Renew,
    PaymentFailed,
    End,
}

/// <summary>One step of a subscription: its kind, hours after the previous step, and a monthly amount for plan changes and resumes.</summary>
public readonly record struct SubscriptionStep(SubscriptionStepKind Kind, int Hours, long Amount);

/// <summary>One subscription's random history: currency, start, trial or not, and steps in any state.</summary>
public sealed record SubscriptionScript(int Currency, int StartHour, bool Trial, long Amount, SubscriptionStep[] Steps);

/// <summary>Several subscriptions, the order their events arrive in, and which events arrive twice.</summary>
public sealed record SubscriptionHistory(SubscriptionScript[] Subscriptions, int ShuffleSeed, int[] Window)
{
    public override string ToString() =>
        string.Join(" | ", Subscriptions.Select(s =>
            $"{(s.Trial ? "trial " : "")}{Currencies[s.Currency].Code} {s.Amount}@{s.StartHour}h: "
            + string.Join(", ", s.Steps.Select(p => $"{p.Kind}+{p.Hours}h({p.Amount})"))))
        + $" | shuffle {ShuffleSeed}, window {string.Join("..", Window)}h";

    public static readonly Currency[] Currencies = [Currency.USD, Currency.EUR, Currency.JPY];

    /// <summary>The history's events, in time order, with fixed ids (each subscription's events at distinct instants).</summary>
    public List<FunnelEvent> Events()
    {
        var events = new List<FunnelEvent>();
        for (int n = 0; n < Subscriptions.Length; n++)
        {
            SubscriptionScript script = Subscriptions[n];
            var id = new SubscriptionId(new Guid(n + 1, 0, 0, [0, 0, 0, 0, 0, 0, 0, 1]));
            Currency currency = Currencies[script.Currency];
            Instant at = T0 + Duration.FromHours(script.StartHour);
            Money amount = new(script.Amount, currency);
            events.Add(Started(id, at, amount, script.Trial));
            foreach (SubscriptionStep step in script.Steps)
            {
                at += Duration.FromHours(step.Hours);
                Money other = new(step.Amount, currency);
                events.Add(step.Kind switch
                {
                    SubscriptionStepKind.Convert => Converted(id, at, amount),
                    SubscriptionStepKind.Lapse => Ended(id, at, amount, SubscriptionEndReason.TrialLapsed),
                    SubscriptionStepKind.ChangePlan => Changed(id, at, amount, other),
                    SubscriptionStepKind.Pause => Paused(id, at),
                    SubscriptionStepKind.Resume => Resumed(id, at, other),
                    SubscriptionStepKind.CancelScheduled => CancelScheduled(id, at, at + Duration.FromDays(10)),
                    SubscriptionStepKind.Renew => Renewed(id, at, amount),
                    SubscriptionStepKind.PaymentFailed => PaymentFailed(id, at, amount),
                    _ => Ended(id, at, amount),
                });
                if (step.Kind is SubscriptionStepKind.ChangePlan or SubscriptionStepKind.Resume)
                {
                    amount = other;
                }
            }
        }

        return [.. events.Select((e, i) => e with { Id = new EventId(new Guid(i + 1, 1, 0, [0, 0, 0, 0, 0, 0, 0, 0])) })];
    }

    /// <summary>The events in a shuffled order, with every third one repeated.</summary>
    public List<FunnelEvent> Arrivals()
    {
        List<FunnelEvent> events = Events();
        var random = new Random(ShuffleSeed);
        List<FunnelEvent> arrivals = [.. events, .. events.Where((_, i) => i % 3 == 0)];
        FunnelEvent[] shuffled = [.. arrivals];
        random.Shuffle(shuffled);
        return [.. shuffled];
    }

    public Instant At(int index) => T0 + Duration.FromHours(Window[index]);
}

/// <summary>FsCheck generators for subscription histories.</summary>
public static class SubscriptionArbitraries
{
    public static Arbitrary<SubscriptionHistory> SubscriptionHistoryArb() => Arb.From(
        from count in Gen.Choose(1, 6)
        from subscriptions in Gen.ArrayOf(Script(), count)
        from seed in Gen.Choose(0, 10_000)
        from window in Gen.ArrayOf(Gen.Choose(0, 2_000), 2)
        select new SubscriptionHistory(subscriptions, seed, [.. window.Order()]));

    private static Gen<SubscriptionScript> Script() =>
        from currency in Gen.Choose(0, 2)
        from start in Gen.Choose(0, 500)
        from trial in Gen.Elements(true, false)
        from amount in Gen.Choose(1, 50_000)
        from steps in Gen.Choose(0, 8)
        from kinds in Gen.ArrayOf(Gen.Elements(Enum.GetValues<SubscriptionStepKind>()), steps)
        from hours in Gen.ArrayOf(Gen.Choose(1, 300), steps)
        from amounts in Gen.ArrayOf(Gen.Choose(1, 50_000), steps)
        select new SubscriptionScript(currency, start, trial, amount,
            [.. kinds.Select((k, i) => new SubscriptionStep(k, hours[i], amounts[i]))]);
}

/// <summary>The rules of the event contract, replayed as plainly as possible: one subscription at a time.</summary>
internal static class NaiveMrr
{
    public static Dictionary<Currency, long> At(IEnumerable<FunnelEvent> events, Instant at)
    {
        var mrr = new Dictionary<Currency, long>();
        var distinct = events.DistinctBy(e => e.Id).Where(e => e.OccurredAt < at).OrderBy(e => e.OccurredAt);
        foreach (var subscription in distinct.GroupBy(Id))
        {
            string state = "none";
            long amount = 0;
            bool pausedInTrial = false;
            Currency currency = default;
            foreach (FunnelEvent e in subscription)
            {
                switch (e)
                {
                    case SubscriptionStarted s when state == "none":
                        (state, amount, currency) = (s.TrialEndsAt is null ? "paying" : "trial", s.MonthlyAmount.MinorUnits, s.MonthlyAmount.Currency);
                        break;
                    case SubscriptionTrialConverted c when state == "trial":
                        (state, amount) = ("paying", c.MonthlyAmount.MinorUnits);
                        break;
                    case SubscriptionPlanChanged p when state is "trial" or "paying" or "paused":
                        amount = p.ToMonthlyAmount.MinorUnits;
                        break;
                    case SubscriptionPaused when state is "trial" or "paying":
                        (pausedInTrial, state) = (state == "trial", "paused");
                        break;
                    case SubscriptionResumed r when state == "paused":
                        (state, amount) = (pausedInTrial ? "trial" : "paying", r.MonthlyAmount.MinorUnits);
                        break;
                    case SubscriptionEnded when state != "none":
                        state = "ended";
                        break;
                }
            }

            if (state != "none")
            {
                mrr[currency] = mrr.GetValueOrDefault(currency) + (state == "paying" ? amount : 0);
            }
        }

        return mrr;
    }

    private static SubscriptionId Id(FunnelEvent e) => e switch
    {
        SubscriptionStarted s => s.Subscription,
        SubscriptionTrialConverted s => s.Subscription,
        SubscriptionPlanChanged s => s.Subscription,
        SubscriptionPaused s => s.Subscription,
        SubscriptionResumed s => s.Subscription,
        SubscriptionCancelScheduled s => s.Subscription,
        SubscriptionCancelWithdrawn s => s.Subscription,
        SubscriptionRenewed s => s.Subscription,
        SubscriptionPaymentFailed s => s.Subscription,
        SubscriptionEnded s => s.Subscription,
        _ => default,
    };
}

[Properties(Arbitrary = new[] { typeof(SubscriptionArbitraries) }, MaxTest = 300)]
public class SubscriptionMetricsPropertyTests
{
    [Property]
    public Property For_AnyHistoryAndWindow_LinesReconcileStartToEndExactly(SubscriptionHistory history)
    {
        RecurringRevenueReport window = SubscriptionMetrics.Create(history.Arrivals()).For(history.At(0), history.At(1));

        var failures = window.Currencies
            .Where(m => m.Starting + m.New + m.Expansion - m.Contraction - m.Churned - m.Paused + m.Reactivation != m.Ending)
            .Select(m => $"{m.Currency}: {m}")
            .ToList();
        return (failures.Count == 0).Label(string.Join("; ", failures));
    }

    [Property]
    public Property At_AnyHistoryInAnyOrder_EqualsTheNaiveReplay(SubscriptionHistory history)
    {
        List<FunnelEvent> arrivals = history.Arrivals();
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(arrivals);

        var failures = new List<string>();
        foreach (Instant at in history.Window.Select((_, i) => history.At(i)).Append(T0 + Duration.FromDays(365)))
        {
            Dictionary<Currency, long> expected = NaiveMrr.At(arrivals, at);
            foreach (Currency currency in SubscriptionHistory.Currencies)
            {
                long actual = metrics.MonthlyRecurringRevenue(at, currency).MinorUnits;
                if (actual != expected.GetValueOrDefault(currency))
                {
                    failures.Add($"{currency} at {at}: {actual}, expected {expected.GetValueOrDefault(currency)}");
                }
            }
        }

        return (failures.Count == 0).Label(string.Join("; ", failures));
    }

    [Property]
    public Property For_AWindowWithNoMrrChange_RetainsExactlyAll(SubscriptionHistory history)
    {
        // After the history, only renewals, failed payments and scheduled cancellations: nothing that moves MRR.
        List<FunnelEvent> events = history.Events();
        Instant from = events.Max(e => e.OccurredAt) + Duration.FromHours(1);
        Instant to = from + Duration.FromDays(30);
        var quiet = new List<FunnelEvent>();
        foreach (SubscriptionStarted s in events.OfType<SubscriptionStarted>())
        {
            quiet.Add(Renewed(s.Subscription, from + Duration.FromDays(1), s.MonthlyAmount));
            quiet.Add(PaymentFailed(s.Subscription, from + Duration.FromDays(2), s.MonthlyAmount));
            quiet.Add(CancelScheduled(s.Subscription, from + Duration.FromDays(3), to + Duration.FromDays(1)));
        }

        RecurringRevenueReport window = SubscriptionMetrics.Create([.. events, .. quiet]).For(from, to);

        var failures = window.Currencies
            .Where(m => m.Starting.IsPositive && (m.NetRevenueRetention != Ratio.Of(1, 1) || m.Ending != m.Starting))
            .Select(m => $"{m.Currency}: NRR {m.NetRevenueRetention}, {m.Starting} to {m.Ending}")
            .ToList();
        return (failures.Count == 0).Label(string.Join("; ", failures));
    }

    [Property]
    public Property Monthly_AnyHistory_EachMonthStartsWhereThePreviousEnded(SubscriptionHistory history)
    {
        var months = SubscriptionMetrics.Create(history.Arrivals()).Monthly(DateTimeZoneProviders.Tzdb["Europe/Berlin"]);

        var failures = months.Zip(months.Skip(1))
            .Where(p => p.First.To != p.Second.From
                || p.First.Currencies.Zip(p.Second.Currencies).Any(c => c.First.Ending != c.Second.Starting))
            .Select(p => $"{p.First.From} to {p.Second.From}")
            .ToList();
        return (failures.Count == 0).Label(string.Join("; ", failures));
    }
}
