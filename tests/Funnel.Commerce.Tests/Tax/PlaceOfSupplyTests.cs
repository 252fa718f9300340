using Funnel.Tax;

namespace Funnel.Tests.Tax;

public class PlaceOfSupplyTests
{
    [Fact]
    public void Determine_TwoPiecesAgree_IsTheirCountry()
    {
        PlaceOfSupply place = PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "de", IpCountry = "DE" });

        place.Status.ShouldBe(PlaceOfSupplyStatus.Determined);
        place.Country.ShouldBe("DE");
    }

    [Fact]
    public void Determine_TwoAgreeAndTheThirdDiffers_KeepsTheTwoAndListsTheThird()
    {
        var evidence = new LocationEvidence { BillingCountry = "FR", IpCountry = "BE", CardCountry = "FR" };

        PlaceOfSupply place = PlaceOfSupply.Determine(evidence);

        place.Status.ShouldBe(PlaceOfSupplyStatus.Determined);
        place.Country.ShouldBe("FR");
        place.CountriesNamed.ShouldBe(["FR", "BE"]);
        place.Evidence.ShouldBe(evidence);
    }

    [Fact]
    public void Determine_NoTwoAgree_IsAConflictWithoutACountry()
    {
        PlaceOfSupply place = PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "IE", IpCountry = "GB", CardCountry = "DE" });

        place.Status.ShouldBe(PlaceOfSupplyStatus.Conflict);
        place.Country.ShouldBeNull();
        place.CountriesNamed.ShouldBe(["IE", "GB", "DE"]);
    }

    [Fact]
    public void Determine_TwoPiecesDisagree_IsAConflict()
    {
        PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "IE", CardCountry = "GB" }).Status.ShouldBe(PlaceOfSupplyStatus.Conflict);
    }

    [Fact]
    public void Determine_OnePieceOrNone_IsInsufficient()
    {
        PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "DE", IpCountry = " " }).Status.ShouldBe(PlaceOfSupplyStatus.Insufficient);
        PlaceOfSupply.Determine(new LocationEvidence()).Status.ShouldBe(PlaceOfSupplyStatus.Insufficient);
    }

    [Fact]
    public void Determine_NotACountryCode_ThrowsNamingThePiece()
    {
        Should.Throw<ArgumentException>(() => PlaceOfSupply.Determine(new LocationEvidence { BillingCountry = "DE", IpCountry = "Germany" }))
            .Message.ShouldContain("IpCountry");
        Should.Throw<ArgumentNullException>(() => PlaceOfSupply.Determine(null!));
    }
}
