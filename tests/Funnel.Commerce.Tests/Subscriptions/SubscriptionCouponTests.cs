using FluentValidation;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Subscriptions;
using Funnel.Tests.Offers;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;
using E = Funnel.Subscriptions.SubscriptionEventTypes;

namespace Funnel.Tests.Subscriptions;

/// <summary>A $49 membership, a $99 pro plan, a trial plan, a yearly plan and launch coupons, on in-memory fakes.</summary>
internal sealed class CouponKit
{
    public static readonly Instant Mar1 = Instant.FromUtc(2026, 3, 1, 9, 0);
    public static readonly OfferId Basic = "club";
    public static readonly OfferId Pro = "club-pro";
    public static readonly OfferId Trial = "club-trial";
    public static readonly OfferId Other = "club-other";

    public CouponKit(Catalogue? catalogue = null)
    {
        Clock = new FakeClock(Mar1);
        Gateway = new RecordingGateway(new InMemoryPaymentGateway(Clock));
        Prices = new PriceBook(catalogue ?? Catalogue());
        Service = new SubscriptionService(Prices, Store, Gateway, new RecordingGrantor(), DunningPolicy.Default, DateTimeZoneProviders.Tzdb,
            Clock, Log, Options.Create(new SubscriptionOptions()), billing: null, couponRedemptions: Redemptions);
    }

    public FakeClock Clock { get; }

    public PriceBook Prices { get; }

    public RecordingGateway Gateway { get; }

    public InMemorySubscriptionStore Store { get; } = new();

    public InMemoryCouponRedemptionStore Redemptions { get; } = new();

    public Funnel.Pipeline.InMemoryFunnelEventLog Log { get; } = new();

    public SubscriptionService Service { get; }

