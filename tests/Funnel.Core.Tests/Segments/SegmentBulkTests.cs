using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Tests.Segments;

public class SegmentBulkTests
{
    private static readonly Instant Now = SegmentArbitraries.Now;

    [Property(MaxTest = 300)]
    public Property Evaluate_AnyRuleAndPopulation_AgreesWithSingleLeadEvaluation() => Prop.ForAll(
        Arb.From(from population in SegmentArbitraries.Population
                 from rule in SegmentArbitraries.Rule
                 from shuffle in Gen.Elements(false, true)
                 select (population, rule, shuffle)),
        t =>
        {
            SegmentEvaluator evaluator = new(t.rule);
            SegmentMembership membership = evaluator.Evaluate(SegmentArbitraries.Build(t.population, t.shuffle), t.population.Now);
            LeadId[] expected = [.. t.population.Leads.Where(l => evaluator.Matches(l.Profile, l.Events, t.population.Now)).Select(l => l.Id)];
            return (membership.Members.SequenceEqual(expected) && membership.Count == expected.Length)
                .Label($"{SegmentRuleJson.Serialize(t.rule)}: bulk {membership.Count}, single {expected.Length}");
        });

    private static (LeadPopulation Population, LeadProfile Reader, LeadProfile Buyer, LeadId Visitor) Retargeting(bool readerVisitsSales = false)
    {
        LeadPopulationBuilder builder = new();
        LeadProfile reader = new() { Id = LeadId.New(), Email = EmailAddress.Parse("reader@example.com"), CreatedAt = Now };
        LeadProfile buyer = new() { Id = LeadId.New(), Email = EmailAddress.Parse("buyer@example.com"), CreatedAt = Now };
        LeadId visitor = LeadId.New();
        int r = builder.Add(reader);
        int b = builder.Add(buyer);
        int v = builder.AddVisitor(visitor);
        Instant day = Now - Duration.FromDays(1);
        builder.AddEvent(v, new PageViewed { LeadId = visitor, OccurredAt = day, Page = "/blog/write-an-ebook-in-30-days" });
        builder.AddEvent(r, new PageViewed { LeadId = reader.Id, OccurredAt = day, Page = "/blog/outline" });
        builder.AddEvent(r, new PageViewed { LeadId = reader.Id, OccurredAt = day, Page = "/free-guide" });
        builder.AddEvent(r, new OptedIn { LeadId = reader.Id, OccurredAt = day, Magnet = "quick-start-guide" });
        if (readerVisitsSales)
        {
            builder.AddEvent(r, new SalesPageVisited { LeadId = reader.Id, OccurredAt = Now, Offer = "masterclass" });
        }

        builder.AddEvent(b, new OptedIn { LeadId = buyer.Id, OccurredAt = day, Magnet = "quick-start-guide" });
        builder.AddEvent(b, new SalesPageVisited { LeadId = buyer.Id, OccurredAt = day, Offer = "masterclass" });
        return (builder.Build(), reader, buyer, visitor);
    }

    [Fact]
    public void VisitedBlogNotLeadMagnetPage_GuideExample_SelectsOnlyTheBlogReaderWhoDidNotOptIn()
    {
        var (population, _, _, visitor) = Retargeting();
        SegmentDefinition segment = RetargetingSegments.VisitedBlogNotLeadMagnetPage("/free-guide");

        SegmentMembership members = new SegmentEvaluator(segment.Rule).Evaluate(population, Now);

        members.Members.ShouldBe([visitor]);
        members.ToAudience(segment.Key).Members.ShouldBeEmpty();
    }

    [Fact]
    public void DownloadedGuideNotSalesPage_GuideExample_SelectsTheReaderNotTheBuyer()
    {
        var (population, reader, _, _) = Retargeting();
        SegmentDefinition segment = RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide");

        SegmentMembership members = new SegmentEvaluator(segment.Rule).Evaluate(population, Now);

        members.Members.ShouldBe([reader.Id]);
        members.ToAudience(segment.Key).ShouldBe(new Audience("downloaded-guide-not-sales-page", [reader.Email]), new AudienceComparer());
    }

