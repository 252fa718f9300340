using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Tests.Leads;

public class LeadHandlersTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly ScoringModel Model = new()
    {
        Rules = [new ScoringRule(EventMatch.For(EventTypes.EmailClicked), 20, 100)],
        MarketingQualifiedAt = 40,
        SalesQualifiedAt = 100,
    };

    private static async Task<LeadProfile> StoredLeadAsync(InMemoryLeadStore store, LifecycleStage stage = LifecycleStage.Lead)
    {
        LeadProfile lead = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = T0, Stage = stage };
        (await store.TryAddAsync(lead)).ShouldBeTrue();
        return (await store.FindAsync(lead.Id))!;
    }

    private static EmailClicked Click(LeadId lead, int minute) =>
        new() { LeadId = lead, OccurredAt = T0 + Duration.FromMinutes(minute), Email = "nurture-1", Url = "https://example.com/sales" };

    [Fact]
    public async Task Lifecycle_OrderPlacedDeliveredTwice_StoresCustomerAndRecordsOneStageChange()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadProfile lead = await StoredLeadAsync(store);
        LifecycleHandler handler = new(store, log, LeadLifecycle.Default);
        OrderPlaced order = new()
        {
            LeadId = lead.Id, OccurredAt = T0, Offer = "course", Order = OrderId.New(), Total = new Money(4900, Currency.USD),
        };

        await handler.HandleAsync(order);
        await handler.HandleAsync(order);

        (await store.FindAsync(lead.Id))!.Stage.ShouldBe(LifecycleStage.Customer);
        LifecycleStageChanged changed = log.Snapshot().ShouldHaveSingleItem().ShouldBeOfType<LifecycleStageChanged>();
        changed.From.ShouldBe(LifecycleStage.Lead);
        changed.To.ShouldBe(LifecycleStage.Customer);
        changed.Id.ShouldBe(EventId.Derive(order.Id, "lifecycle:stage_changed"));
    }

    [Fact]
    public async Task Lifecycle_EventThatMovesNothingOrUnknownLead_RecordsNothing()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadProfile lead = await StoredLeadAsync(store, LifecycleStage.Customer);
        LifecycleHandler handler = new(store, log, LeadLifecycle.Default);

        await handler.HandleAsync(new OptedIn { LeadId = lead.Id, OccurredAt = T0, Magnet = "guide" });
        await handler.HandleAsync(new OptedIn { LeadId = LeadId.New(), OccurredAt = T0, Magnet = "guide" });

        log.Snapshot().ShouldBeEmpty();
        (await store.FindAsync(lead.Id))!.Version.ShouldBe(lead.Version);
    }

    [Fact]
    public async Task Scoring_ClicksDeliveredWithRedelivery_StoresScoreAndRecordsEachChangeOnce()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadProfile lead = await StoredLeadAsync(store);
        ScoringHandler handler = new(store, log, [Model]);
        EmailClicked first = Click(lead.Id, 1);
        EmailClicked second = Click(lead.Id, 2);

        await log.AppendAsync([first]);
        await handler.HandleAsync(first);
        await handler.HandleAsync(first);
        await log.AppendAsync([second]);
        await handler.HandleAsync(second);
        await handler.HandleAsync(second);
        await handler.HandleAsync(first);

        LeadProfile stored = (await store.FindAsync(lead.Id))!;
        stored.Score.ShouldBe(40);
        stored.Stage.ShouldBe(LifecycleStage.MarketingQualified);
        FunnelEvent[] recorded = [.. log.Snapshot().Where(e => e is not EmailClicked)];
        recorded.Select(e => e.EventType).ShouldBe(
            [EventTypes.ScoreChanged, EventTypes.ScoreChanged, EventTypes.LifecycleStageChanged]);
        recorded.OfType<ScoreChanged>().Select(e => (e.From, e.To)).ShouldBe([(0d, 20d), (20d, 40d)]);
        recorded[^1].ShouldBeOfType<LifecycleStageChanged>().To.ShouldBe(LifecycleStage.MarketingQualified);
        recorded.Select(e => e.Id).ShouldBe([
            EventId.Derive(first.Id, "scoring:score_changed"),
            EventId.Derive(second.Id, "scoring:score_changed"),
            EventId.Derive(second.Id, "scoring:lifecycle_stage_changed"),
        ]);
    }

    [Fact]
    public async Task Scoring_NoModelRegistered_DoesNothing()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadProfile lead = await StoredLeadAsync(store);
        EmailClicked click = Click(lead.Id, 1);
        await log.AppendAsync([click]);

        await new ScoringHandler(store, log, []).HandleAsync(click);

        log.Snapshot().Count.ShouldBe(1);
        (await store.FindAsync(lead.Id))!.Score.ShouldBe(0);
    }

    [Fact]
    public void Scoring_TwoModelsRegistered_FailsNamingTheFix()
    {
        InvalidOperationException error = Should.Throw<InvalidOperationException>(
            () => new ScoringHandler(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), [Model, Model]));

        error.Message.ShouldContain("register one ScoringModel");
    }
}
