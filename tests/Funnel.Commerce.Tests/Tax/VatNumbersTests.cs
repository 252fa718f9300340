using Funnel.Tax;

namespace Funnel.Tests.Tax;

/// <summary>Vectors: numbers published online, as collected in python-stdnum's tests (test_eu_vat.doctest), and HMRC's format.</summary>
public class VatNumbersTests
{
    public static TheoryData<string> Valid() =>
    [
        "ATU 142 43 102", "ATU13585627", "ATU61195628",
        "BE 0202.239.951", "BE (0)468.561.072", "BE 444.503.092", "BE0428759497",
        "BG 103873594", "BG 131202360", "BG7111042925",
        "CY 10246672X", "CY-10008489 A", "CY00632993 F",
        "CZ 25123891", "CZ00023205", "CZ 640903926", "CZ 8058012314",
        "DE 118619592", "DE 813 11 38 75", "DE136308783",
        "DK 10 50 32 80", "DK-27630308", "DK: 21599336",
        "EE 100 931 558", "EE101256753",
        "EL 039868210", "EL 94051189", "El 800 179 925",
        "ES A-28184661", "ES X5277343Q", "ESA78109592",
        "FI 02459042", "FI 0982651-1", "FI18261444",
        "FR 04409414364", "FR 13 393 892 815", "FR K 7399859412", "fr 71383076817",
        "HU 10672101", "HU-12892312", "HU11377304",
        "IE 6433435F", "IE 8223200u", "IE8D79739I", "IE6433435OA", "IE 9Y71814N",
        "IT 00118439991", "IT-01626160210", "IT 0 0 6 1 8 2 8 0 4 9 9",
        "LT 119511515", "LT 100001354118", "LT290068995116",
        "LU 10059929", "LU.248.70.640",
        "LV 40003189718", "LV-42103016370",
        "MT 1039-6417", "MT 20630321",
        "NL 806753742B01", "NL001162938B28", "NL00449544B01", "NL4495445B01",
        "PL 5211355116", "PL 584-030-44-72", "PL5261025421",
        "PT 500 019 720", "PT503038083",
        "RO 11358544", "RO 1822964", "RO 573768", "Ro 15071875",
        "SE 556058115801", "SE-556 792 355 101",
        "SI 26808498", "SI-89036999",
        "SK 1078449064", "SK2022193459",
        "GB 980 7806 84", "GB GD001", "XI 980780684",
        "HR 33392005961",
    ];

    public static TheoryData<string> BadChecksum() =>
    [
        "ATU 143 43 102", "ATU46080904", "BE 0406.139.583", "BE697449982", "BG 131 172 009", "BG 200940556",
        "CY 10246672F", "CY00632893 F", "CZ 25557481", "CZ 8058018314", "DE 125014855", "DE 813 91 38 75",
        "DK 11 96 56 58", "DK10159817", "EE 100525487", "EE101256754", "EL 094013834", "EL094501140",
        "FR 04409414264", "FR 21 326 565 603", "IE 4731823H", "IE 632 3421 C", "IE8D79729I",
        "LV 40003189715", "LV-42103048181", "SK 1078449164", "SK 2020457679", "GB 980 7806 85",
        "HU 10672102", "IT 00118439992", "LT 119511516", "LU 10059928", "MT 1039-6418", "NL 806753743B01",
        "PL 5211355117", "PT 500 019 721", "RO 11358545", "SE 556058115901", "SI 26808497", "FI 02459043", "HR 33392005962",
    ];

    [Theory]
    [MemberData(nameof(Valid))]
    public void Check_PublishedNumber_IsValid(string number)
    {
        VatNumberCheck check = VatNumbers.Check(number);

        check.Status.ShouldBe(VatNumberStatus.Valid, number);
        check.IsValid.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(BadChecksum))]
    public void Check_MistypedNumber_IsABadChecksum(string number)
    {
        VatNumbers.Check(number).Status.ShouldBe(VatNumberStatus.BadChecksum, number);
    }

    [Theory]
    [InlineData("AT1 142 43 102"), InlineData("ATU 1515B209"), InlineData("BE 02A2.239.951"), InlineData("BG 10X8735941")]
    [InlineData("DE 246X595 415"), InlineData("DE 011125440"), InlineData("IE 4550C59S"), InlineData("NL 001241643801")]
    [InlineData("NL 009122746B00"), InlineData("SK A078449064"), InlineData("SK 012 274 96 19"), InlineData("SK 2010 237 945")]
    [InlineData("ATU 151592092"), InlineData("SE 55643359201"), InlineData("FR000076090"), InlineData("DE")]
    public void Check_WrongShape_IsABadFormat(string number)
    {
        VatNumbers.Check(number).Status.ShouldBe(VatNumberStatus.BadFormat, number);
    }

    [Theory]
    [InlineData("QQ 124567"), InlineData("US123456789"), InlineData(""), InlineData("D")]
    public void Check_UnknownPrefix_IsUnknownCountry(string number)
    {
        VatNumberCheck check = VatNumbers.Check(number);

        check.Status.ShouldBe(VatNumberStatus.UnknownCountry);
        check.Country.ShouldBeNull();
        check.Normalized.ShouldBeNull();
    }

    [Fact]
    public void Check_GreekAndNorthernIrishNumbers_MapToTheirIsoCountries()
    {
        VatNumbers.Check("EL 094012834").Country.ShouldBe("GR");
        VatNumbers.Check("XI 980780684").Country.ShouldBe("GB");
        VatNumbers.Check("de 136-308-783").Normalized.ShouldBe("DE136308783");
    }

    [Fact]
    public void Prefixes_AreTheEuStatesAndTheUk()
    {
        VatNumbers.Prefixes.Count.ShouldBe(29);
        Should.Throw<ArgumentNullException>(() => VatNumbers.Check(null!));
    }
}
