using Funnel.Tax;
using NodaTime;

namespace Funnel.Tests.Tax;

public class VatRateTableTests
{
    private static readonly LocalDate Dec2026 = new(2026, 12, 5);

    [Theory]
    [InlineData("DE", 19), InlineData("FR", 20), InlineData("IE", 23), InlineData("HU", 27), InlineData("LU", 17)]
    [InlineData("EE", 24), InlineData("FI", 25.5), InlineData("SK", 23), InlineData("RO", 21), InlineData("GB", 20)]
    [InlineData("AT", 20), InlineData("BE", 21), InlineData("BG", 20), InlineData("CY", 19), InlineData("CZ", 21)]
    [InlineData("DK", 25), InlineData("ES", 21), InlineData("GR", 24), InlineData("HR", 25), InlineData("IT", 22)]
    [InlineData("LT", 21), InlineData("LV", 21), InlineData("MT", 18), InlineData("NL", 21), InlineData("PL", 23)]
    [InlineData("PT", 23), InlineData("SE", 25), InlineData("SI", 22)]
    public void Find_Standard2026_IsTheRateInForce(string country, double rate)
    {
        VatRateTable.Default.Find(country, TaxCategory.Standard, Dec2026)!.Value.Rate.ShouldBe((decimal)rate);
    }

    [Theory]
    [InlineData("DE", 7), InlineData("FR", 5.5), InlineData("IE", 0), InlineData("AT", 10), InlineData("IT", 4)]
    [InlineData("ES", 4), InlineData("NL", 9), InlineData("CZ", 0), InlineData("FI", 13.5), InlineData("LT", 5)]
    [InlineData("CY", 3), InlineData("SK", 5), InlineData("GB", 0), InlineData("GR", 6), InlineData("LU", 3)]
    [InlineData("HU", 27), InlineData("DK", 25)]
    public void Find_EBook2026_IsTheReducedRateOrTheStandardRate(string country, double rate)
    {
        VatRateTable.Default.Find(country, TaxCategory.EBook, Dec2026)!.Value.Rate.ShouldBe((decimal)rate);
    }

    [Theory]
    [InlineData("EE", "2025-06-30", 22), InlineData("EE", "2025-07-01", 24), InlineData("EE", "2023-12-31", 20)]
    [InlineData("FI", "2024-08-31", 24), InlineData("FI", "2024-09-01", 25.5)]
    [InlineData("LU", "2022-12-31", 17), InlineData("LU", "2023-06-15", 16), InlineData("LU", "2024-01-01", 17)]
    [InlineData("RO", "2025-07-31", 19), InlineData("RO", "2025-08-01", 21), InlineData("SK", "2024-12-31", 20)]
    [InlineData("IE", "2021-02-28", 21), InlineData("IE", "2021-03-01", 23)]
    public void Find_StandardByDate_TakesTheLatestRateOnOrBeforeTheDate(string country, string date, double rate)
    {
        VatRateTable.Default.Find(country, TaxCategory.Standard, LocalDate.FromDateTime(DateTime.Parse(date, System.Globalization.CultureInfo.InvariantCulture)))!
            .Value.Rate.ShouldBe((decimal)rate);
    }

    [Theory]
    [InlineData("IE", "2023-12-31", 9), InlineData("IE", "2024-01-01", 0), InlineData("FI", "2024-12-31", 10)]
    [InlineData("FI", "2025-06-01", 14), InlineData("LT", "2022-12-31", 21), InlineData("LT", "2023-01-01", 9)]
    [InlineData("GR", "2021-06-30", 24), InlineData("GR", "2021-07-01", 6), InlineData("CZ", "2023-12-31", 10)]
    public void Find_EBookByDate_FallsBackToStandardBeforeTheFirstEBookRate(string country, string date, double rate)
    {
        VatRateTable.Default.Find(country, TaxCategory.EBook, LocalDate.FromDateTime(DateTime.Parse(date, System.Globalization.CultureInfo.InvariantCulture)))!
            .Value.Rate.ShouldBe((decimal)rate);
    }

    [Fact]
    public void Find_BeforeTheTableStartsOrUnknownCountry_IsNull()
    {
        VatRateTable.Default.Find("DE", TaxCategory.Standard, new LocalDate(2020, 12, 31)).ShouldBeNull();
        VatRateTable.Default.Find("US", TaxCategory.Standard, Dec2026).ShouldBeNull();
        VatRateTable.Default.Covers("US").ShouldBeFalse();
        VatRateTable.Default.Covers("de").ShouldBeTrue();
    }