    public static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    public static Catalogue Catalogue(params Coupon[] coupons) => new()
    {
        Currency = Currency.USD,
        Products = [new Product { Key = "club", Name = "Creator Club", Kind = ProductKind.CommunityAccess }],
        Offers =
        [
            new Offer
            {
                Id = Basic, Name = "Club", Price = Usd(49), Products = ["club"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
            new Offer
            {
                Id = Pro, Name = "Club Pro", Price = Usd(99), Products = ["club"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
            new Offer
            {
                Id = Trial, Name = "Club, try it", Price = Usd(49), Products = ["club"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month, TrialDays = 14 },
            },
            new Offer
            {
                Id = Other, Name = "Other club", Price = Usd(19), Products = ["club"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
        ],
        Coupons = [.. coupons],
    };

    public Task<SubscriptionResult> StartAsync(OfferId offer, string coupon, int lead = 1, string card = InMemoryPaymentGateway.SucceedingCard) =>
        Service.StartAsync(new SubscriptionRequest
        {
            Lead = Funnel.Tests.Offers.OfferTestKit.Lead(lead), Offer = offer, BuyerZone = DateTimeZone.Utc, PaymentMethod = card,
            CouponCodes = [coupon],
        });

    /// <summary>Runs the renewal job at the end of the current period and returns the subscription after it.</summary>
    public async Task<Subscription> RenewAsync(Subscription s)
    {
        Clock.Reset(s.CurrentPeriodEnd);
        await Service.ProcessDueAsync();
        return (await Store.FindAsync(s.Id))!;
    }

    public IReadOnlyList<Money> Charged => [.. Gateway.Charges.Where(c => c.Result.Outcome == PaymentOutcome.Succeeded).Select(c => c.Request.Amount)];
}

public class SubscriptionCouponTests
{
    private static readonly Coupon HalfOffThreeMonths = new()
    {
        Code = "LAUNCH50", PercentOff = 50, Duration = CouponDuration.Repeating, DurationInPeriods = 3,
    };

    [Fact]
    public async Task StartAsync_HalfOffForThreePeriods_ChargesHalfThreeTimesThenFullPriceAndMrrRisesAtTheFourth()
    {
        var kit = new CouponKit(CouponKit.Catalogue(HalfOffThreeMonths));

        SubscriptionResult result = await kit.StartAsync(CouponKit.Basic, "launch50");
        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded, result.Reason);
        Subscription s = result.Subscription!;
        var started = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionStarted>();
        started.Price.ShouldBe(CouponKit.Usd(24.50m));
        started.MonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));
        started.AmountPaid.ShouldBe(CouponKit.Usd(24.50m));
        s.Coupons.ShouldHaveSingleItem().ShouldBe(new SubscriptionCoupon { Code = "LAUNCH50", AmountOff = CouponKit.Usd(24.50m), PeriodsLeft = 2 });

        Instant[] renewals = new Instant[4];
        for (int i = 0; i < 4; i++)
        {
            renewals[i] = s.CurrentPeriodEnd;
            s = await kit.RenewAsync(s);
        }

        kit.Charged.ShouldBe([CouponKit.Usd(24.50m), CouponKit.Usd(24.50m), CouponKit.Usd(24.50m), CouponKit.Usd(49), CouponKit.Usd(49)]);
        s.Coupons.ShouldBeEmpty();
        s.MonthlyAmount.ShouldBe(CouponKit.Usd(49));
        var ended = kit.Log.Snapshot().OfType<SubscriptionDiscountEnded>().ShouldHaveSingleItem();
        ended.OccurredAt.ShouldBe(renewals[2]);             // the 4th period (Jun 1) is the first at the full price
        ended.Coupons.ShouldBe(["LAUNCH50"]);
        ended.FromMonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));
        ended.ToMonthlyAmount.ShouldBe(CouponKit.Usd(49));

        SubscriptionMetrics metrics = SubscriptionMetrics.Create(kit.Log.Snapshot());
        metrics.MonthlyRecurringRevenue(renewals[2], Currency.USD).ShouldBe(CouponKit.Usd(24.50m));   // events before Jun 1
        metrics.MonthlyRecurringRevenue(renewals[2] + Duration.FromSeconds(1), Currency.USD).ShouldBe(CouponKit.Usd(49));
        RecurringRevenueMovement moved = metrics.For(renewals[2], renewals[3]).Currencies.ShouldHaveSingleItem();
        moved.Expansion.ShouldBe(CouponKit.Usd(24.50m));
        moved.New.ShouldBe(CouponKit.Usd(0));
        moved.Ending.ShouldBe(CouponKit.Usd(49));
    }

    [Fact]
    public async Task StartAsync_TenOffForever_ChargesThePriceLessTenEveryPeriod()
    {
        var forever = new Coupon { Code = "TEN", AmountOff = CouponKit.Usd(10), Duration = CouponDuration.Forever };
        var kit = new CouponKit(CouponKit.Catalogue(forever));

        Subscription s = (await kit.StartAsync(CouponKit.Basic, "TEN")).Subscription!;
        for (int i = 0; i < 5; i++)
        {
            s = await kit.RenewAsync(s);
        }

        kit.Charged.ShouldBe(Enumerable.Repeat(CouponKit.Usd(39), 6));
        s.Coupons.ShouldHaveSingleItem().PeriodsLeft.ShouldBeNull();
        s.MonthlyAmount.ShouldBe(CouponKit.Usd(39));
        kit.Log.Snapshot().OfType<SubscriptionDiscountEnded>().ShouldBeEmpty();
    }

    [Fact]
    public async Task StartAsync_CouponRestrictedToAnotherOffer_IsRejectedWithoutChargeOrRedemption()
    {
        var other = new Coupon { Code = "OTHER", PercentOff = 20, AppliesTo = [CouponKit.Other], MaxRedemptions = 1 };
        var kit = new CouponKit(CouponKit.Catalogue(other));

        SubscriptionResult result = await kit.StartAsync(CouponKit.Basic, "OTHER");

        result.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        result.RejectedCoupons.ShouldBe([new CouponRejection("OTHER", CouponRejectionReason.NotApplicable)]);
        result.Reason.ShouldNotBeNull().ShouldContain("NotApplicable");
        result.Subscription.ShouldBeNull();
        kit.Gateway.Charges.ShouldBeEmpty();
        kit.Log.Snapshot().ShouldBeEmpty();
        (await kit.Store.ListByLeadAsync(Funnel.Tests.Offers.OfferTestKit.Lead(1))).ShouldBeEmpty();
        (await kit.StartAsync(CouponKit.Other, "OTHER")).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);  // its one redemption is intact
    }

