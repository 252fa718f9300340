using Funnel.Events;
using Funnel.Offers;
using Funnel.Waitlists;
using NodaTime;
using static Funnel.Tests.Waitlists.WaitlistTestKit;

namespace Funnel.Tests.Waitlists;

public class WaitlistReportTests
{
    private static readonly OfferId Offer = "masterclass-basic";

    private static Money Usd(long cents) => new(cents, Currency.USD);

    [Fact]
    public void Compute_ClaimsFollowedByOrders_CountsEachOnceWithExactRevenue()
    {
        Instant t = T0;
        WaitlistSeatClaimed claim2 = new() { LeadId = Lead(2), OccurredAt = t + Duration.FromHours(3), Offer = Offer };
        FunnelEvent[] events =
        [
            new WaitlistJoined { LeadId = Lead(2), OccurredAt = t, Offer = Offer, Position = 1 },
            new WaitlistJoined { LeadId = Lead(3), OccurredAt = t, Offer = Offer, Position = 2 },
            new WaitlistJoined { LeadId = Lead(4), OccurredAt = t, Offer = Offer, Position = 3 },
            new WaitlistJoined { LeadId = Lead(5), OccurredAt = t, Offer = Offer, Position = 4 },
            new WaitlistJoined { LeadId = Lead(6), OccurredAt = t, Offer = "other-offer", Position = 1 },
            new WaitlistLeft { LeadId = Lead(5), OccurredAt = t + Duration.FromHours(1), Offer = Offer },
            new WaitlistSeatOffered { LeadId = Lead(2), OccurredAt = t + Duration.FromHours(2), Offer = Offer, ExpiresAt = t + Duration.FromHours(26) },
            new WaitlistSeatOffered { LeadId = Lead(3), OccurredAt = t + Duration.FromHours(2), Offer = Offer, ExpiresAt = t + Duration.FromHours(26) },
            new WaitlistSeatOffered { LeadId = Lead(4), OccurredAt = t + Duration.FromHours(2), Offer = Offer, ExpiresAt = t + Duration.FromHours(26) },
            new OrderPlaced { LeadId = Lead(2), OccurredAt = t + Duration.FromHours(1), Order = OrderId.New(), Offer = Offer, Total = Usd(1) },
            claim2,
            claim2,
            new OrderPlaced { LeadId = Lead(2), OccurredAt = t + Duration.FromHours(3), Order = OrderId.New(), Offer = Offer, Total = Usd(49_700) },
            new WaitlistSeatClaimed { LeadId = Lead(3), OccurredAt = t + Duration.FromHours(4), Offer = Offer },
            new AddOnAccepted
            {
                LeadId = Lead(3), OccurredAt = t + Duration.FromHours(4), Order = OrderId.New(), Offer = Offer, Role = OfferRole.OrderBump, Amount = Usd(1_999),
            },
            new WaitlistHoldExpired { LeadId = Lead(4), OccurredAt = t + Duration.FromHours(26), Offer = Offer },
        ];

        WaitlistReport report = WaitlistReport.Compute(events.Reverse(), Offer, Currency.USD);

        report.ShouldBe(new WaitlistReport
        {
            Offer = Offer, Joined = 4, Left = 1, Waiting = 0, Holding = 0, OffersMade = 3, Conversions = 2, Expiries = 1,
            RecoveredRevenue = Usd(51_699),
        });
        report.ConversionRate.ShouldBe(Ratio.Of(2, 3));
    }

    [Fact]
    public void Compute_NoOffersMade_HasZeroRevenueAndAnUndefinedRate()
    {
        WaitlistReport report = WaitlistReport.Compute(
            [new WaitlistJoined { LeadId = Lead(2), OccurredAt = T0, Offer = Offer, Position = 1 }], Offer, Currency.EUR);

        report.Waiting.ShouldBe(1);
        report.RecoveredRevenue.ShouldBe(Money.Zero(Currency.EUR));
        report.ConversionRate.ShouldBe(Ratio.Of(0, 0));
    }
}
