using System.Globalization;
using Funnel.Events;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>Options of the offer-path simulation: the share of buyers who take each offer, in percent.</summary>
public sealed record OfferPathOptions
{
    public decimal BumpPercent { get; init; } = 30m;
    public decimal CrossSellPercent { get; init; } = 10m;
    public decimal UpsellPercent { get; init; } = 16m;
    public decimal UpsellPlanPercent { get; init; } = 50m;
    public decimal DownsellPercent { get; init; } = 25m;
}

/// <summary>
/// Walks each buyer of the case study through the offer path with <see cref="OrderService"/>: the checkout
/// (Basic at $497 once, as in the case study, with the $27 bump or the Launch Planner cross-sell ticked by some),
/// then the one-click Premium upsell and, when declined, the $47 Mini Kit downsell. The report is computed by
/// <see cref="OfferPathReport"/> from the events the service emits; it is separate from the case-study figures.
/// </summary>
public static class OfferPathSimulation
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Simulates the offer path of every buyer in <paramref name="caseStudyEvents"/> and returns the events it produced.</summary>
    public static async Task<IReadOnlyList<FunnelEvent>> RunAsync(IReadOnlyList<FunnelEvent> caseStudyEvents, int seed, OfferPathOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(caseStudyEvents);
        options ??= new OfferPathOptions();
        var random = new Random(seed);
        var clock = new SimulationClock();
        var service = new OrderService(
            new PriceBook(OfferPathCatalogue.Catalogue),
            OfferPathCatalogue.Path,
            new InMemoryOrderStore(),
            new NoOpGrantor(),
            new InMemoryCouponRedemptionStore(),
            new InMemorySeatInventory(clock),
            new DeadlineTracker(new InMemoryDeadlineStore(), clock),
            clock,
            new Funnel.Pipeline.InMemoryFunnelEventLog());
        DateTimeZone buyerZone = DateTimeZoneProviders.Tzdb["America/New_York"];
        var events = new List<FunnelEvent>();
        foreach (OrderPlaced purchase in caseStudyEvents.OfType<OrderPlaced>().Where(o => o.Offer == MasterclassScenario.Masterclass))
        {
            clock.Now = purchase.OccurredAt;
            List<CartLine> lines = [new(OfferPathCatalogue.Basic)];
            if (Chance(random, options.BumpPercent))
            {
                lines.Add(new(OfferPathCatalogue.CoverPack));
            }

            if (Chance(random, options.CrossSellPercent))
            {
                lines.Add(new(OfferPathCatalogue.LaunchPlanner));
            }

            Checkout checkout = await service.StartCheckoutAsync(purchase.LeadId, new Cart { Lines = [.. lines] }, buyerZone).ConfigureAwait(false);
            OrderResult placed = await service.PlaceOrderAsync(checkout, "pm_" + purchase.LeadId.Value.ToString("N", Invariant)).ConfigureAwait(false);
            Order order = placed.Order!;
            events.AddRange(checkout.Events);
            events.AddRange(placed.Events);
            events.AddRange((await service.RecordPaymentAsync(order.Id, order.Schedule[0].Amount).ConfigureAwait(false)).Events);

            clock.Now += Duration.FromMinutes(1);
            OfferId upsell = service.Path.Next(OfferPathCatalogue.Basic, OfferTransition.Purchased)!.Value;
            if (Chance(random, options.UpsellPercent))
            {
                string? plan = Chance(random, options.UpsellPlanPercent) ? "3-monthly" : null;
                events.AddRange(await AcceptAndPayAsync(service, order.Id, upsell, buyerZone, plan).ConfigureAwait(false));
                continue;
            }

            UpsellDecision declined = await service.DeclineUpsellAsync(order.Id, upsell).ConfigureAwait(false);
            events.AddRange(declined.Events);
            if (declined.Next is not { } downsell)
            {
                continue;
            }

            clock.Now += Duration.FromMinutes(1);
            if (Chance(random, options.DownsellPercent))
            {
                events.AddRange(await AcceptAndPayAsync(service, order.Id, downsell, buyerZone, null).ConfigureAwait(false));
            }
            else
            {
                events.AddRange((await service.DeclineUpsellAsync(order.Id, downsell).ConfigureAwait(false)).Events);
            }
        }

        return events;
    }

    /// <summary>Prints the offer path section: revenue per tier and the bump, upsell and downsell take rates.</summary>
    public static void Print(OfferPathReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine();
        output.WriteLine("Offer path of the buyers above (simulated separately; not part of the case-study revenue)");
        output.WriteLine("Counts what each buyer did after the $497 checkout: order bump, cross-sell, one-click Premium upsell, Mini Kit downsell.");
        output.WriteLine("Revenue is booked order value (plans at their full plan total), before refunds.");
        List<string[]> rows = [["Offer", "Role", "Orders", "Revenue"]];
        foreach (OfferRevenue offer in report.ByOffer)
        {
            rows.Add([offer.Name, offer.Role.ToString(), ReportPrinter.Count(offer.Orders), ReportPrinter.Format(offer.Revenue)]);
        }

        rows.Add(["Total", "", "", ReportPrinter.Format(report.Revenue)]);
        ReportPrinter.WriteTable(output, rows, rightAligned: [2, 3]);
        output.WriteLine();
        List<string[]> rates =
        [
            ["Offer-path KPI", "Value"],
            ["Bump take rate (checkouts with the $27 bump)", $"{report.BumpTakeRate.ToString("P1", Invariant)} ({ReportPrinter.Count(report.OrdersWithBump)} of {ReportPrinter.Count(report.CheckoutOrders)})"],
            ["Upsell take rate (Premium accepted / offered)", $"{report.UpsellTakeRate.ToString("P1", Invariant)} ({ReportPrinter.Count(report.UpsellsAccepted)} of {ReportPrinter.Count(report.UpsellsAccepted + report.UpsellsDeclined)})"],
            ["Downsell take rate (Mini Kit accepted / offered)", report.DownsellTakeRate.ToString("P1", Invariant)],
        ];
        ReportPrinter.WriteTable(output, rates, rightAligned: [1]);
    }

    private static async Task<IEnumerable<FunnelEvent>> AcceptAndPayAsync(OrderService service, OrderId parent, OfferId offer, DateTimeZone zone, string? plan)
    {
        OrderResult accepted = await service.AcceptUpsellAsync(parent, offer, zone, plan).ConfigureAwait(false);
        Order order = accepted.Order!;
        OrderResult paid = await service.RecordPaymentAsync(order.Id, order.Schedule[0].Amount).ConfigureAwait(false);
        return [.. accepted.Events, .. paid.Events];
    }

    private static bool Chance(Random random, decimal percent) => random.Next(10_000) < percent * 100m;

    /// <summary>A clock the simulation moves to each buyer's purchase.</summary>
    private sealed class SimulationClock : IClock
    {
        public Instant Now { get; set; }

        public Instant GetCurrentInstant() => Now;
    }

    /// <summary>The sample has no course platform: access is "granted" by the events alone.</summary>
    private sealed class NoOpGrantor : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
