using System.Collections.Immutable;
using Funnel.Analytics;
using Funnel.AspNetCore.Dashboard.Figures;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>The overview's date range and its time series.</summary>
internal static partial class DashboardEndpoints
{
    /// <summary>Writes the date-range form and reads the range from the query; on bad input, writes the message instead.</summary>
    /// <returns><see langword="false"/> when <c>from</c> or <c>to</c> is invalid: the page is then a 400 with the form and the message.</returns>
    private static bool ReadRange(DashboardPage page, out OverviewRange range, out DateTimeZone zone)
    {
        FunnelOptions funnelOptions = page.Services.GetService<IOptions<FunnelOptions>>()?.Value ?? new FunnelOptions();
        IDateTimeZoneProvider zones = page.Services.GetService<IDateTimeZoneProvider>() ?? DateTimeZoneProviders.Tzdb;
        zone = zones.GetZoneOrNull(funnelOptions.TimeZoneId) ?? DateTimeZone.Utc;
        IClock clock = page.Services.GetService<IClock>() ?? SystemClock.Instance;
        LocalDate today = clock.GetCurrentInstant().InZone(zone).Date;
        string? from = page.Context.Request.Query["from"].ToString();
        string? to = page.Context.Request.Query["to"].ToString();
        string? error = OverviewRange.TryParse(from, to, today, out range);

        HtmlWriter html = page.Body;
        html.Markup("<form method=\"get\"").Attribute("action", page.Base + "/").Markup("><p>")
            .Markup("<label for=\"from\">From</label> <input type=\"date\" id=\"from\" name=\"from\"")
            .Attribute("value", error is null ? OverviewRange.Iso(range.From) : from)
            .Markup("> <label for=\"to\">To</label> <input type=\"date\" id=\"to\" name=\"to\"")
            .Attribute("value", error is null ? OverviewRange.Iso(range.To) : to)
            .Markup("> <button type=\"submit\">Show</button> ")
            .Text($"(days in {zone.Id}; at most {OverviewRange.MaxDays} days)").Markup("</p></form>");
        if (error is not null)
        {
            html.Markup("<p role=\"alert\"><strong>").Text(error).Markup("</strong></p>");
            return false;
        }

        return true;
    }

    /// <summary>Writes the range's new leads, orders and revenue per day (per week for long ranges), as charts and a table.</summary>
    /// <remarks>
    /// The figures are <see cref="KpiTimeSeries"/>'s over the whole log, kept per day by the dashboard's figures, so a
    /// visitor or lead counts once, on the day of its first event or opt-in in the log; days with nothing are zero.
    /// </remarks>
    private static void TimeSeries(HtmlWriter html, OverviewFigures figures, OverviewRange range, DateTimeZone zone, string? error, Currency currency)
    {
        bool weekly = range.Days > OverviewRange.MaxDailyDays;
        html.Markup("<h2>").Text(weekly ? "Per week" : "Per day").Markup("</h2>");
        if (error is not null)
        {
            html.Element("p", "The time series cannot be computed from the log: " + error);
            return;
        }

        List<SeriesBucket> buckets = [];
        Dictionary<LocalDate, SeriesBucket> byDay = [];
        for (LocalDate day = range.From; day <= range.To; day = day.PlusDays(1))
        {
            LocalDate start = weekly ? LocalDate.Max(range.From, day.With(DateAdjusters.PreviousOrSame(IsoDayOfWeek.Monday))) : day;
            if (buckets.Count == 0 || buckets[^1].Start != start)
            {
                buckets.Add(new SeriesBucket(start));
            }

            byDay[day] = buckets[^1];
        }

        foreach ((LocalDate day, long visitors, long leads, long orders, long revenue) in figures.Series)
        {
            if (byDay.TryGetValue(day, out SeriesBucket? bucket))
            {
                bucket.Visitors += visitors;
                bucket.Leads += leads;
                bucket.Orders += orders;
                bucket.Revenue += revenue;
            }
        }

        string per = weekly ? "week" : "day";
        html.Markup("<p class=\"muted\">").Text($"Days in {zone.Id}. New visitors and new leads count each lead once, in the {per} of "
            + "its first event and first opt-in in the log; orders and revenue are those placed in the "
            + per + (weekly ? " (weeks start on Monday; the first starts on the range's first day)." : ".")).Markup("</p>");
        string Format(long minorUnits) => Amount(Money.FromMinorUnits(minorUnits, currency));
        html.Markup("<h3>").Text($"New leads per {per}").Markup("</h3>");
        SeriesSvg.Write(html, "leads-chart", $"New leads per {per}", Count(buckets.Sum(static b => b.Leads)),
            [.. buckets.Select(b => new SeriesBar(OverviewRange.Iso(b.Start), b.Leads, Count(b.Leads)))]);
        html.Markup("<h3>").Text($"Revenue per {per}").Markup("</h3>");
        SeriesSvg.Write(html, "revenue-chart", $"Revenue per {per}", Format(buckets.Sum(static b => b.Revenue)),
            [.. buckets.Select(b => new SeriesBar(OverviewRange.Iso(b.Start), b.Revenue, Format(b.Revenue)))]);
        html.Markup("<table id=\"series\"><caption>").Text($"New leads, orders and revenue per {per}, {range}")
            .Markup("</caption><thead><tr><th scope=\"col\">").Text(weekly ? "Week from" : "Day")
            .Markup("</th><th scope=\"col\" class=\"num\">New visitors</th><th scope=\"col\" class=\"num\">New leads</th>")
            .Markup("<th scope=\"col\" class=\"num\">Orders</th><th scope=\"col\" class=\"num\">Revenue</th></tr></thead><tbody>");
        foreach (SeriesBucket bucket in buckets)
        {
            html.Markup("<tr><th scope=\"row\">").Text(OverviewRange.Iso(bucket.Start)).Markup("</th>")
                .Element("td", Count(bucket.Visitors), "num").Element("td", Count(bucket.Leads), "num")
                .Element("td", Count(bucket.Orders), "num").Element("td", Format(bucket.Revenue), "num").Markup("</tr>");
        }

        html.Markup("</tbody><tfoot><tr><th scope=\"row\">Total</th>")
            .Element("td", Count(buckets.Sum(static b => b.Visitors)), "num").Element("td", Count(buckets.Sum(static b => b.Leads)), "num")
            .Element("td", Count(buckets.Sum(static b => b.Orders)), "num").Element("td", Format(buckets.Sum(static b => b.Revenue)), "num")
            .Markup("</tr></tfoot></table>");
    }

    /// <summary>The sums of one period of the overview's series.</summary>
    private sealed class SeriesBucket(LocalDate start)
    {
        public LocalDate Start { get; } = start;

        public long Visitors { get; set; }

        public long Leads { get; set; }

        public long Orders { get; set; }

        public long Revenue { get; set; }
    }
}