    [Fact]
    public async Task Tracker_SuccessiveEvaluations_ReportsWhoEnteredAndLeft()
    {
        SegmentTracker tracker = new(RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide"), new InMemorySegmentMembershipStore());
        var (before, reader, _, _) = Retargeting();
        var (after, _, _, _) = Retargeting(readerVisitsSales: true);

        SegmentChanges first = await tracker.EvaluateAsync(before, Now);
        SegmentChanges same = await tracker.EvaluateAsync(before, Now);
        SegmentChanges second = await tracker.EvaluateAsync(after, Now);

        SegmentEntered entered = first.Events.ShouldHaveSingleItem().ShouldBeOfType<SegmentEntered>();
        (entered.LeadId, entered.Segment, entered.OccurredAt, entered.EventType).ShouldBe((reader.Id, "downloaded-guide-not-sales-page", Now, EventTypes.SegmentEntered));
        same.Events.ShouldBeEmpty();
        SegmentLeft left = second.Events.ShouldHaveSingleItem().ShouldBeOfType<SegmentLeft>();
        (left.LeadId, left.Subject).ShouldBe((reader.Id, "downloaded-guide-not-sales-page"));
        second.Membership.Count.ShouldBe(0);
    }

    [Fact]
    public async Task Tracker_StoreHoldsThePreviousMembers_ReportsOnlyChanges()
    {
        var (population, reader, buyer, _) = Retargeting();
        var store = new InMemorySegmentMembershipStore();
        foreach (LeadId member in new[] { reader.Id, buyer.Id })
        {
            (await store.TryAddAsync(new SegmentMember { Segment = "downloaded-guide-not-sales-page", Lead = member, IsMember = true, ChangedAt = Now })).ShouldBeTrue();
        }

        SegmentTracker tracker = new(RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide"), store);

        SegmentChanges changes = await tracker.EvaluateAsync(population, Now);

        changes.Events.ShouldHaveSingleItem().ShouldBeOfType<SegmentLeft>().LeadId.ShouldBe(buyer.Id);
    }

    [Fact]
    public async Task CsvAudienceExporter_Audience_WritesHeaderAndOneSha256LinePerAddress()
    {
        EmailAddress ann = EmailAddress.Parse("Ann@Example.com");
        EmailAddress bob = EmailAddress.Parse("bob@exämple.com");
        MemoryStream output = new();
        Audience? opened = null;
        CsvAudienceExporter exporter = new(a =>
        {
            opened = a;
            return output;
        });

        int rows = await exporter.ExportAsync(new Audience("retarget", [ann, bob, ann, default]));

        rows.ShouldBe(2);
        opened!.Name.ShouldBe("retarget");
        byte[] expected = Encoding.UTF8.GetBytes(
            "email\n"
            + "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476\n"
            + "11393f2974b435380389f199911bdfddbd695b991e841938b53772982e59a243\n");
        output.ToArray().ShouldBe(expected);
        Should.Throw<ObjectDisposedException>(() => output.WriteByte(0));
    }

    [Fact]
    public void Builder_SameLeadTwice_Throws()
    {
        LeadPopulationBuilder builder = new();
        LeadId id = LeadId.New();
        builder.AddVisitor(id);

        Should.Throw<ArgumentException>(() => builder.AddVisitor(id));
        Should.Throw<ArgumentOutOfRangeException>(() => builder.AddEvent(1, EventTypes.PageViewed, "/", Now));
    }

    [Fact]
    public void Population_IndexOfAndLeadAt_RoundTrip()
    {
        var (population, reader, buyer, visitor) = Retargeting();

        population.Count.ShouldBe(3);
        population.EventCount.ShouldBe(6);
        population.IndexOf(buyer.Id).ShouldBe(1);
        population.LeadAt(2).ShouldBe(visitor);
        population.IndexOf(LeadId.New()).ShouldBe(-1);
        new SegmentEvaluator(new TagRule("x")).Evaluate(population, Now).Contains(reader.Id).ShouldBeFalse();
    }

    private sealed class AudienceComparer : IEqualityComparer<Audience>
    {
        public bool Equals(Audience? x, Audience? y) => x!.Name == y!.Name && x.Members.SequenceEqual(y.Members);

        public int GetHashCode(Audience obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}

public class RetargetingSampleTests
{
    [Fact]
    public void Measure_CaseStudy_FindsTheReadersAndDownloadersToRetarget()
    {
        var events = Funnel.Samples.EbookMasterclass.MasterclassScenario.GenerateEvents(new Funnel.Samples.EbookMasterclass.ScenarioOptions());

        var sizes = Funnel.Samples.EbookMasterclass.RetargetingPrinter.Measure(events);

        // 50,000 visitors read the blog and 5,000 opened the guide page; 5,000 downloaded it and 1,000 visited the sales page.
        sizes.ShouldBe([("visited-blog-not-lead-magnet", 45_000), ("downloaded-guide-not-sales-page", 4_000)]);
    }
}
