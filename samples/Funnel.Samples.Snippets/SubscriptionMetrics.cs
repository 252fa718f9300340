using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/subscription-metrics.md.</summary>
internal static class SubscriptionMetricsSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:subscription-metrics-register>
        services.AddFunnel(o => o.TimeZoneId = "America/New_York");
        services.AddFunnelSubscriptionMetrics();   // the subscription-metrics section of every funnel report
        // </snippet:subscription-metrics-register>
    }

    public static SubscriptionMetrics Read(IFunnelReporter reporter, FunnelDefinition funnel, IReadOnlyList<FunnelEvent> events)
    {
        // <snippet:subscription-metrics-read>
        FunnelReport report = reporter.CreateReport(funnel, events);
        SubscriptionMetrics metrics = report.Section<SubscriptionMetrics>()!;

        // Or without a reporter, from any events (a store's history, a replay):
        SubscriptionMetrics same = SubscriptionMetrics.Create(events);
        // </snippet:subscription-metrics-read>
        return metrics;
    }

    public static void Window(SubscriptionMetrics metrics)
    {
        // <snippet:subscription-metrics-window>
        DateTimeZone zone = DateTimeZoneProviders.Tzdb["America/New_York"];
        Instant december = zone.AtStartOfDay(new LocalDate(2026, 12, 1)).ToInstant();
        Instant january = zone.AtStartOfDay(new LocalDate(2027, 1, 1)).ToInstant();

        Money mrr = metrics.MonthlyRecurringRevenue(january, Currency.USD);   // the events before January 1 count
        RecurringRevenueReport month = metrics.For(december, january);         // [December 1, January 1)
        RecurringRevenueMovement usd = month.Movement(Currency.USD);
        Console.WriteLine($"MRR {usd.Starting} + new {usd.New} + expansion {usd.Expansion} - contraction {usd.Contraction}");
        Console.WriteLine($"  - churned {usd.Churned} - paused {usd.Paused} + reactivation {usd.Reactivation} = {usd.Ending}");
        Console.WriteLine($"NRR {usd.NetRevenueRetention:P1}, revenue churn {usd.RevenueChurn:P1}, logo churn {month.LogoChurn:P1}");
        Console.WriteLine($"Trial conversion {month.TrialConversion:P1}: {month.TrialsConverted} converted, {month.TrialsLapsed} lapsed");
        // </snippet:subscription-metrics-window>
    }

    public static void Series(SubscriptionMetrics metrics, DateTimeZone zone)
    {
        // <snippet:subscription-metrics-monthly>
        foreach (RecurringRevenueReport month in metrics.Monthly(zone))
        {
            foreach (RecurringRevenueMovement line in month.Currencies)   // one line per currency, never added together
            {
                Console.WriteLine($"{month.From.InZone(zone).Date:uuuu-MM} {line.Currency}: {line.Starting} -> {line.Ending}");
            }
        }
        // </snippet:subscription-metrics-monthly>
    }
}