    [Theory]
    [InlineData("NOPE", CouponRejectionReason.Unknown)]
    [InlineData("OLD", CouponRejectionReason.Expired)]
    [InlineData("SOON", CouponRejectionReason.NotStarted)]
    public async Task StartAsync_InvalidCoupon_IsRejectedWithItsReason(string code, CouponRejectionReason reason)
    {
        var kit = new CouponKit(CouponKit.Catalogue(
            new Coupon { Code = "OLD", PercentOff = 10, ExpiresAt = CouponKit.Mar1 },
            new Coupon { Code = "SOON", PercentOff = 10, StartsAt = CouponKit.Mar1 + Duration.FromDays(1) }));

        SubscriptionResult result = await kit.StartAsync(CouponKit.Basic, code);

        result.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        result.RejectedCoupons.ShouldBe([new CouponRejection(code, reason)]);
        kit.Gateway.Charges.ShouldBeEmpty();
        kit.Log.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task StartAsync_RedemptionLimitReached_IsRejectedAndADeclinedStartGivesItsRedemptionBack()
    {
        var once = new Coupon { Code = "FIRST1", PercentOff = 50, MaxRedemptions = 1 };
        var kit = new CouponKit(CouponKit.Catalogue(once));

        (await kit.StartAsync(CouponKit.Basic, "FIRST1", lead: 1, card: InMemoryPaymentGateway.DecliningCard)).Outcome.ShouldBe(SubscriptionOutcome.Declined);
        (await kit.StartAsync(CouponKit.Basic, "FIRST1", lead: 2)).Outcome.ShouldBe(SubscriptionOutcome.Succeeded);
        int charges = kit.Gateway.Charges.Count;

        SubscriptionResult third = await kit.StartAsync(CouponKit.Basic, "FIRST1", lead: 3);

        third.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        third.RejectedCoupons.ShouldBe([new CouponRejection("FIRST1", CouponRejectionReason.LimitReached)]);
        kit.Gateway.Charges.Count.ShouldBe(charges);
        (await kit.Store.ListByLeadAsync(Funnel.Tests.Offers.OfferTestKit.Lead(3))).ShouldBeEmpty();
        kit.Log.Snapshot().OfType<SubscriptionStarted>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task StartAsync_LimitedCouponWithoutRedemptionStore_IsRejected()
    {
        var clock = new FakeClock(CouponKit.Mar1);
        var service = new SubscriptionService(new PriceBook(CouponKit.Catalogue(new Coupon { Code = "FIRST1", PercentOff = 50, MaxRedemptions = 1 })),
            new InMemorySubscriptionStore(), new InMemoryPaymentGateway(clock), new RecordingGrantor(), DunningPolicy.Default,
            DateTimeZoneProviders.Tzdb, clock, new Funnel.Pipeline.InMemoryFunnelEventLog(), Options.Create(new SubscriptionOptions()));

        SubscriptionResult result = await service.StartAsync(new SubscriptionRequest
        {
            Lead = Funnel.Tests.Offers.OfferTestKit.Lead(1), Offer = CouponKit.Basic, BuyerZone = DateTimeZone.Utc,
            PaymentMethod = InMemoryPaymentGateway.SucceedingCard, CouponCodes = ["FIRST1"],
        });

        result.Outcome.ShouldBe(SubscriptionOutcome.Rejected);
        result.RejectedCoupons.ShouldBe([new CouponRejection("FIRST1", CouponRejectionReason.LimitReached)]);
    }

    [Fact]
    public async Task ProcessDueAsync_TrialThenOncePercentCoupon_DiscountsTheFirstPaidPeriodOnly()
    {
        var once = new Coupon { Code = "HALF", PercentOff = 50 };   // Duration defaults to Once
        var kit = new CouponKit(CouponKit.Catalogue(once));

        SubscriptionResult result = await kit.StartAsync(CouponKit.Trial, "HALF");
        Subscription s = result.Subscription!;
        s.Status.ShouldBe(SubscriptionStatus.Trialing);
        kit.Gateway.Charges.ShouldBeEmpty();
        s.Coupons.ShouldHaveSingleItem().PeriodsLeft.ShouldBe(1);   // the trial uses up nothing
        result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionStarted>().MonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));

        s = await kit.RenewAsync(s);                                // the trial converts
        s = await kit.RenewAsync(s);
        s = await kit.RenewAsync(s);

        kit.Charged.ShouldBe([CouponKit.Usd(24.50m), CouponKit.Usd(49), CouponKit.Usd(49)]);
        kit.Log.Snapshot().OfType<SubscriptionTrialConverted>().ShouldHaveSingleItem().MonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));
        kit.Log.Snapshot().Select(e => e.EventType).ShouldBe(
            [E.SubscriptionStarted, E.SubscriptionTrialConverted, E.SubscriptionRenewed, E.SubscriptionDiscountEnded, E.SubscriptionRenewed]);
        SubscriptionMetrics.Create(kit.Log.Snapshot()).MonthlyRecurringRevenue(kit.Clock.GetCurrentInstant(), Currency.USD).ShouldBe(CouponKit.Usd(49));
    }

    [Fact]
    public async Task ChangePlanAsync_CouponAppliesToTheNewPlan_KeepsItRepricedForTheNewPrice()
    {
        var both = new Coupon { Code = "HALF", PercentOff = 50, Duration = CouponDuration.Forever, AppliesTo = [CouponKit.Basic, CouponKit.Pro] };
        var kit = new CouponKit(CouponKit.Catalogue(both));
        Subscription s = (await kit.StartAsync(CouponKit.Basic, "HALF")).Subscription!;   // Mar 1 – Apr 1, 31 days
        kit.Clock.Reset(Instant.FromUtc(2026, 3, 1, 9, 0) + Duration.FromDays(31) / 2);

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, CouponKit.Pro);

        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded, result.Reason);
        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.FromMonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));
        change.ToMonthlyAmount.ShouldBe(CouponKit.Usd(49.50m));
        change.Price.ShouldBe(CouponKit.Usd(49.50m));
        change.Proration.ShouldBe(CouponKit.Usd(12.50m));           // (49.50 − 24.50) × 15.5/31 days left
        s = result.Subscription!;
        s.Coupons.ShouldHaveSingleItem().AmountOff.ShouldBe(CouponKit.Usd(49.50m));
        s = await kit.RenewAsync(s);
        kit.Charged.ShouldBe([CouponKit.Usd(24.50m), CouponKit.Usd(12.50m), CouponKit.Usd(49.50m)]);
    }

    [Fact]
    public async Task ChangePlanAsync_CouponDoesNotApplyToTheNewPlan_EndsItAndChargesTheFullPrice()
    {
        var basicOnly = new Coupon { Code = "HALF", PercentOff = 50, Duration = CouponDuration.Forever, AppliesTo = [CouponKit.Basic] };
        var kit = new CouponKit(CouponKit.Catalogue(basicOnly));
        Subscription s = (await kit.StartAsync(CouponKit.Basic, "HALF")).Subscription!;

        SubscriptionResult result = await kit.Service.ChangePlanAsync(s.Id, CouponKit.Pro);   // at once: the whole period left

        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded, result.Reason);
        var change = result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionPlanChanged>();
        change.FromMonthlyAmount.ShouldBe(CouponKit.Usd(24.50m));
        change.ToMonthlyAmount.ShouldBe(CouponKit.Usd(99));
        change.Proration.ShouldBe(CouponKit.Usd(74.50m));           // 99 − 24.50 for the whole period
        s = result.Subscription!;
        s.Coupons.ShouldBeEmpty();
        s = await kit.RenewAsync(s);
        kit.Charged.ShouldBe([CouponKit.Usd(24.50m), CouponKit.Usd(74.50m), CouponKit.Usd(99)]);
        kit.Log.Snapshot().OfType<SubscriptionDiscountEnded>().ShouldBeEmpty();   // the plan change carried the MRR move
    }

    [Fact]
    public async Task StartAsync_EuroFixedCouponOnAEuroCatalogue_TakesTheEuroAmountOff()
    {
        Money Eur(decimal amount) => Money.FromMajor(amount, Currency.EUR);
        var catalogue = new Catalogue
        {
            Currency = Currency.EUR,
            Products = [new Product { Key = "club", Name = "Club", Kind = ProductKind.CommunityAccess }],
            Offers =
            [
                new Offer
                {
                    Id = CouponKit.Basic, Name = "Club", Price = Eur(29), Products = ["club"],
                    Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
                },
            ],
            Coupons = [new Coupon { Code = "FUENF", AmountOff = Eur(5), Duration = CouponDuration.Repeating, DurationInPeriods = 2 }],
        };
        var kit = new CouponKit(catalogue);

        Subscription s = (await kit.StartAsync(CouponKit.Basic, "FUENF")).Subscription!;
        s = await kit.RenewAsync(s);
        s = await kit.RenewAsync(s);

        kit.Charged.ShouldBe([Eur(24), Eur(24), Eur(29)]);
        s.MonthlyAmount.ShouldBe(Eur(29));
    }

    [Fact]
    public async Task StartAsync_CouponCoversTheWholePeriod_ChargesNothingThenTheFullPrice()
    {
        var free = new Coupon { Code = "FREEMONTH", PercentOff = 100 };
        var kit = new CouponKit(CouponKit.Catalogue(free));

        SubscriptionResult result = await kit.StartAsync(CouponKit.Basic, "FREEMONTH");
        Subscription s = result.Subscription!;
        result.Events.ShouldHaveSingleItem().ShouldBeOfType<SubscriptionStarted>().AmountPaid.ShouldBe(CouponKit.Usd(0));
        kit.Gateway.Charges.ShouldBeEmpty();
        s.PaymentMethod.ShouldBe(InMemoryPaymentGateway.SucceedingCard);

        s = await kit.RenewAsync(s);

        kit.Charged.ShouldBe([CouponKit.Usd(49)]);
        s.Status.ShouldBe(SubscriptionStatus.Active);
    }

    [Theory]
    [InlineData(CouponDuration.Repeating, null, "DurationInPeriods")]
    [InlineData(CouponDuration.Repeating, 0, "DurationInPeriods")]
    [InlineData(CouponDuration.Once, 2, "DurationInPeriods")]
    [InlineData((CouponDuration)9, null, "Duration")]
    public void Validate_BadCouponDuration_NamesTheField(CouponDuration duration, int? periods, string field)
    {
        Catalogue catalogue = CouponKit.Catalogue(new Coupon { Code = "X", PercentOff = 10, Duration = duration, DurationInPeriods = periods });

        var result = new CatalogueValidator().Validate(catalogue);

        result.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Coupons[0]." + field);
    }
}
