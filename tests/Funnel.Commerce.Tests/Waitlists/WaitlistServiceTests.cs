using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Waitlists;
using NodaTime;
using static Funnel.Tests.Waitlists.WaitlistTestKit;

namespace Funnel.Tests.Waitlists;

public class WaitlistServiceTests
{
    private static readonly OfferId Offer = OfferPathCatalogue.Basic;

    [Fact]
    public async Task Join_OfferWithAFreeSeat_IsRejectedNamingTheOfferAndTheReason()
    {
        var kit = new WaitlistTestKit(capacity: 2);
        await kit.BuyAsync(1);

        WaitlistJoinResult join = await kit.Waitlists.JoinAsync(Offer, Lead(2));

        join.Rejection.ShouldBe(WaitlistRejection.NotSoldOut);
        join.Reason.ShouldNotBeNull().ShouldContain("'masterclass-basic' is not sold out");
        join.Position.ShouldBeNull();
        join.Events.ShouldBeEmpty();
        (await kit.Store.FindAsync(Offer)).ShouldBeNull();
        kit.Inventory.Count(Offer).ShouldBe((1, 0));
        (await kit.BuyAsync(2)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Join_OfferWithoutSeatLimitOrUnknown_ThrowsNamingTheOffer()
    {
        var kit = new WaitlistTestKit();

        ArgumentException unlimited = await Should.ThrowAsync<ArgumentException>(() => kit.Waitlists.JoinAsync(OfferPathCatalogue.Premium, Lead(1)));
        ArgumentException unknown = await Should.ThrowAsync<ArgumentException>(() => kit.Waitlists.JoinAsync("no-such-offer", Lead(1)));

        unlimited.Message.ShouldContain("'masterclass-premium' has no seat limit");
        unknown.Message.ShouldContain("'no-such-offer'");
    }

    [Fact]
    public async Task Join_SoldOut_FirstComeFirstServedAndIdempotentPerLead()
    {
        var kit = new WaitlistTestKit();
        await kit.BuyAsync(1);

        WaitlistJoinResult second = await kit.Waitlists.JoinAsync(Offer, Lead(2));
        WaitlistJoinResult third = await kit.Waitlists.JoinAsync(Offer, Lead(3));
        WaitlistJoinResult again = await kit.Waitlists.JoinAsync(Offer, Lead(2));

        second.Position.ShouldBe(1);
        second.Events.ShouldHaveSingleItem().ShouldBeOfType<WaitlistJoined>().Position.ShouldBe(1);
        third.Position.ShouldBe(2);
        again.Position.ShouldBe(1);
        again.Events.ShouldBeEmpty();
        (await kit.Waitlists.GetPositionAsync(Offer, Lead(3))).ShouldBe(2);
        (await kit.Waitlists.GetPositionAsync(Offer, Lead(9))).ShouldBeNull();
        (await kit.EventsAsync()).OfType<WaitlistJoined>().Select(e => e.LeadId).ShouldBe([Lead(2), Lead(3)]);
    }

    [Fact]
    public async Task Join_ManyLeadsAtOnceThroughTwoInstances_EachGetsOneDistinctPlace()
    {
        var kit = new WaitlistTestKit();
        await kit.BuyAsync(1);
        WaitlistService[] instances = [kit.Waitlists, kit.NewInstance().Waitlists];
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<WaitlistJoinResult>[] joins = [.. Enumerable.Range(100, 64).Select(n => Task.Run(async () =>
        {
            await start.Task;
            return await instances[n % 2].JoinAsync(Offer, Lead(n));
        }))];
        start.SetResult();
        WaitlistJoinResult[] results = await Task.WhenAll(joins);

        results.Select(r => r.Position!.Value).Order().ShouldBe(Enumerable.Range(1, 64));
        Waitlist waitlist = (await kit.Store.FindAsync(Offer)).ShouldNotBeNull();
        waitlist.Waiting.Select(e => e.Lead).ShouldBe(Enumerable.Range(100, 64).Select(Lead), ignoreOrder: true);
        for (int i = 0; i < 64; i++)
        {
            (await kit.Waitlists.GetPositionAsync(Offer, Lead(100 + i))).ShouldBe(results[i].Position);
        }

        (await kit.EventsAsync()).OfType<WaitlistJoined>().Count().ShouldBe(64);
    }

    [Fact]
    public async Task Leave_Waiting_MovesTheLineUpOnce()
    {
        var kit = new WaitlistTestKit();
        await kit.BuyAsync(1);
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));

        (await kit.Waitlists.LeaveAsync(Offer, Lead(2))).ShouldBeTrue();
        (await kit.Waitlists.LeaveAsync(Offer, Lead(2))).ShouldBeFalse();

        (await kit.Waitlists.GetPositionAsync(Offer, Lead(3))).ShouldBe(1);
        (await kit.EventsAsync()).OfType<WaitlistLeft>().ShouldHaveSingleItem().LeadId.ShouldBe(Lead(2));
    }

