using System.Collections.Concurrent;
using System.Globalization;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What the payments walk-through did: installments, upsell, dunning and webhook replays.</summary>
public sealed record PaymentsDemoResult(
    Order Plan, Order Upsell, int CardEntries, bool PausedAfterFailure, int Webhooks, int Processed, int Duplicates, IReadOnlyList<FunnelEvent> Events);

/// <summary>
/// Buys the Basic Masterclass on the 3 × $180 plan through the test-mode gateway, takes the Premium upsell with one click,
/// lets the third installment fail and recover through dunning, and replays every webhook twice in reverse order.
/// </summary>
public static class PaymentsDemo
{
    public static async Task<PaymentsDemoResult> RunAsync()
    {
        var clock = new SimulatedClock(Instant.FromUtc(2026, 10, 5, 14, 0));
        DateTimeZone zone = DateTimeZoneProviders.Tzdb["America/New_York"];
        var orderStore = new InMemoryOrderStore();
        var orders = new OrderService(new PriceBook(OfferPathCatalogue.Catalogue), OfferPathCatalogue.Path, orderStore, new CountingGrantor(),
            new InMemoryCouponRedemptionStore(), new InMemorySeatInventory(clock), new DeadlineTracker(new InMemoryDeadlineStore(), clock), clock,
            new Funnel.Pipeline.InMemoryFunnelEventLog());
        var gateway = new InMemoryPaymentGateway(clock);
        var payments = new PaymentService(orders, new PriceBook(OfferPathCatalogue.Catalogue), gateway, DunningPolicy.Default, clock);
        var webhooks = new WebhookProcessor(gateway.Verifier, new InMemoryWebhookEventStore(), payments, clock);
        var events = new List<FunnelEvent>();
        LeadId lead = LeadId.New();

        // Checkout: the buyer enters a card once and chooses the payment plan.
        Checkout checkout = await orders.StartCheckoutAsync(lead, new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic, 1, "3-monthly")] }, zone);
        OrderResult placed = await orders.PlaceOrderAsync(checkout, paymentMethod: null);
        events.AddRange(checkout.Events);
        events.AddRange(placed.Events);
        OrderId planOrder = placed.Order!.Id;
        events.AddRange((await payments.PayAsync(planOrder, InMemoryPaymentGateway.SucceedingCard)).Result.Events);

        // One click: Premium is charged to the saved card; no card is entered.
        PaymentAttempt upsell = await payments.AcceptUpsellAsync(planOrder, OfferPathCatalogue.Premium, zone);
        events.AddRange(upsell.Result.Events);

        // Month 2 is collected; in month 3 the card has no funds, access pauses, and the retry 3 days later succeeds.
        clock.Advance(Duration.FromDays(32));
        gateway.CollectDueInstallments();
        string savedCard = (await orderStore.FindAsync(planOrder))!.PaymentMethod!;
        gateway.ReplaceCard(savedCard, InMemoryPaymentGateway.InsufficientFundsCard);
        clock.Advance(Duration.FromDays(31));
        gateway.CollectDueInstallments();
        int processed = 0, duplicates = 0;
        foreach (WebhookRequest webhook in gateway.Webhooks.Reverse())
        {
            Count(await webhooks.ProcessAsync(webhook.Body, webhook.Headers));
        }

        bool paused = (await orderStore.FindAsync(planOrder))!.AccessPaused;
        gateway.ReplaceCard(savedCard, InMemoryPaymentGateway.SucceedingCard);
        clock.Advance(Duration.FromDays(3));
        foreach (PaymentAttempt retry in await payments.RetryFailedInstallmentsAsync(planOrder))
        {
            events.AddRange(retry.Result.Events);
        }

        // Every webhook again, twice, newest first: nothing changes twice.
        foreach (WebhookRequest webhook in gateway.Webhooks.Reverse().Concat(gateway.Webhooks.Reverse()))
        {
            Count(await webhooks.ProcessAsync(webhook.Body, webhook.Headers));
        }

        return new PaymentsDemoResult((await orderStore.FindAsync(planOrder))!, upsell.Result.Order!, gateway.CardEntries, paused,
            gateway.Webhooks.Length, processed, duplicates, events);

        void Count(WebhookResult result)
        {
            events.AddRange(result.Events);
            processed += result.Outcome == WebhookOutcome.Processed ? 1 : 0;
            duplicates += result.Outcome == WebhookOutcome.Duplicate ? 1 : 0;
        }
    }

    public static void Print(PaymentsDemoResult result, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        CultureInfo c = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine("Payments (test mode): Basic on the 3 × $180 plan, then Premium with one click");
        output.WriteLine(string.Create(c, $"  installments paid: {result.Plan.Installments.Count(i => i.Status == InstallmentStatus.Paid)} of {result.Plan.Installments.Length}, collected {result.Plan.Paid}"));
        output.WriteLine(string.Create(c, $"  one-click upsell: {result.Upsell.Paid} on the saved card; cards entered: {result.CardEntries}"));
        output.WriteLine(string.Create(c, $"  installment 3 declined: access {(result.PausedAfterFailure ? "paused" : "kept")}, {(result.Plan.AccessPaused ? "still paused" : "restored")} after the retry"));
        output.WriteLine(string.Create(c, $"  webhooks: {result.Webhooks} sent, delivered 3 times newest first: {result.Processed} applied, {result.Duplicates} duplicates ignored"));
    }

    private sealed class SimulatedClock(Instant now) : IClock
    {
        private Instant now = now;

        public Instant GetCurrentInstant() => now;

        public void Advance(Duration by) => now += by;
    }

    private sealed class CountingGrantor : IEntitlementGrantor
    {
        public ConcurrentQueue<Entitlement> Changes { get; } = new();

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Changes.Enqueue(entitlement);
            return Task.CompletedTask;
        }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Changes.Enqueue(entitlement);
            return Task.CompletedTask;
        }
    }
}
