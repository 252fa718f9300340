using FluentValidation;
using FluentValidation.Results;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using NodaTime;
using static Funnel.Tests.Offers.OfferTestKit;

namespace Funnel.Tests.Offers;

public class ValidationTests
{
    private static readonly Catalogue Masterclass = OfferPathCatalogue.Catalogue;

    private static Catalogue WithOffer(int index, Func<Offer, Offer> change) =>
        Masterclass with { Offers = Masterclass.Offers.SetItem(index, change(Masterclass.Offers[index])) };

    private static ValidationFailure ShouldFailAt(Catalogue catalogue, string path)
    {
        ValidationResult result = new CatalogueValidator().Validate(catalogue);
        result.IsValid.ShouldBeFalse();
        ValidationFailure error = result.Errors.ShouldHaveSingleItem();
        error.PropertyName.ShouldBe(path);
        return error;
    }

    [Fact]
    public void Validate_PlanWithOneInstallment_NamesTheField()
    {
        Catalogue catalogue = WithOffer(0, o => o with { PaymentPlans = [o.PaymentPlans[0] with { Installments = 1 }] });

        ShouldFailAt(catalogue, "Offers[0].PaymentPlans[0].Installments").ErrorMessage.ShouldContain("at least 2");
    }

    [Fact]
    public void Validate_PlanInAnotherCurrency_NamesTheField()
    {
        Catalogue catalogue = WithOffer(1, o => o with { PaymentPlans = [o.PaymentPlans[0] with { InstallmentAmount = Money.FromMajor(270m, Currency.EUR) }] });

        ShouldFailAt(catalogue, "Offers[1].PaymentPlans[0].InstallmentAmount").ErrorMessage.ShouldContain("EUR");
    }

    [Fact]
    public void Validate_OfferPricedInAnotherCurrency_IsAClearError()
    {
        Catalogue catalogue = WithOffer(2, o => o with { Price = Money.FromMajor(47m, Currency.EUR) });

        ShouldFailAt(catalogue, "Offers[2].Price").ErrorMessage.ShouldContain("cannot mix currencies");
        Should.Throw<ValidationException>(() => new PriceBook(catalogue)).Message.ShouldContain("Offers[2].Price");
    }

    [Fact]
    public void Validate_ZeroInstallmentAmount_NamesTheField()
    {
        Catalogue catalogue = WithOffer(0, o => o with { PaymentPlans = [o.PaymentPlans[0] with { InstallmentAmount = Usd(0m) }] });

        ShouldFailAt(catalogue, "Offers[0].PaymentPlans[0].InstallmentAmount").ErrorMessage.ShouldContain("positive");
    }

    [Fact]
    public void Validate_ZeroOrNegativeInterval_NamesTheField()
    {
        ShouldFailAt(WithOffer(0, o => o with { PaymentPlans = [o.PaymentPlans[0] with { Interval = Period.Zero }] }), "Offers[0].PaymentPlans[0].Interval");
        ShouldFailAt(WithOffer(0, o => o with { PaymentPlans = [o.PaymentPlans[0] with { Interval = Period.FromMonths(-1) }] }), "Offers[0].PaymentPlans[0].Interval");
    }

    [Fact]
    public void Validate_UnknownProduct_NamesTheOfferAndProduct()
    {
        Catalogue catalogue = WithOffer(3, o => o with { Products = ["cover-design-pack", "no-such-pack"] });

        ShouldFailAt(catalogue, "Offers[3].Products[1]").ErrorMessage.ShouldContain("no-such-pack");
    }

    [Fact]
    public void Validate_DuplicateOfferId_NamesTheSecond()
    {
        Catalogue catalogue = WithOffer(4, o => o with { Id = OfferPathCatalogue.CoverPack });

        ShouldFailAt(catalogue, "Offers[4].Id").ErrorMessage.ShouldContain("Duplicate");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(100.5)]
    [InlineData(12.34567)]
    public void Validate_PercentOutOfRange_NamesTheCoupon(double percent)
    {
        Catalogue catalogue = Masterclass with { Coupons = [new Coupon { Code = "BAD", PercentOff = (decimal)percent }] };

        ShouldFailAt(catalogue, "Coupons[0].PercentOff").ErrorMessage.ShouldContain("'BAD'");
    }

    [Fact]
    public void Validate_CouponWithBothOrNeitherDiscount_IsAnError()
    {
        ShouldFailAt(Masterclass with { Coupons = [new Coupon { Code = "BOTH", PercentOff = 10m, AmountOff = Usd(5m) }] }, "Coupons[0]");
        ShouldFailAt(Masterclass with { Coupons = [new Coupon { Code = "NONE" }] }, "Coupons[0]");
    }

    [Fact]
    public void Validate_CouponForUnknownOfferOrInverseWindow_NamesTheField()
    {
        ShouldFailAt(Masterclass with { Coupons = [new Coupon { Code = "X", PercentOff = 10m, AppliesTo = ["nope"] }] }, "Coupons[0].AppliesTo[0]");
        ShouldFailAt(Masterclass with { Coupons = [new Coupon { Code = "X", PercentOff = 10m, StartsAt = T0, ExpiresAt = T0 }] }, "Coupons[0].ExpiresAt");
        ShouldFailAt(Masterclass with { Coupons = [new Coupon { Code = "X", PercentOff = 10m, MaxRedemptions = 0 }] }, "Coupons[0].MaxRedemptions");
    }

