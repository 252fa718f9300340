using Funnel.Definitions;
using Funnel.Events;

namespace Funnel.Tests.Definitions;

public class EventMatchTests
{
    [Fact]
    public void Matches_TypeOnly_MatchesAnySubject()
    {
        EventMatch.For(EventTypes.PageViewed).Matches(TestEvents.View(1, 0, "/anything")).ShouldBeTrue();
    }

    [Fact]
    public void Matches_OtherType_IsFalse()
    {
        EventMatch.For(EventTypes.OptedIn).Matches(TestEvents.View(1, 0)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("/blog/*", "/blog/post", true)]
    [InlineData("/blog/*", "/blog/", true)]
    [InlineData("/blog/*", "/blogs", false)]
    [InlineData("/sales", "/sales", true)]
    [InlineData("/sales", "/Sales", false)]
    [InlineData("/sales", "/sales/extra", false)]
    public void Matches_Subject_ExactOrPrefix(string pattern, string page, bool expected)
    {
        EventMatch.For(EventTypes.PageViewed, pattern).Matches(TestEvents.View(1, 0, page)).ShouldBe(expected);
    }

    [Fact]
    public void Matches_SubjectRequiredButEventHasNone_IsFalse()
    {
        var referral = new ReferralMade { LeadId = TestEvents.Lead(1), OccurredAt = TestEvents.T0, Referred = TestEvents.Lead(2) };

        EventMatch.For(EventTypes.ReferralMade, "x").Matches(referral).ShouldBeFalse();
        EventMatch.For(EventTypes.ReferralMade).Matches(referral).ShouldBeTrue();
    }

    [Fact]
    public void ToString_ShowsTypeAndSubject()
    {
        EventMatch.For("opted_in", "guide").ToString().ShouldBe("opted_in:guide");
        EventMatch.For("opted_in").ToString().ShouldBe("opted_in");
    }
}
