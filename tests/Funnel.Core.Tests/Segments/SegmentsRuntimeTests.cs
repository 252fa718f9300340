using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Segments;

public class SegmentsRuntimeTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly SegmentDefinition ViewedSales = new("viewed-sales", new PageRule("/sales"));

    private static readonly SegmentDefinition ActiveReaders =
        new("active-readers", new EmailRule("nurture-*", EmailAction.Opened, Duration.FromDays(30)));

    private static PageViewed View(LeadId lead, string page) => new() { LeadId = lead, OccurredAt = T0, Page = page };

    [Fact]
    public async Task Handler_EventDecidesRuleDeliveredTwice_EntersOnceAndRecordsOneEvent()
    {
        InMemoryFunnelEventLog log = new();
        InMemorySegmentMembershipStore members = new();
        SegmentsHandler handler = new(new InMemoryLeadStore(), log, members, [ViewedSales]);
        LeadId visitor = LeadId.New();
        PageViewed blog = View(visitor, "/blog");
        PageViewed sales = View(visitor, "/sales");

        await log.AppendAsync([blog]);
        await handler.HandleAsync(blog);
        log.Snapshot().Count.ShouldBe(1);
        await log.AppendAsync([sales]);
        await handler.HandleAsync(sales);
        await handler.HandleAsync(sales);
        await handler.HandleAsync(blog);

        (await members.FindAsync("viewed-sales", visitor)).ShouldNotBeNull().IsMember.ShouldBeTrue();
        SegmentEntered entered = log.Snapshot().OfType<SegmentEntered>().ShouldHaveSingleItem();
        entered.Segment.ShouldBe("viewed-sales");
        entered.Id.ShouldBe(EventId.Derive(sales.Id, "segments:viewed-sales"));
        log.Snapshot().OfType<SegmentLeft>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Handler_TagRemovedFromProfile_LeavesAtTheNextEvent()
    {
        InMemoryLeadStore leads = new();
        InMemoryFunnelEventLog log = new();
        InMemorySegmentMembershipStore members = new();
        SegmentsHandler handler = new(leads, log, members, [new SegmentDefinition("vip", new TagRule("vip"))]);
        LeadProfile lead = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = T0, Tags = ["vip"] };
        await leads.TryAddAsync(lead);
        PageViewed first = View(lead.Id, "/blog");
        await log.AppendAsync([first]);
        await handler.HandleAsync(first);
        LeadProfile stored = (await leads.FindAsync(lead.Id))!;
        await leads.TryUpdateAsync(stored, stored with { Tags = stored.Tags.Clear() });
        PageViewed second = View(lead.Id, "/about");
        await log.AppendAsync([second]);

        await handler.HandleAsync(second);

        log.Snapshot().OfType<LeadEvent>().Where(e => e is SegmentEntered or SegmentLeft).Select(e => e.EventType)
            .ShouldBe([EventTypes.SegmentEntered, EventTypes.SegmentLeft]);
        (await members.FindAsync("vip", lead.Id))!.IsMember.ShouldBeFalse();
    }

    [Fact]
    public async Task Job_WindowRuleAfterTimePasses_LeavesOnceAndIgnoresSegmentsWithoutWindow()
    {
        FakeClock clock = new(T0);
        InMemoryLeadStore leads = new();
        InMemoryFunnelEventLog log = new();
        InMemorySegmentMembershipStore members = new();
        SegmentDefinition[] segments = [ViewedSales, ActiveReaders];
        SegmentsHandler handler = new(leads, log, members, segments);
        SegmentsJob job = new(leads, log, members, clock, segments);
        LeadId lead = LeadId.New();
        EmailOpened opened = new() { LeadId = lead, OccurredAt = T0, Email = "nurture-1" };
        await log.AppendAsync([opened]);
        await handler.HandleAsync(opened);
        (await members.FindAsync("active-readers", lead))!.IsMember.ShouldBeTrue();

        await job.RunAsync();
        log.Snapshot().OfType<SegmentLeft>().ShouldBeEmpty();
        clock.Advance(Duration.FromDays(31));
        await job.RunAsync();
        await job.RunAsync();

        SegmentLeft left = log.Snapshot().OfType<SegmentLeft>().ShouldHaveSingleItem();
        left.Segment.ShouldBe("active-readers");
        left.OccurredAt.ShouldBe(clock.GetCurrentInstant());
        (await members.FindAsync("active-readers", lead))!.IsMember.ShouldBeFalse();
        (await members.FindAsync("viewed-sales", lead)).ShouldBeNull();
    }

    [Fact]
    public async Task AddFunnel_ModelAndSegmentRegistered_ScoresAndSegmentsFromRawEventsWithNoGlue()
    {
        FakeClock clock = new(T0);
        ScoringModel model = new()
        {
            Rules = [new ScoringRule(EventMatch.For(EventTypes.EmailClicked), 30, 100)],
            MarketingQualifiedAt = 50,
        };
        await using ServiceProvider services = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddFunnel()
            .AddSingleton(model)
            .AddSingleton(new SegmentDefinition("mql", new StageRule(LifecycleStage.MarketingQualified)))
            .AddSingleton(ViewedSales)
            .BuildServiceProvider();
        FunnelPipeline pipeline = services.GetRequiredService<FunnelPipeline>();
        pipeline.Handlers.ShouldBe(["lifecycle", "scoring", "tags", "segments"]);
        IFunnelEventLog log = services.GetRequiredService<IFunnelEventLog>();
        OptInResult optIn = await services.GetRequiredService<LeadCapture>().OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = new LeadMagnet { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide },
        });
        LeadId lead = optIn.Lead.Id;
        EmailClicked Click(int n) => new() { LeadId = lead, OccurredAt = T0 + Duration.FromMinutes(n), Email = "nurture-1" };
        await log.AppendAsync([Click(1), Click(2), View(lead, "/sales") with { OccurredAt = T0 + Duration.FromMinutes(3) }]);
        await log.AppendAsync([new OrderPlaced
        {
            LeadId = lead, OccurredAt = T0 + Duration.FromMinutes(4), Offer = "course", Order = OrderId.New(),
            Total = new Money(4900, Currency.USD),
        }]);

        PipelineDelivery delivery = await pipeline.DeliverAllAsync();

        delivery.Failures.ShouldBeEmpty();
        LeadProfile stored = (await services.GetRequiredService<ILeadStore>().FindAsync(lead))!;
        stored.Score.ShouldBe(60);
        stored.Stage.ShouldBe(LifecycleStage.Customer);
        ISegmentMembershipStore members = services.GetRequiredService<ISegmentMembershipStore>();
        (await members.FindAsync("mql", lead))!.IsMember.ShouldBeTrue();
        (await members.FindAsync("viewed-sales", lead))!.IsMember.ShouldBeTrue();
        FunnelEvent[] all = [.. ((InMemoryFunnelEventLog)log).Snapshot()];
        all.OfType<SegmentEntered>().Select(e => e.Segment).Order().ShouldBe(["mql", "viewed-sales"]);
        LifecycleStage[] stages = [.. all.OfType<LifecycleStageChanged>().Select(e => e.To)];
        stages[0].ShouldBe(LifecycleStage.Lead);
        stages[^1].ShouldBe(LifecycleStage.Customer);
        stages.Distinct().Count().ShouldBe(stages.Length);
        all.OfType<ScoreChanged>().Last().To.ShouldBe(60);

        (await pipeline.DeliverAllAsync()).Delivered.ShouldBe(0);
        ((InMemoryFunnelEventLog)log).Snapshot().Count.ShouldBe(all.Length);
    }
}