    [Fact]
    public void Validate_DuplicateCouponCodeIgnoringCase_IsAnError()
    {
        Catalogue catalogue = Masterclass with { Coupons = [new Coupon { Code = "SAVE", PercentOff = 10m }, new Coupon { Code = "save", PercentOff = 5m }] };

        ShouldFailAt(catalogue, "Coupons[1].Code");
    }

    [Fact]
    public void Validate_EvergreenDeadlineWithoutStartEvent_NamesTheField()
    {
        Catalogue catalogue = WithOffer(0, o => o with { Bonuses = [o.Bonuses[0] with { Deadline = o.Bonuses[0].Deadline with { StartsOn = null } }] });

        ShouldFailAt(catalogue, "Offers[0].Bonuses[0].Deadline.StartsOn");
    }

    [Fact]
    public void ValidatePath_Cycle_NamesTheOffersOnIt()
    {
        OfferPath path = OfferPathCatalogue.Path with
        {
            Edges = OfferPathCatalogue.Path.Edges.Add(new OfferPathEdge { From = OfferPathCatalogue.MiniKit, When = OfferTransition.Purchased, To = OfferPathCatalogue.Premium }),
        };

        ValidationResult result = new OfferPathValidator(Masterclass).Validate(path);

        ValidationFailure error = result.Errors.ShouldHaveSingleItem();
        error.ErrorMessage.ShouldContain("cycle");
        error.ErrorMessage.ShouldContain("masterclass-premium -> mini-ebook-kit -> masterclass-premium");
    }

    [Fact]
    public void ValidatePath_SelfLoop_IsACycle()
    {
        OfferPath path = new() { Entry = OfferPathCatalogue.Basic, Edges = [new OfferPathEdge { From = OfferPathCatalogue.MiniKit, When = OfferTransition.Declined, To = OfferPathCatalogue.MiniKit }] };

        new OfferPathValidator(Masterclass).Validate(path).Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Edges[0]");
    }

    [Fact]
    public void ValidatePath_DanglingReference_NamesTheEdgeEnd()
    {
        OfferPath path = OfferPathCatalogue.Path with
        {
            Edges = OfferPathCatalogue.Path.Edges.Add(new OfferPathEdge { From = OfferPathCatalogue.MiniKit, When = OfferTransition.Purchased, To = "coaching-vip" }),
        };

        ValidationFailure error = new OfferPathValidator(Masterclass).Validate(path).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe("Edges[5].To");
        error.ErrorMessage.ShouldContain("coaching-vip");
    }

    [Fact]
    public void ValidatePath_UnknownEntry_NamesTheEntry()
    {
        new OfferPathValidator(Masterclass).Validate(OfferPathCatalogue.Path with { Entry = "nope" }).Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Entry");
    }

    [Fact]
    public void ValidatePath_HigherTierCheaperThanWhatItFollows_NamesTheNode()
    {
        OfferPath path = new()
        {
            Entry = OfferPathCatalogue.Basic,
            Edges = [new OfferPathEdge { From = OfferPathCatalogue.Basic, When = OfferTransition.Purchased, To = OfferPathCatalogue.MiniKit, HigherTier = true }],
        };

        ValidationFailure error = new OfferPathValidator(Masterclass).Validate(path).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe("Edges[0].To");
        error.ErrorMessage.ShouldContain("'mini-ebook-kit'");
        error.ErrorMessage.ShouldContain("cheaper");
    }

    [Fact]
    public void ValidatePath_CheaperUpsellNotMarkedHigherTier_IsAllowed()
    {
        OfferPath path = new()
        {
            Entry = OfferPathCatalogue.Basic,
            Edges = [new OfferPathEdge { From = OfferPathCatalogue.Basic, When = OfferTransition.Purchased, To = OfferPathCatalogue.MiniKit }],
        };

        new OfferPathValidator(Masterclass).Validate(path).IsValid.ShouldBeTrue();
    }

    [Fact]
    public void ValidatePath_TwoPurchasedEdgesFromOneOffer_IsAmbiguous()
    {
        OfferPath path = OfferPathCatalogue.Path with
        {
            Edges = OfferPathCatalogue.Path.Edges.Add(new OfferPathEdge { From = OfferPathCatalogue.Basic, When = OfferTransition.Purchased, To = OfferPathCatalogue.MiniKit }),
        };

        new OfferPathValidator(Masterclass).Validate(path).Errors.ShouldHaveSingleItem().ErrorMessage.ShouldContain("unambiguous");
    }

    [Fact]
    public void OrderService_InvalidPath_FailsAtConstruction()
    {
        OfferPath path = OfferPathCatalogue.Path with { Entry = "nope" };

        Should.Throw<ValidationException>(() => new OfferTestKit(path: path)).Message.ShouldContain("Entry");
    }
}
