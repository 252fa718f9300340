using System.Text.RegularExpressions;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public partial class SeriesSvgTests
{
    [Fact]
    public void Write_Bars_DrawsHeightsProportionalToValuesWithTitles()
    {
        var html = new HtmlWriter();

        SeriesSvg.Write(html, "c", "Orders per day", "6", [new("2026-12-01", 2, "2"), new("2026-12-02", 0, "0"), new("2026-12-03", 4, "4")]);

        string svg = html.ToString();
        svg.ShouldStartWith("<svg role=\"img\"");
        svg.ShouldContain("<title>Orders per day, 2026-12-01 to 2026-12-03: total 6, highest 4 on 2026-12-03. The numbers are in the table below.</title>");
        svg.ShouldContain("aria-label=\"Orders per day, 2026-12-01 to 2026-12-03: total 6");
        Heights().Matches(svg).Select(static m => m.Groups[1].Value).ShouldBe(["78", "0", "156"]);
        svg.ShouldContain("<title>2026-12-02: 0</title>");
        svg.ShouldEndWith("</svg>");
    }

    [Fact]
    public void Alternative_AllZero_SaysNoneInAnyPeriod()
    {
        SeriesSvg.Alternative("Revenue per day", "$0.00", [new("2026-12-01", 0, "$0.00")])
            .ShouldBe("Revenue per day, 2026-12-01 to 2026-12-01: total $0.00, none in any period. The numbers are in the table below.");
        SeriesSvg.Alternative("Revenue per day", "$0.00", []).ShouldBe("Revenue per day: no periods.");
    }

    [Fact]
    public void Write_HostileLabel_IsEncoded()
    {
        var html = new HtmlWriter();

        SeriesSvg.Write(html, "c", Seeds.Hostile, "1", [new(Seeds.Hostile, 1, Seeds.Hostile)]);

        html.ToString().ShouldNotContain("<script");
    }

    [Fact]
    public void TryParse_NoValues_DefaultsToTheLast30DaysEndingToday()
    {
        OverviewRange.TryParse(null, "", new LocalDate(2026, 12, 1), out OverviewRange range).ShouldBeNull();

        range.ShouldBe(new OverviewRange(new LocalDate(2026, 11, 2), new LocalDate(2026, 12, 1)));
        range.Days.ShouldBe(30);
    }

    [Fact]
    public void TryParse_366Days_IsAccepted()
    {
        OverviewRange.TryParse("2027-12-31", null, new LocalDate(2028, 12, 30), out OverviewRange range).ShouldBeNull();
        OverviewRange.TryParse("2027-12-31", "2028-12-30", new LocalDate(2026, 1, 1), out range).ShouldBeNull();
        range.Days.ShouldBe(366);
        OverviewRange.TryParse("2027-12-31", "2028-12-31", new LocalDate(2026, 1, 1), out _).ShouldNotBeNull().ShouldContain("367 days");
    }

    [Fact]
    public void Start_BerlinDayOfTheDstChange_Is25HoursLong()
    {
        DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        var day = new OverviewRange(new LocalDate(2026, 10, 25), new LocalDate(2026, 10, 25));

        day.Start(berlin).ShouldBe(Instant.FromUtc(2026, 10, 24, 22, 0));
        day.End(berlin).ShouldBe(Instant.FromUtc(2026, 10, 25, 23, 0));
    }

    [GeneratedRegex("<rect [^>]*height=\"([0-9.]+)\"")]
    private static partial Regex Heights();
}