    [Fact]
    public async Task Waitlist_RefundReleasesTheSeat_HoldsItForTheNextLeadWhoBuysIt()
    {
        var kit = new WaitlistTestKit();
        Order first = (await kit.BuyAsync(1)).ShouldNotBeNull();
        (await kit.Service.StartCheckoutAsync(Lead(2), new Cart { Lines = [Basic] }, DateTimeZone.Utc)).Rejection.ShouldBe(OrderRejection.SoldOut);
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));
        kit.Clock.Advance(Duration.FromHours(1));

        await kit.Service.RefundAsync(first.Id, first.Paid);

        WaitlistHold hold = (await kit.Waitlists.FindHoldAsync(Offer, Lead(2))).ShouldNotBeNull();
        hold.ExpiresAt.ShouldBe(T0 + Duration.FromHours(1) + HoldFor);
        WaitlistSeatOffered offered = (await kit.EventsAsync()).OfType<WaitlistSeatOffered>().ShouldHaveSingleItem();
        offered.LeadId.ShouldBe(Lead(2));
        offered.ExpiresAt.ShouldBe(hold.ExpiresAt);
        (await kit.Waitlists.GetPositionAsync(Offer, Lead(3))).ShouldBe(1);
        kit.Inventory.Count(Offer).ShouldBe((0, 1));
        (await kit.BuyAsync(3)).ShouldBeNull();
        (await kit.BuyAsync(4)).ShouldBeNull();

        Order bought = (await kit.BuyAsync(2)).ShouldNotBeNull();

        bought.Total.ShouldBe(new Money(49_700, Currency.USD));
        kit.Inventory.Count(Offer).ShouldBe((1, 0));
        (await kit.Waitlists.FindHoldAsync(Offer, Lead(2))).ShouldBeNull();
        IReadOnlyList<FunnelEvent> events = await kit.EventsAsync();
        events.OfType<WaitlistSeatClaimed>().ShouldHaveSingleItem().LeadId.ShouldBe(Lead(2));
        WaitlistReport report = WaitlistReport.Compute(events, Offer, Currency.USD);
        report.ShouldBe(new WaitlistReport
        {
            Offer = Offer, Joined = 2, Left = 0, Waiting = 1, Holding = 0, OffersMade = 1, Conversions = 1, Expiries = 0,
            RecoveredRevenue = new Money(49_700, Currency.USD),
        });
        report.ConversionRate.ShouldBe(Ratio.Of(1, 1));
    }

    [Fact]
    public async Task ExpireDue_HoldLapsedUnbought_PassesTheSeatToTheNextInLine()
    {
        var kit = new WaitlistTestKit();
        Order first = (await kit.BuyAsync(1)).ShouldNotBeNull();
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));
        await kit.Service.RefundAsync(first.Id, first.Paid);
        kit.Clock.Advance(HoldFor - Duration.FromSeconds(1));
        (await kit.Waitlists.ExpireDueAsync()).ShouldBe(0);
        (await kit.BuyAsync(3)).ShouldBeNull();
        kit.Clock.Advance(Duration.FromSeconds(1));

        int expired = await kit.Waitlists.ExpireDueAsync();

        expired.ShouldBe(1);
        (await kit.Waitlists.FindHoldAsync(Offer, Lead(2))).ShouldBeNull();
        (await kit.Waitlists.FindHoldAsync(Offer, Lead(3))).ShouldNotBeNull().ExpiresAt.ShouldBe(T0 + HoldFor + HoldFor);
        (await kit.BuyAsync(2)).ShouldBeNull();
        (await kit.BuyAsync(3)).ShouldNotBeNull();
        IReadOnlyList<FunnelEvent> events = await kit.EventsAsync();
        events.OfType<WaitlistHoldExpired>().ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            e => e.LeadId.ShouldBe(Lead(2)),
            e => e.OccurredAt.ShouldBe(T0 + HoldFor));
        events.OfType<WaitlistSeatOffered>().Select(e => e.LeadId).ShouldBe([Lead(2), Lead(3)]);
        WaitlistReport report = WaitlistReport.Compute(events, Offer, Currency.USD);
        (report.OffersMade, report.Conversions, report.Expiries, report.Waiting).ShouldBe((2L, 1L, 1L, 0L));
        report.ConversionRate.ShouldBe(Ratio.Of(1, 2));
        report.RecoveredRevenue.ShouldBe(new Money(49_700, Currency.USD));
    }

    [Fact]
    public async Task Checkout_HoldLapsedBeforeTheJobRan_OutsiderSeesSoldOutAndTheNextLeadGetsTheSeat()
    {
        var kit = new WaitlistTestKit();
        Order first = (await kit.BuyAsync(1)).ShouldNotBeNull();
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));
        await kit.Service.RefundAsync(first.Id, first.Paid);
        kit.Clock.Advance(HoldFor);
        kit.Inventory.Count(Offer).ShouldBe((0, 0));

        Order? outsider = await kit.BuyAsync(5);

        outsider.ShouldBeNull();
        (await kit.Waitlists.FindHoldAsync(Offer, Lead(3))).ShouldNotBeNull();
        (await kit.Waitlists.ExpireDueAsync()).ShouldBe(1);
        (await kit.BuyAsync(5)).ShouldBeNull();
        (await kit.BuyAsync(3)).ShouldNotBeNull();
        kit.Inventory.Count(Offer).ShouldBe((1, 0));
    }

    [Fact]
    public async Task ExpireDue_LastHoldLapsedWithNobodyWaiting_ReturnsTheSeatToSale()
    {
        var kit = new WaitlistTestKit();
        Order first = (await kit.BuyAsync(1)).ShouldNotBeNull();
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Service.RefundAsync(first.Id, first.Paid);
        (await kit.BuyAsync(5)).ShouldBeNull();
        kit.Clock.Advance(HoldFor);

        await kit.Waitlists.ExpireDueAsync();

        (await kit.Store.FindAsync(Offer)).ShouldNotBeNull().ShouldSatisfyAllConditions(w => w.Waiting.ShouldBeEmpty(), w => w.Holds.ShouldBeEmpty());
        (await kit.BuyAsync(5)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Leave_Holding_KeepsTheSeatHeldUntilItLapsesThenPassesItOnWithoutAnExpiry()
    {
        var kit = new WaitlistTestKit();
        Order first = (await kit.BuyAsync(1)).ShouldNotBeNull();
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));
        await kit.Service.RefundAsync(first.Id, first.Paid);

        (await kit.Waitlists.LeaveAsync(Offer, Lead(2))).ShouldBeTrue();

        (await kit.Waitlists.FindHoldAsync(Offer, Lead(2))).ShouldBeNull();
        (await kit.BuyAsync(3)).ShouldBeNull();
        kit.Clock.Advance(HoldFor);
        (await kit.Waitlists.ExpireDueAsync()).ShouldBe(0);
        (await kit.Waitlists.FindHoldAsync(Offer, Lead(3))).ShouldNotBeNull();
        (await kit.EventsAsync()).OfType<WaitlistHoldExpired>().ShouldBeEmpty();
    }

    [Fact]
    public async Task OfferSeats_CapacityRaisedWhileLeadsWait_HoldsTheNewSeatsInOrder()
    {
        var kit = new WaitlistTestKit(capacity: 1);
        await kit.BuyAsync(1);
        await kit.Waitlists.JoinAsync(Offer, Lead(2));
        await kit.Waitlists.JoinAsync(Offer, Lead(3));
        await kit.Waitlists.JoinAsync(Offer, Lead(4));
        var raised = new WaitlistTestKit(capacity: 3);
        var waitlists = new WaitlistService(raised.Prices, kit.Store, kit.Inventory, kit.Clock, kit.Log,
            Microsoft.Extensions.Options.Options.Create(new WaitlistOptions { HoldFor = HoldFor }));

        int offered = await waitlists.OfferSeatsAsync(Offer);

        offered.ShouldBe(2);
        (await kit.EventsAsync()).OfType<WaitlistSeatOffered>().Select(e => e.LeadId).ShouldBe([Lead(2), Lead(3)]);
        (await kit.Waitlists.GetPositionAsync(Offer, Lead(4))).ShouldBe(1);
        kit.Inventory.Count(Offer).ShouldBe((1, 2));
    }

    [Fact]
    public async Task ReleaseAndClaim_TwoInstancesAtOnce_NeverGiveOneSeatToTwoLeads()
    {
        const int capacity = 3;
        var kit = new WaitlistTestKit(capacity);
        (WaitlistService Waitlists, OrderService Orders)[] instances = [(kit.Waitlists, kit.Service), kit.NewInstance()];
        Order[] sold = [.. await Task.WhenAll(Enumerable.Range(1, capacity).Select(async n => (await kit.BuyAsync(n)).ShouldNotBeNull()))];
        for (int n = 10; n < 20; n++)
        {
            (await instances[n % 2].Waitlists.JoinAsync(Offer, Lead(n))).Position.ShouldNotBeNull();
        }

        // Both instances refund, offer, and let every waiting lead and some outsiders try to buy, all at once.
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);
        List<Task<Order?>> buyers = [];
        List<Task> others = [];
        for (int i = 0; i < capacity; i++)
        {
            Order order = sold[i];
            OrderService refunding = instances[i % 2].Orders;
            others.Add(Task.Run(async () => { await start.Task; await refunding.RefundAsync(order.Id, order.Paid); }));
            others.Add(Task.Run(async () => { await start.Task; await instances[(i + 1) % 2].Waitlists.OfferSeatsAsync(Offer); }));
        }

        for (int n = 10; n < 24; n++)
        {
            int lead = n;
            for (int attempt = 0; attempt < 2; attempt++)
            {
                OrderService service = instances[attempt].Orders;
                buyers.Add(Task.Run(async () => { await start.Task; return await kit.BuyAsync(lead, service); }));
            }
        }

        start.SetResult();
        await Task.WhenAll(others);
        Order?[] bought = await Task.WhenAll(buyers);
        // Leads whose hold came after their attempts buy now, through either instance.
        List<Order> late = [];
        for (int n = 10; n < 20; n++)
        {
            if (await kit.Waitlists.FindHoldAsync(Offer, Lead(n)) is not null && await kit.BuyAsync(n, instances[n % 2].Orders) is { } order)
            {
                late.Add(order);
            }
        }

        Order[] buys = [.. bought.OfType<Order>(), .. late];
        (int soldSeats, int held) = kit.Inventory.Count(Offer);
        (soldSeats + held).ShouldBeLessThanOrEqualTo(capacity);
        buys.Length.ShouldBe(soldSeats);
        buys.Length.ShouldBe(capacity);
        buys.Select(o => o.Lead).ShouldBeUnique();
        LeadId[] waiting = [.. Enumerable.Range(10, 10).Select(Lead)];
        buys.ShouldAllBe(o => waiting.Contains(o.Lead));
        Waitlist waitlist = (await kit.Store.FindAsync(Offer)).ShouldNotBeNull();
        waitlist.Holds.ShouldBeEmpty();
        IReadOnlyList<FunnelEvent> events = await kit.EventsAsync();
        events.OfType<WaitlistSeatOffered>().Select(e => e.LeadId).ShouldBeUnique();
        events.OfType<WaitlistSeatOffered>().Count().ShouldBe(capacity);
        events.OfType<WaitlistSeatClaimed>().Select(e => e.LeadId).OrderBy(l => l.Value).ShouldBe(buys.Select(o => o.Lead).OrderBy(l => l.Value));
        events.OfType<WaitlistSeatOffered>().Select(e => e.LeadId).ShouldBe([Lead(10), Lead(11), Lead(12)], ignoreOrder: true);
    }
}
