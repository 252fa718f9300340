using Funnel.CartRecovery;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/cart-recovery.md.</summary>
internal static class CartRecoverySnippets
{
    public static void Register(IServiceCollection services, string connectionString)
    {
        // <snippet:cart-recovery-register>
        services.AddFunnelCommerce();
        services.AddFunnelCartRecovery(o =>
        {
            o.AbandonAfter = Duration.FromHours(1);     // no order for this long after the checkout: checkout_abandoned
            o.RecoveryWindow = Duration.FromDays(7);    // an order this long after it counts as recovered
        });
        services.AddFunnelSequences();
        services.AddSingleton(GuideSequences.CartRecovery);   // the three recovery emails
        services.AddFunnelSqlite(connectionString);           // durable: survives restarts, one emission per checkout
        // </snippet:cart-recovery-register>
    }

    public static SequenceDefinition ForAnotherOffer()
    {
        // <snippet:cart-recovery-other-offer>
        SequenceDefinition miniKitRecovery = GuideSequences.CartRecovery with
        {
            Key = "mini-kit-cart-recovery",
            Triggers = [EventMatch.For(EventTypes.CheckoutAbandoned, "mini-kit")],
            ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, "mini-kit")],
            Fields = GuideSequences.CartRecovery.Fields.SetItem("checkout_url", "https://example.com/mini-kit/checkout"),
        };
        // </snippet:cart-recovery-other-offer>
        return miniKitRecovery;
    }

    public static void Report(IFunnelReporter reporter, FunnelDefinition funnel, IReadOnlyList<FunnelEvent> events)
    {
        // <snippet:cart-recovery-report>
        FunnelReport report = reporter.CreateReport(funnel, events);
        CartRecoveryReport recovery = report.Section<CartRecoveryReport>()!;
        Console.WriteLine($"Abandoned {recovery.Abandoned}, recovered {recovery.Recovered} ({recovery.RecoveryRate})");
        Console.WriteLine($"Recovered revenue {recovery.RecoveredRevenue}");

        // Or without a reporter, from any events:
        CartRecoveryReport same = CartRecoveryReport.Create(events, Currency.USD, Duration.FromDays(7));
        // </snippet:cart-recovery-report>
    }
}
