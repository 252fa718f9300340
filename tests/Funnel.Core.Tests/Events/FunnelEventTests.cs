using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;

namespace Funnel.Tests.Events;

public class FunnelEventTests
{
    /// <summary>An application's own event, as the docs describe: a sealed record with its own type name.</summary>
    private sealed record QuizCompleted : LeadEvent
    {
        public required string Quiz { get; init; }

        public override string EventType => "quiz_completed";

        public override string? Subject => Quiz;
    }

    [Fact]
    public void CustomEvent_CanReachAStep()
    {
        FunnelDefinition funnel = FunnelBuilder.Create("quiz", "Quiz funnel").WithDefaultStages()
            .AddStep("visit", "Visitors", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed))
            .AddStep("quiz", "Quiz takers", "interest", StepKind.Custom, EventMatch.For("quiz_completed", "ebook-readiness"))
            .Build();

        FunnelReport report = new FunnelReporter().CreateReport(funnel,
        [
            TestEvents.View(1, 0),
            new QuizCompleted { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.At(2), Quiz = "ebook-readiness" },
            TestEvents.View(2, 0),
            new QuizCompleted { LeadId = TestEvents.Lead(2), OccurredAt = TestEvents.At(2), Quiz = "other" },
        ]);

        report.Overall.Steps.Select(s => s.Reached).ShouldBe([2, 1]);
    }

    [Fact]
    public void Events_HaveUniqueIdsAndEmptyDefaults()
    {
        PageViewed a = TestEvents.View(1, 0), b = TestEvents.View(1, 0);

        a.Id.ShouldNotBe(b.Id);
        a.Properties.ShouldBeEmpty();
        new OptedIn { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, Magnet = "guide" }.Attribution.ShouldBeSameAs(Attribution.None);
    }

    [Fact]
    public void Subjects_NameWhatTheEventIsAbout()
    {
        TestEvents.View(1, 0, "/blog/x").Subject.ShouldBe("/blog/x");
        TestEvents.OptIn(1, 0, "guide").Subject.ShouldBe("guide");
        TestEvents.Sales(1, 0, "course").Subject.ShouldBe("course");
        TestEvents.Order(1, 0, 100, "course").Subject.ShouldBe("course");
        TestEvents.Spend(100, "google").Subject.ShouldBe("google");
        new EmailOpened { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, Email = "nurture-1" }.Subject.ShouldBe("nurture-1");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void ReviewSubmitted_RatingOutsideOneToFive_Throws(int rating)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new ReviewSubmitted { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, Product = "course", Rating = rating })
            .ParamName.ShouldBe("Rating");
    }

    [Fact]
    public void FromUtm_DerivesTheChannelAndDropsBlanks()
    {
        Attribution utm = Attribution.FromUtm(" Facebook ", "cpc", "launch", " ", null);

        utm.Channel.ShouldBe("facebook");
        utm.Source.ShouldBe("Facebook");
        utm.Medium.ShouldBe("cpc");
        utm.Campaign.ShouldBe("launch");
        utm.Content.ShouldBeNull();
        utm.Term.ShouldBeNull();
        Attribution.FromUtm(null).Channel.ShouldBeNull();
    }
}
