using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Funnel.Analytics;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardOverviewTests
{
    private const string Berlin = "Europe/Berlin";

    [Fact]
    public async Task Series_DaysAcrossTheBerlinDstChange_MatchKpiTimeSeriesInTheBusinessZone()
    {
        await using DashboardHost host = await StartInZoneAsync(Berlin);
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(DstJourneys());
        DateTimeZone zone = DateTimeZoneProviders.Tzdb[Berlin];
        ImmutableArray<KpiPoint> expected = KpiTimeSeries.Compute(AnalyticsEventStore.Load(
            ((InMemoryFunnelEventLog)host.Services.GetRequiredService<IFunnelEventLog>()).Snapshot()), KpiPeriod.Day, zone);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-10-20&to=2026-10-31");

        // Berlin leaves summer time on 2026-10-25 (a 25-hour day): 22:30Z on the 24th is already the 25th there,
        // and 23:30Z on the 25th is already the 26th, so the UTC days would differ.
        PageTables.Row(page, "2026-10-23").ShouldBe(["2026-10-23", "1", "1", "0", "$0.00"]);
        PageTables.Row(page, "2026-10-24").ShouldBe(["2026-10-24", "0", "0", "0", "$0.00"]);
        PageTables.Row(page, "2026-10-25").ShouldBe(["2026-10-25", "1", "1", "1", "$49.00"]);
        PageTables.Row(page, "2026-10-26").ShouldBe(["2026-10-26", "0", "0", "1", "$1,321.00"]);
        PageTables.Row(page, "2026-10-27").ShouldBe(["2026-10-27", "1", "0", "0", "$0.00"]);
        PageTables.Row(page, "Total").ShouldBe(["Total", "3", "2", "2", "$1,370.00"]);
        for (LocalDate day = new(2026, 10, 20); day <= new LocalDate(2026, 10, 31); day = day.PlusDays(1))
        {
            string label = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            KpiPoint? point = expected.SingleOrDefault(p => p.PeriodStart == day);
            PageTables.Row(page, label).ShouldBe(
            [
                label, (point?.NewVisitors ?? 0).ToString(CultureInfo.InvariantCulture), (point?.NewLeads ?? 0).ToString(CultureInfo.InvariantCulture),
                (point?.Orders ?? 0).ToString(CultureInfo.InvariantCulture), (point?.Revenue ?? Money.Zero(Currency.USD)).ToString("C", CultureInfo.InvariantCulture),
            ]);
        }

        page.ShouldNotContain("<th scope=\"row\">2026-10-19</th>");
        page.ShouldNotContain("<th scope=\"row\">2026-11-01</th>");
    }

    [Fact]
    public async Task Series_Page_HasChartsWithTextAlternatives()
    {
        await using DashboardHost host = await StartInZoneAsync(Berlin);
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(DstJourneys());
        using HttpClient client = host.Client();

        string page = WebUtility.HtmlDecode(await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-10-20&to=2026-10-31"));

        page.ShouldContain("<svg role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" id=\"leads-chart\"");
        page.ShouldContain("<title>New leads per day, 2026-10-20 to 2026-10-31: total 2, highest 1 on 2026-10-23. "
            + "The numbers are in the table below.</title>");
        page.ShouldContain("id=\"revenue-chart\"");
        page.ShouldContain("<title>Revenue per day, 2026-10-20 to 2026-10-31: total $1,370.00, highest $1,321.00 on 2026-10-26. "
            + "The numbers are in the table below.</title>");
        page.ShouldContain("<title>2026-10-25: $49.00</title>");
    }

    [Fact]
    public async Task Overview_Range_RestrictsTheKpisFunnelAndEventCounts()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1); // 2026-12-01
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            .. Visit(201, Instant.FromUtc(2026, 11, 10, 12, 0)),
            .. Visit(202, Instant.FromUtc(2026, 11, 10, 13, 0)),
            .. Order(201, Instant.FromUtc(2026, 11, 10, 14, 0), 132100),
        ]);
        using HttpClient client = host.Client();

        string all = await DashboardHost.GetPageAsync(client, "/funnel-admin/");
        string november = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-11-01&to=2026-11-15");
        string december = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-12-01&to=2026-12-01");

        all.ShouldContain("value=\"2026-11-02\""); // the default: the last 30 days, ending today (2026-12-01)
        all.ShouldContain("Entered the funnel<b>6</b>");
        all.ShouldContain("Revenue<b>$1,321.00</b>");
        november.ShouldContain("Entered the funnel<b>2</b>");
        november.ShouldContain("Orders<b>1</b>");
        november.ShouldContain("Revenue<b>$1,321.00</b>");
        PageTables.Row(november, EventTypes.PageViewed).ShouldBe([EventTypes.PageViewed, "2"]);
        PageTables.Row(november, "Blog visitors")[1].ShouldBe("2");
        december.ShouldContain("Entered the funnel<b>4</b>");
        december.ShouldContain("Revenue<b>$0.00</b>");
        PageTables.Row(december, EventTypes.PageViewed).ShouldBe([EventTypes.PageViewed, "4"]);
        PageTables.Row(december, "Blog visitors")[1].ShouldBe("4");
        december.ShouldContain("Every figure below is for 2026-12-01 to 2026-12-01 (UTC): the funnel and its key figures count "
            + "the people first seen in the range, with all their events; ad spend, the series and the 5 events by type are those "
            + "that happened in the range.");
    }

    [Fact]
    public async Task Overview_Segments_NameTheirDimensionAndFormatMoneyLikePayments()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
            [.. Visit(201, DashboardHost.Start), .. Order(201, DashboardHost.Start + Duration.FromMinutes(5), 132100)]);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        page.ShouldContain("<caption>By channel</caption><thead><tr><th scope=\"col\">Channel</th>");
        page.ShouldContain("<caption>By campaign</caption><thead><tr><th scope=\"col\">Campaign</th>");
        page.ShouldNotContain(">Segment<");
        page.ShouldNotContain("USD 1321.00");
        PageTables.Row(page, "ads")[3].ShouldBe("$1,321.00");
    }

    [Theory]
    [InlineData("from=2026-13-01", "The field \"from\" is not a date: \"2026-13-01\"")]
    [InlineData("to=yesterday", "The field \"to\" is not a date: \"yesterday\"")]
    [InlineData("from=2026-12-05&to=2026-12-01", "The field \"from\" (2026-12-05) is after \"to\" (2026-12-01)")]
    [InlineData("from=2025-01-01&to=2026-12-01", "The range from \"from\" (2025-01-01) to \"to\" (2026-12-01) is 700 days long: choose at most 366 days.")]
    [InlineData("from=0001-01-01", "The field \"from\" (0001-01-01) is out of range")]
    [InlineData("to=9999-12-31", "The field \"to\" (9999-12-31) is out of range")]
    public async Task Overview_BadRange_Returns400PageNamingTheField(string query, string message)
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 2, optIns: 1);
        using HttpClient client = host.Client();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel-admin/?" + query, UriKind.Relative));
        string page = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        page.ShouldContain("<h1>Overview</h1>");
        page.ShouldContain("<p role=\"alert\"><strong>");
        WebUtility.HtmlDecode(page).ShouldContain(message);
        page.ShouldContain("<label for=\"from\">From</label>");
        page.ShouldNotContain("<h2>Key figures</h2>");
    }

    [Fact]
    public async Task Overview_LongRange_ShowsWeeksStartingOnMondayFromTheFirstDay()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            .. Visit(201, Instant.FromUtc(2026, 1, 2, 12, 0)), .. Order(201, Instant.FromUtc(2026, 1, 4, 12, 0), 1000),
            .. Visit(202, Instant.FromUtc(2026, 1, 5, 12, 0)), .. Order(202, Instant.FromUtc(2026, 1, 11, 12, 0), 2500),
        ]);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-01-01&to=2026-12-01");

        page.ShouldContain("<h2>Per week</h2>");
        PageTables.Row(page, "2026-01-01").ShouldBe(["2026-01-01", "1", "1", "1", "$10.00"]); // Thursday to Sunday
        PageTables.Row(page, "2026-01-05").ShouldBe(["2026-01-05", "1", "1", "1", "$25.00"]); // Monday to Sunday
        PageTables.Row(page, "2026-11-30").ShouldBe(["2026-11-30", "0", "0", "0", "$0.00"]);  // Monday to the last day
        PageTables.Rows(page, "2026-01-02").ShouldBeEmpty();
        PageTables.Row(page, "Total").ShouldBe(["Total", "2", "2", "2", "$35.00"]);
    }

    private static Task<DashboardHost> StartInZoneAsync(string zone) =>
        DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.Funnel = DashboardHost.Funnel;
        }, registerPolicy: true, services => services.Configure<FunnelOptions>(o => o.TimeZoneId = zone));

    /// <summary>Three leads around Berlin's change from summer time on 2026-10-25, and one long before the range.</summary>
    private static FunnelEvent[] DstJourneys() =>
    [
        .. Visit(301, Instant.FromUtc(2026, 10, 23, 10, 0)),
        .. Order(301, Instant.FromUtc(2026, 10, 25, 12, 0), 4900),
        .. Visit(302, Instant.FromUtc(2026, 10, 24, 22, 30)),          // 00:30 CEST on the 25th in Berlin
        .. Order(302, Instant.FromUtc(2026, 10, 25, 23, 30), 132100),  // 00:30 CET on the 26th in Berlin
        new PageViewed { LeadId = Lead(303), OccurredAt = Instant.FromUtc(2026, 10, 27, 9, 0), Page = "/blog/post" },
        .. Visit(304, Instant.FromUtc(2026, 10, 10, 9, 0)),
        .. Order(304, Instant.FromUtc(2026, 10, 15, 9, 0), 9900),
    ];

    private static LeadId Lead(int n) => new(new Guid(n, 0, 0, new byte[8]));

    /// <summary>A page view from an ad, then an opt-in a minute later.</summary>
    private static FunnelEvent[] Visit(int lead, Instant at) =>
    [
        new PageViewed
        {
            LeadId = Lead(lead), OccurredAt = at, Page = "/blog/post",
            Attribution = new Attribution { Channel = "ads", Campaign = "autumn" },
        },
        new OptedIn { LeadId = Lead(lead), OccurredAt = at + Duration.FromMinutes(1), Magnet = "guide" },
    ];

    private static FunnelEvent[] Order(int lead, Instant at, long cents) =>
    [
        new OrderPlaced { LeadId = Lead(lead), OccurredAt = at, Order = OrderId.New(), Offer = "guide-pro", Total = new Money(cents, Currency.USD) },
    ];
}
