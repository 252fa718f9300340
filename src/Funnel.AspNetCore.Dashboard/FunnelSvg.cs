using System.Collections.Immutable;
using System.Globalization;
using Funnel.Kpis;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>Draws the funnel as inline SVG: one centred bar per step, its width proportional to the leads who reached it.</summary>
/// <remarks>The chart is an image with a text alternative; the same numbers are in the table beside it.</remarks>
internal static class FunnelSvg
{
    private const int Width = 640;
    private const int BarHeight = 40;
    private const int Gap = 8;
    private static readonly string[] Colours = ["#1f3a60", "#2f5f98", "#2a6bd1", "#56a0f5", "#8cc1fa", "#b6d8fc"];

    public static void Write(HtmlWriter html, ImmutableArray<StepResult> steps)
    {
        long top = steps.IsDefaultOrEmpty ? 0 : steps.Max(s => s.Reached);
        int height = Math.Max(1, steps.Length) * (BarHeight + Gap);
        string alternative = "Funnel chart: " + string.Join(", ", steps.Select(s => $"{s.Step.Name} {s.Reached.ToString(CultureInfo.InvariantCulture)}"));
        html.Markup("<svg id=\"funnel-chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\"")
            .Attribute("viewBox", string.Create(CultureInfo.InvariantCulture, $"0 0 {Width} {height}"))
            .Attribute("aria-label", alternative).Markup("><title>").Text(alternative).Markup("</title>");
        for (int i = 0; i < steps.Length; i++)
        {
            StepResult step = steps[i];
            double share = top == 0 ? 0 : (double)step.Reached / top;
            double w = Math.Max(4, share * Width);
            int y = i * (BarHeight + Gap);
            html.Markup("<rect rx=\"4\"")
                .Attribute("x", ((Width - w) / 2).ToString("0.#", CultureInfo.InvariantCulture))
                .Attribute("y", y.ToString(CultureInfo.InvariantCulture))
                .Attribute("width", w.ToString("0.#", CultureInfo.InvariantCulture))
                .Attribute("height", BarHeight.ToString(CultureInfo.InvariantCulture))
                .Attribute("fill", Colours[i % Colours.Length]).Markup("></rect>");
            // White text only on the three darkest bars (4.5:1 or more); dark text on the others.
            html.Markup("<text text-anchor=\"middle\" font-size=\"15\"")
                .Attribute("x", (Width / 2).ToString(CultureInfo.InvariantCulture))
                .Attribute("y", (y + (BarHeight / 2) + 5).ToString(CultureInfo.InvariantCulture))
                .Attribute("fill", share >= 0.45 && i < 3 ? "#ffffff" : "#1f2933").Markup(">")
                .Text($"{step.Step.Name}: {step.Reached.ToString(CultureInfo.InvariantCulture)}").Markup("</text>");
        }

        html.Markup("</svg>");
    }
}
