using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Funnel.Kpis;

namespace Funnel.Samples.WebShop;

/// <summary>Draws the funnel as an inline SVG: one centred bar per step, its width proportional to the leads who reached it.</summary>
internal static class FunnelChart
{
    private const int Width = 640;
    private const int BarHeight = 44;
    private const int Gap = 10;

    public static string Svg(ImmutableArray<StepResult> steps)
    {
        long top = steps.IsDefaultOrEmpty ? 0 : steps.Max(s => s.Reached);
        int height = Math.Max(1, steps.Length) * (BarHeight + Gap);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg id="funnel-chart" role="img" aria-label="Funnel chart" viewBox="0 0 {Width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">""");
        string[] colours = ["#1f3a60", "#2f5f98", "#2a6bd1", "#56a0f5", "#8cc1fa", "#b6d8fc"];
        for (int i = 0; i < steps.Length; i++)
        {
            StepResult step = steps[i];
            double share = top == 0 ? 0 : (double)step.Reached / top;
            double w = Math.Max(4, share * Width);
            double x = (Width - w) / 2;
            int y = i * (BarHeight + Gap);
            string fill = colours[i % colours.Length];
            string textColour = i >= 3 ? "#1f2933" : "#ffffff";
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x:0.#}" y="{y}" width="{w:0.#}" height="{BarHeight}" rx="6" fill="{fill}"><title>{Html.Encode(step.Step.Name)}: {step.Reached}</title></rect>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="{y + (BarHeight / 2) + 5}" text-anchor="middle" font-size="15" fill="{(share < 0.45 ? "#1f2933" : textColour)}">{Html.Encode(step.Step.Name)}: {step.Reached}</text>""");
        }

        return svg.Append("</svg>").ToString();
    }
}
