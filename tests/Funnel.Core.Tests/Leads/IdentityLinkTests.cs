using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

public class IdentityLinkTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly LeadMagnet Guide = new() { Key = "quick-start-guide", Title = "Quick-start guide", Kind = LeadMagnetKind.Guide };

    private static readonly FunnelDefinition Funnel = FunnelBuilder.Create("cross-device", "Cross-device")
        .WithDefaultStages()
        .AddStep("landing", "Landing page", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/landing"))
        .AddStep("opt-in", "Leads", "interest", StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "quick-start-guide"))
        .AddStep("sales", "Sales page", "decision", StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited))
        .Build();

    private static async Task<FunnelEvent[]> AllAsync(InMemoryFunnelEventLog log) =>
        [.. (await log.ReadAsync(0, 10_000)).Select(l => l.Event)];

    [Fact]
    public async Task OptInAsync_SameEmailFromASecondDevice_FunnelCountsOnePersonThroughEveryStep()
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(store, log, clock);
        LeadId deviceA = LeadId.New(), deviceB = LeadId.New();

        // Device A: the landing page, then the opt-in that creates the lead with the visitor id.
        await log.AppendAsync([new PageViewed { LeadId = deviceA, OccurredAt = clock.GetCurrentInstant(), Page = "/landing" }]);
        clock.AdvanceMinutes(2);
        OptInResult first = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide, VisitorId = deviceA });
        // Device B, a day later: the sales page anonymously, then the same address again.
        clock.AdvanceDays(1);
        await log.AppendAsync([new SalesPageVisited { LeadId = deviceB, OccurredAt = clock.GetCurrentInstant(), Offer = "course" }]);
        clock.AdvanceMinutes(5);
        OptInResult second = await capture.OptInAsync(new OptInRequest { Email = "ANN@example.com", Magnet = Guide, VisitorId = deviceB });

        second.Lead.Id.ShouldBe(first.Lead.Id);
        IdentityLinked link = second.Events.OfType<IdentityLinked>().ShouldHaveSingleItem();
        link.VisitorId.ShouldBe(deviceB);
        link.LeadId.ShouldBe(deviceA);
        FunnelEvent[] events = await AllAsync(log);
        events.OfType<IdentityLinked>().ShouldHaveSingleItem();
        FunnelReport report = new FunnelReporter().CreateReport(Funnel, events);
        report.Overall.Steps.Select(s => s.Reached).ShouldBe([1, 1, 1]);
        report.Lifecycle.Values.Sum().ShouldBe(1);
        // Without the link the sales page would be a second, anonymous person's, and no one would reach it in order.
        FunnelReport unlinked = new FunnelReporter().CreateReport(Funnel, events.Where(e => e is not IdentityLinked));
        unlinked.Overall.Steps.Select(s => s.Reached).ShouldBe([1, 1, 0]);
        unlinked.Lifecycle.Values.Sum().ShouldBe(2);
    }

    [Fact]
    public async Task OptInAsync_VisitorIdOfAnotherLead_StartsANewLeadWithoutLinking()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(store, log, new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });

        // A shared computer: Bob opts in with the cookie Ann's opt-in left behind.
        OptInResult bob = await capture.OptInAsync(new OptInRequest { Email = "bob@example.com", Magnet = Guide, VisitorId = ann.Lead.Id });

        bob.IsNewLead.ShouldBeTrue();
        bob.Lead.Id.ShouldNotBe(ann.Lead.Id);
        store.Count.ShouldBe(2);
        (await AllAsync(log)).OfType<IdentityLinked>().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptInAsync_ExistingEmailWithAnotherLeadsVisitorId_RecordsNoLink()
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(store, log, new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        OptInResult bob = await capture.OptInAsync(new OptInRequest { Email = "bob@example.com", Magnet = Guide });

        OptInResult again = await capture.OptInAsync(new OptInRequest { Email = "bob@example.com", Magnet = Guide, VisitorId = ann.Lead.Id });

        again.Lead.Id.ShouldBe(bob.Lead.Id);
        again.Events.OfType<IdentityLinked>().ShouldBeEmpty();
    }

    [Fact]
    public async Task LinkAsync_AtLogin_LinksOnceAndTheSecondCallRecordsNothing()
    {
        FakeClock clock = new(Start);
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, clock);
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        LeadId laptop = LeadId.New();
        clock.AdvanceHours(1);

        IdentityLinkStatus first = await capture.LinkAsync(laptop, ann.Lead.Id);
        clock.AdvanceHours(1);
        IdentityLinkStatus second = await capture.LinkAsync(laptop, ann.Lead.Id);

        first.ShouldBe(IdentityLinkStatus.Linked);
        second.ShouldBe(IdentityLinkStatus.AlreadyLinked);
        IdentityLinked link = (await AllAsync(log)).OfType<IdentityLinked>().ShouldHaveSingleItem();
        link.VisitorId.ShouldBe(laptop);
        link.LeadId.ShouldBe(ann.Lead.Id);
        link.OccurredAt.ShouldBe(Start + Duration.FromHours(1));
    }

    [Fact]
    public async Task LinkAsync_LinkTheOptInRecordedAlready_IsAlreadyLinked()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        LeadId phone = LeadId.New();
        await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide, VisitorId = phone });

        IdentityLinkStatus status = await capture.LinkAsync(phone, ann.Lead.Id);

        status.ShouldBe(IdentityLinkStatus.AlreadyLinked);
        (await AllAsync(log)).OfType<IdentityLinked>().Count().ShouldBe(1);
    }

    [Fact]
    public async Task LinkAsync_VisitorIsTheLead_IsSameLeadAndRecordsNothing()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        int before = (await AllAsync(log)).Length;

        (await capture.LinkAsync(ann.Lead.Id, ann.Lead.Id)).ShouldBe(IdentityLinkStatus.SameLead);

        (await AllAsync(log)).Length.ShouldBe(before);
    }

    [Fact]
    public async Task LinkAsync_VisitorIdIsAnotherLead_ThrowsNamingTheProblemAndRecordsNothing()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        OptInResult bob = await capture.OptInAsync(new OptInRequest { Email = "bob@example.com", Magnet = Guide });

        InvalidOperationException ex = await Should.ThrowAsync<InvalidOperationException>(() => capture.LinkAsync(bob.Lead.Id, ann.Lead.Id));

        ex.Message.ShouldContain($"visitor id {bob.Lead.Id} is not anonymous");
        ex.Message.ShouldContain("another lead");
        (await AllAsync(log)).OfType<IdentityLinked>().ShouldBeEmpty();
    }

    [Fact]
    public async Task LinkAsync_UnknownLeadOrEmptyIds_ThrowArgumentException()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));
        OptInResult ann = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });

        (await Should.ThrowAsync<ArgumentException>(() => capture.LinkAsync(LeadId.New(), LeadId.New()))).ParamName.ShouldBe("leadId");
        (await Should.ThrowAsync<ArgumentException>(() => capture.LinkAsync(default, ann.Lead.Id))).ParamName.ShouldBe("visitorId");
        (await Should.ThrowAsync<ArgumentException>(() => capture.LinkAsync(LeadId.New(), default))).ParamName.ShouldBe("leadId");
    }

    [Fact]
    public void IdOf_SameIds_SameIdAndOtherIds_OtherId()
    {
        LeadId visitor = LeadId.New(), lead = LeadId.New();

        IdentityLinked.IdOf(visitor, lead).ShouldBe(IdentityLinked.IdOf(visitor, lead));
        IdentityLinked.IdOf(visitor, lead).ShouldNotBe(IdentityLinked.IdOf(lead, visitor));
        IdentityLinked.IdOf(visitor, lead).ShouldNotBe(IdentityLinked.IdOf(visitor, LeadId.New()));
    }

    private static LeadId Id(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    private static IdentityLinked Link(int visitor, int lead, int minute) =>
        new() { VisitorId = Id(visitor), LeadId = Id(lead), OccurredAt = Start + Duration.FromMinutes(minute) };

    [Fact]
    public void Resolve_ChainedLinks_ResolveToTheEndAndUnknownIdsToThemselves()
    {
        LeadAliases aliases = LeadAliases.From([Link(1, 2, 0), Link(2, 3, 1)]);

        aliases.Resolve(Id(1)).ShouldBe(Id(3));
        aliases.Resolve(Id(2)).ShouldBe(Id(3));
        aliases.Resolve(Id(3)).ShouldBe(Id(3));
        aliases.Resolve(Id(9)).ShouldBe(Id(9));
        aliases.Count.ShouldBe(2);
        LeadAliases.Empty.Resolve(Id(1)).ShouldBe(Id(1));
    }

    [Fact]
    public void From_VisitorLinkedTwice_BelongsToItsFirstLeadWhateverTheOrderGiven()
    {
        IdentityLinked earlier = Link(1, 2, 0), later = Link(1, 3, 5);

        LeadAliases.From([later, earlier]).Resolve(Id(1)).ShouldBe(Id(2));
        LeadAliases.From([earlier, later]).Resolve(Id(1)).ShouldBe(Id(2));
    }

    [Fact]
    public void From_LinkClosingACycle_IsIgnored()
    {
        LeadAliases aliases = LeadAliases.From([Link(1, 2, 0), Link(2, 3, 1), Link(3, 1, 2), Link(4, 4, 3)]);

        aliases.Resolve(Id(1)).ShouldBe(Id(3));
        aliases.Resolve(Id(3)).ShouldBe(Id(3));
        aliases.Resolve(Id(4)).ShouldBe(Id(4));
    }

    /// <summary>Random links among a few ids, at colliding instants, so that chains, repeats and cycles occur.</summary>
    private static Arbitrary<IdentityLinked[]> Links() =>
        Gen.ArrayOf(
            from visitor in Gen.Choose(1, 6)
            from lead in Gen.Choose(1, 6)
            from minute in Gen.Choose(0, 5)
            select Link(visitor, lead, minute)).ToArbitrary();

    [Property]
    public Property Resolve_AnyLinks_EndsAtAnIdThatResolvesToItselfWhateverTheOrder() => Prop.ForAll(Links(), links =>
    {
        LeadAliases forward = LeadAliases.From(links);
        LeadAliases backward = LeadAliases.From(links.Reverse());
        return Enumerable.Range(1, 6).Select(Id).All(id =>
            forward.Resolve(forward.Resolve(id)) == forward.Resolve(id) && backward.Resolve(id) == forward.Resolve(id));
    });
}