    [Fact]
    public void Default_CoversTheEuAndTheUk_WithItsDateAndRounding()
    {
        VatRateTable table = VatRateTable.Default;

        table.Countries.Length.ShouldBe(28);
        table.TableDate.ShouldBe(Dec2026);
        table.RoundingFor("GB").ShouldBe(TaxRounding.PerLine);
        table.RoundingFor("DE").ShouldBe(TaxRounding.PerInvoice);
        table.Rates.Where(r => !r.Verified).Select(r => r.Country).ShouldBe(["RO"]);
    }

    [Fact]
    public void Parse_UserTable_ReplacesTheRates()
    {
        const string Json = """
            // my table
            { "tableDate": "2027-01-01", "rounding": { "DE": "per_line" },
              "rates": [ { "country": "DE", "category": "standard", "rate": 21, "from": "2027-01-01" } ] }
            """;

        VatRateTable table = VatRateTable.Parse(Json);

        table.Find("DE", TaxCategory.EBook, new LocalDate(2027, 2, 1))!.Value.Rate.ShouldBe(21m);
        table.RoundingFor("DE").ShouldBe(TaxRounding.PerLine);
        table.Countries.ShouldBe(["DE"]);
    }

    [Theory]
    [InlineData("""{ "tableDate": "2027-13-01", "rates": [ { "country": "DE", "category": "standard", "rate": 21, "from": "2027-01-01" } ] }""", "tableDate")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [] }""", "rates")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [ { "country": "de", "category": "standard", "rate": 21, "from": "2027-01-01" } ] }""", "rates[0].country")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [ { "country": "DE", "category": "reduced", "rate": 21, "from": "2027-01-01" } ] }""", "rates[0].category")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [ { "country": "DE", "category": "standard", "rate": 120, "from": "2027-01-01" } ] }""", "rates[0].rate")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [ { "country": "DE", "category": "standard", "rate": 21, "from": "soon" } ] }""", "rates[0].from")]
    [InlineData("""{ "tableDate": "2027-01-01", "rounding": { "DE": "sometimes" }, "rates": [ { "country": "DE", "category": "standard", "rate": 21, "from": "2027-01-01" } ] }""", "rounding.DE")]
    [InlineData("""{ "tableDate": "2027-01-01", "rates": [ { "country": "DE", "category": "standard", "rate": 21, "from": "2027-01-01" }, { "country": "DE", "category": "standard", "rate": 22, "from": "2027-01-01" } ] }""", "rates[1]")]
    [InlineData("not json", "not valid")]
    public void Parse_BadTable_ThrowsNamingTheEntry(string json, string named)
    {
        Should.Throw<FormatException>(() => VatRateTable.Parse(json)).Message.ShouldContain(named);
    }

    [Fact]
    public void Resolve_AcrossARateChangeAtUtcMidnight_GivesEachInstantTheRateOfItsUtcDay()
    {
        VatRateTable table = VatRateTable.Parse("""
            { "tableDate": "2027-01-01",
              "rates": [ { "country": "DE", "category": "standard", "rate": 19, "from": "2021-01-01" },
                         { "country": "DE", "category": "standard", "rate": 21, "from": "2027-01-01" },
                         { "country": "DE", "category": "e_book", "rate": 7, "from": "2027-01-01" } ] }
            """);
        Instant midnight = Instant.FromUtc(2027, 1, 1, 0, 0);

        // Asked back and forth, so the rates kept for the last day asked are checked against the instant each time.
        foreach (Instant at in new[] { midnight - Duration.FromTicks(1), midnight, midnight - Duration.FromTicks(1), midnight + Duration.FromHours(23.99) })
        {
            RatesOnDate rates = table.Resolve("DE", at).ShouldNotBeNull();
            bool after = at >= midnight;
            (rates.Standard!.Value.Rate, rates.EBook!.Value.Rate).ShouldBe(after ? (21m, 7m) : (19m, 19m), $"at {at}");
            rates.StandardScaled.ShouldBe(after ? 210_000 : 190_000);
        }

        table.Resolve("FR", midnight).ShouldBeNull();
    }
}
