using System.Globalization;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>One bar of a <see cref="SeriesSvg"/> chart: its period label, its value and the value as the page shows it.</summary>
/// <param name="Label">The period, such as "2026-12-01".</param>
/// <param name="Value">The value the bar's height is proportional to; a negative value draws no bar.</param>
/// <param name="Text">The value as text, such as "$1,321.00".</param>
internal readonly record struct SeriesBar(string Label, long Value, string Text);

/// <summary>Draws a time series as inline SVG: one bar per period, its height proportional to the period's value.</summary>
/// <remarks>
/// The chart is an image whose <c>title</c> and <c>aria-label</c> summarise it (total, highest period); each bar has
/// its own <c>title</c>, and the exact numbers are in the table beside the chart.
/// </remarks>
internal static class SeriesSvg
{
    private const int Width = 640;
    private const int Height = 160;
    private const int Axis = 20;

    /// <summary>Writes the chart.</summary>
    /// <param name="html">The page.</param>
    /// <param name="id">The element id, unique on the page.</param>
    /// <param name="title">What the bars show, such as "Revenue per day".</param>
    /// <param name="total">The series' total as text.</param>
    /// <param name="bars">The bars, oldest first.</param>
    public static void Write(HtmlWriter html, string id, string title, string total, IReadOnlyList<SeriesBar> bars)
    {
        string alternative = Alternative(title, total, bars);
        long top = bars.Count == 0 ? 0 : Math.Max(0, bars.Max(static b => b.Value));
        double slot = (double)Width / Math.Max(1, bars.Count);
        double barWidth = Math.Max(1, slot * 0.8);
        html.Markup("<svg role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\"").Attribute("id", id)
            .Attribute("viewBox", string.Create(CultureInfo.InvariantCulture, $"0 0 {Width} {Height + Axis}"))
            .Attribute("aria-label", alternative).Markup("><title>").Text(alternative).Markup("</title>");
        html.Markup("<line x1=\"0\" x2=\"640\" stroke=\"#52606d\"")
            .Attribute("y1", Number(Height)).Attribute("y2", Number(Height)).Markup("></line>");
        for (int i = 0; i < bars.Count; i++)
        {
            SeriesBar bar = bars[i];
            double h = top == 0 || bar.Value <= 0 ? 0 : Math.Max(1, (double)bar.Value / top * (Height - 4));
            html.Markup("<rect fill=\"#2f5f98\"").Attribute("x", Number((i * slot) + ((slot - barWidth) / 2)))
                .Attribute("y", Number(Height - h)).Attribute("width", Number(barWidth)).Attribute("height", Number(h))
                .Markup("><title>").Text($"{bar.Label}: {bar.Text}").Markup("</title></rect>");
        }

        if (bars.Count > 0)
        {
            html.Markup("<text x=\"0\" font-size=\"13\" fill=\"#1f2933\"").Attribute("y", Number(Height + Axis - 4))
                .Markup(">").Text(bars[0].Label).Markup("</text>");
            if (bars.Count > 1)
            {
                html.Markup("<text text-anchor=\"end\" font-size=\"13\" fill=\"#1f2933\"").Attribute("x", Number(Width))
                    .Attribute("y", Number(Height + Axis - 4)).Markup(">").Text(bars[^1].Label).Markup("</text>");
            }
        }

        html.Markup("</svg>");
    }

    /// <summary>Returns the chart's text alternative: what it shows, its span, total and highest period.</summary>
    internal static string Alternative(string title, string total, IReadOnlyList<SeriesBar> bars)
    {
        if (bars.Count == 0)
        {
            return $"{title}: no periods.";
        }

        SeriesBar highest = bars[0];
        foreach (SeriesBar bar in bars)
        {
            if (bar.Value > highest.Value)
            {
                highest = bar;
            }
        }

        string peak = highest.Value > 0 ? $"highest {highest.Text} on {highest.Label}" : "none in any period";
        return $"{title}, {bars[0].Label} to {bars[^1].Label}: total {total}, {peak}. The numbers are in the table below.";
    }

    private static string Number(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
