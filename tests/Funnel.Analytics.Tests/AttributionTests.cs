using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests;

public class AttributionTests
{
    private static readonly Money Price = Money.FromMajor(497m, Currency.USD);

    /// <summary>One buyer touched facebook, then google, then email (twice in a row), then bought.</summary>
    private static AnalyticsEventStore Store() => AnalyticsEventStore.Load(
    [
        E(1, "page_viewed", 0, "facebook"),
        E(1, "page_viewed", 1, "google"),
        E(1, "email_clicked", 2, "email"),
        E(1, "email_clicked", 3, "email"),
        new OrderPlaced { LeadId = Lead(1), OccurredAt = At(4), Order = OrderId.New(), Offer = "x", Total = Price },
        E(1, "page_viewed", 5, "instagram"),
        new OrderPlaced { LeadId = Lead(2), OccurredAt = At(4), Order = OrderId.New(), Offer = "x", Total = Price },
        new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(100m, Currency.USD) },
    ]);

    private static Money Of(AttributionReport r, string channel) => r.Channels.Single(c => c.Channel == channel).Revenue;

    [Fact]
    public void FirstTouch_CreditsTheFirstChannel()
    {
        AttributionReport r = RevenueAttribution.Attribute(Store(), AttributionModel.FirstTouch);

        Of(r, "facebook").ShouldBe(Price);
        r.Unattributed.ShouldBe(Price); // lead 2 had no touch
        r.Revenue.ShouldBe(Price * 2);
    }

    [Fact]
    public void LastTouch_CreditsTheLastChannelBeforeTheOrder() =>
        Of(RevenueAttribution.Attribute(Store(), AttributionModel.LastTouch), "email").ShouldBe(Price);

    [Fact]
    public void Linear_SplitsExactlyOverDistinctConsecutiveTouches()
    {
        AttributionReport r = RevenueAttribution.Attribute(Store(), AttributionModel.Linear);

        // Three touches (email twice in a row counts once): 165.67 + 165.67 + 165.66.
        Of(r, "facebook").ShouldBe(Money.FromMajor(165.67m, Currency.USD));
        Of(r, "google").ShouldBe(Money.FromMajor(165.67m, Currency.USD));
        Of(r, "email").ShouldBe(Money.FromMajor(165.66m, Currency.USD));
        r.Channels.Any(c => c.Channel == "instagram" && !c.Revenue.IsZero).ShouldBeFalse();
    }

    [Fact]
    public void PositionBased_Gives40To20To40()
    {
        AttributionReport r = RevenueAttribution.Attribute(Store(), AttributionModel.PositionBased);

        Of(r, "facebook").ShouldBe(Money.FromMajor(198.80m, Currency.USD));
        Of(r, "google").ShouldBe(Money.FromMajor(99.40m, Currency.USD));
        Of(r, "email").ShouldBe(Money.FromMajor(198.80m, Currency.USD));
    }

    [Fact]
    public void Roas_UsesTheChannelsRecordedSpend()
    {
        ChannelAttribution facebook = RevenueAttribution.Attribute(Store(), AttributionModel.FirstTouch).Channels.Single(c => c.Channel == "facebook");

        facebook.AdSpend.ShouldBe(Money.FromMajor(100m, Currency.USD));
        facebook.ReturnOnAdSpend.ToDecimal().ShouldBe(4.97m);
    }

    [Fact]
    public void Lookback_DropsTouchesBeforeIt() =>
        Of(RevenueAttribution.Attribute(Store(), AttributionModel.FirstTouch, Duration.FromMinutes(2)), "email").ShouldBe(Price);

    [Theory]
    [InlineData(AttributionModel.Linear, 5, new long[] { 1, 1, 1, 1, 1 })]
    [InlineData(AttributionModel.PositionBased, 1, new long[] { 1 })]
    [InlineData(AttributionModel.PositionBased, 2, new long[] { 1, 1 })]
    [InlineData(AttributionModel.PositionBased, 4, new long[] { 80, 20, 20, 80 })]
    public void Weights_FollowTheModel(AttributionModel model, int touches, long[] expected) =>
        RevenueAttribution.Weights(model, touches).ShouldBe(expected);
}
