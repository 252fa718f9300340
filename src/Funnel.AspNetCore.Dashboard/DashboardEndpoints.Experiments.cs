using System.Collections.Immutable;
using System.Globalization;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard;

/// <content>The Experiments page: each experiment's variants, exposures and conversions, with the library's statistics.</content>
internal static partial class DashboardEndpoints
{
    /// <summary>The statistics the page shows: 95 % confidence, Holm–Bonferroni across a test's challengers (as <c>AddFunnelAnalytics</c>' winner selector).</summary>
    private static readonly ExperimentStatisticsSettings ExperimentSettings =
        ExperimentStatisticsSettings.Default with { Correction = MultipleTestingCorrection.HolmBonferroni };

    /// <summary>How far before exposure <see cref="ExperimentCovariates.Conversions(AnalyticsEventStore, string, string, Duration)"/> looks; the page uses only the metric.</summary>
    private static readonly Duration ExperimentPrePeriod = Duration.FromDays(30);

    private static void MapExperiments(RouteGroupBuilder group, Func<HttpContext, DashboardPage> page) =>
        group.MapGet("/experiments", (HttpContext context, CancellationToken ct) => ExperimentsAsync(page(context), ct));

    private static async Task<IResult> ExperimentsAsync(DashboardPage page, CancellationToken cancellationToken)
    {
        HtmlWriter html = page.Body;
        if (page.Services.GetService<ExperimentAssigner>() is null || page.Services.GetService<IFunnelEventLog>() is not { } log)
        {
            html.Element("p", "Experiments are not set up: call services.AddFunnelAnalytics().");
            return page.Render("Experiments");
        }

        List<FunnelEvent> events = await ReadReportEventsAsync(page, log, cancellationToken).ConfigureAwait(false);
        Dictionary<string, Experiment> registered = page.Services.GetServices<Experiment>()
            .DistinctBy(static e => e.Key).ToDictionary(static e => e.Key, StringComparer.Ordinal);
        string[] keys = [.. events.OfType<ExperimentExposed>().Select(static e => e.Experiment).Concat(registered.Keys)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        string goal = page.Options.ExperimentGoal;
        html.Markup("<p>").Text($"A lead counts from its first exposure and converts with an event of type {goal} at or after it "
            + "(FunnelDashboardOptions.ExperimentGoal). Intervals are 95 %; the verdict's p-value is adjusted for several "
            + "challengers (Holm–Bonferroni); the sequential p-value stays valid however often you look.").Markup("</p>");
        if (keys.Length == 0)
        {
            html.Element("p", "No experiment has exposures yet: record ExperimentAssigner.Expose's event, "
                + "and register each Experiment (services.AddSingleton(experiment)) to check its sample ratio.");
            return page.Render("Experiments");
        }

        AnalyticsEventStore store;
        try
        {
            store = AnalyticsEventStore.Load(events);
        }
        catch (InvalidOperationException e)
        {
            html.Element("p", "The experiments cannot be analysed: " + e.Message);
            return page.Render("Experiments");
        }

        foreach (string key in keys)
        {
            Experiment(html, key, registered.GetValueOrDefault(key), ExperimentCovariates.Conversions(store, key, goal, ExperimentPrePeriod));
        }

        return page.Render("Experiments");
    }

    private static void Experiment(HtmlWriter html, string key, Experiment? definition, ImmutableDictionary<string, CovariateSample> exposed)
    {
        // The definition's variants in its order (the first is the control), then any variant only the log knows.
        string[] variants = [.. (definition?.Variants.Select(static v => v.Key) ?? [])
            .Concat(exposed.Keys.Order(StringComparer.Ordinal)).Distinct(StringComparer.Ordinal)];
        html.Markup("<h2>").Text(key).Markup("</h2>");
        if (variants.Length == 0)
        {
            html.Element("p", "The registered Experiment lists no variants and the log has no exposures to it.");
            return;
        }

        string control = definition?.Variants.FirstOrDefault()?.Key ?? (exposed.ContainsKey("control") ? "control" : variants[0]);
        Dictionary<string, ConversionSample> samples = variants.ToDictionary(
            v => v,
            v => exposed.TryGetValue(v, out CovariateSample? s) ? new ConversionSample((long)s.Sum, s.Count) : new ConversionSample(0, 0),
            StringComparer.Ordinal);
        VariantTestResult? test = samples.Count >= 2 ? VariantTest.Evaluate(samples, control, 0, ExperimentSettings) : null;
        Dictionary<string, VariantComparison> comparisons = test?.Comparisons.ToDictionary(static c => c.Variant, StringComparer.Ordinal) ?? [];

        ExperimentChart(html, key, variants, samples);
        html.Markup("<table><caption>").Text($"{key}: variants against {control}")
            .Markup("</caption><thead><tr><th scope=\"col\">Variant</th><th scope=\"col\" class=\"num\">Exposed</th>")
            .Markup("<th scope=\"col\" class=\"num\">Converted</th><th scope=\"col\" class=\"num\">Conversion</th>")
            .Markup("<th scope=\"col\">95 % interval</th><th scope=\"col\" class=\"num\">Relative lift</th>")
            .Markup("<th scope=\"col\">Lift interval</th><th scope=\"col\" class=\"num\">Chance to beat control</th>")
            .Markup("<th scope=\"col\" class=\"num\">Sequential p-value</th><th scope=\"col\">Sequential verdict</th>")
            .Markup("<th scope=\"col\" class=\"num\">Adjusted p-value</th>")
            .Markup("<th scope=\"col\">Verdict</th></tr></thead><tbody>");
        foreach (string variant in variants)
        {
            ConversionSample sample = samples[variant];
            html.Markup("<tr><th scope=\"row\">").Text(variant == control ? variant + " (control)" : variant).Markup("</th>")
                .Element("td", Count(sample.Visitors), "num").Element("td", Count(sample.Conversions), "num")
                .Element("td", sample.Visitors == 0 ? "–" : Rate(sample.Rate), "num")
                .Element("td", sample.Visitors == 0 ? "–" : Interval(ExperimentStatistics.WilsonInterval(sample.Conversions, sample.Visitors, ExperimentSettings.ConfidenceLevel)));
            if (comparisons.TryGetValue(variant, out VariantComparison? c))
            {
                ConversionTestResult r = c.Result;
                html.Element("td", SignedRate(r.RelativeLift), "num").Element("td", Interval(r.RelativeLiftInterval))
                    .Element("td", Rate(r.ChanceToBeatControl), "num").Element("td", PValue(r.SequentialPValue), "num")
                    .Element("td", r.IsSequentiallySignificant ? "Significant: safe to stop" : "Keep running")
                    .Element("td", PValue(c.Verdict.AdjustedPValue), "num").Element("td", Verdict(c.Verdict.Outcome));
            }
            else
            {
                html.Markup("<td colspan=\"7\">").Text(variant == control ? "Control" : "Not enough data yet: every variant needs exposures and the control a conversion.").Markup("</td>");
            }

            html.Markup("</tr>");
        }

        html.Markup("</tbody></table>");
        string winner = test?.Winner is { } w ? $"Winner: {w}." : "No significant winner yet.";
        html.Element("p", winner);
        SampleRatio(html, definition, variants, samples);
    }

    /// <summary>The chi-square check of exposures against the registered weights.</summary>
    private static void SampleRatio(HtmlWriter html, Experiment? definition, string[] variants, Dictionary<string, ConversionSample> samples)
    {
        if (definition is null)
        {
            html.Element("p", "Sample ratio: not checked; register the Experiment (services.AddSingleton(experiment)) to check exposures against its weights.");
            return;
        }

        long[] observed = [.. definition.Variants.Select(v => samples[v.Key].Visitors)];
        if (observed.Length < 2 || observed.Sum() == 0 || variants.Length != definition.Variants.Length)
        {
            html.Element("p", variants.Length != definition.Variants.Length
                ? "Sample ratio: not checked; the log has exposures to variants the registered Experiment does not list."
                : "Sample ratio: not checked; no exposures yet.");
            return;
        }

        SampleRatioCheck check = ExperimentStatistics.SampleRatioMismatch(observed, [.. definition.Variants.Select(static v => (double)v.Weight)]);
        html.Element("p", string.Create(CultureInfo.InvariantCulture,
            $"Sample ratio: {(check.IsMismatch ? "MISMATCH, the split does not match the weights; check the assignment before trusting the results" : "matches the weights")} "
            + $"(chi-square {check.ChiSquare:0.###}, {check.DegreesOfFreedom} degrees of freedom, p-value {PValue(check.PValue)})."));
    }

    /// <summary>Each variant's conversion rate as a bar; the same numbers are in the table after it.</summary>
    private static void ExperimentChart(HtmlWriter html, string key, string[] variants, Dictionary<string, ConversionSample> samples)
    {
        const int width = 640;
        const int label = 160;
        const int bar = 28;
        double top = variants.Select(v => samples[v].Visitors == 0 ? 0 : samples[v].Rate).DefaultIfEmpty(0).Max();
        string alternative = $"Conversion by variant of {key}: "
            + string.Join(", ", variants.Select(v => $"{v} {(samples[v].Visitors == 0 ? "no exposures" : Rate(samples[v].Rate))}"));
        html.Markup("<svg role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\"")
            .Attribute("viewBox", string.Create(CultureInfo.InvariantCulture, $"0 0 {width} {variants.Length * (bar + 8)}"))
            .Attribute("aria-label", alternative).Markup("><title>").Text(alternative).Markup("</title>");
        for (int i = 0; i < variants.Length; i++)
        {
            ConversionSample s = samples[variants[i]];
            double rate = s.Visitors == 0 ? 0 : s.Rate;
            double w = top <= 0 ? 2 : Math.Max(2, rate / top * (width - label - 80));
            int y = i * (bar + 8);
            html.Markup("<text font-size=\"14\" x=\"0\"").Attribute("y", (y + 19).ToString(CultureInfo.InvariantCulture)).Markup(" fill=\"#1f2933\">")
                .Text(variants[i]).Markup("</text><rect rx=\"3\"").Attribute("x", label.ToString(CultureInfo.InvariantCulture))
                .Attribute("y", y.ToString(CultureInfo.InvariantCulture)).Attribute("width", w.ToString("0.#", CultureInfo.InvariantCulture))
                .Attribute("height", bar.ToString(CultureInfo.InvariantCulture)).Markup(" fill=\"#2f5f98\"></rect><text font-size=\"14\"")
                .Attribute("x", (label + w + 6).ToString("0.#", CultureInfo.InvariantCulture)).Attribute("y", (y + 19).ToString(CultureInfo.InvariantCulture))
                .Markup(" fill=\"#1f2933\">").Text(s.Visitors == 0 ? "–" : Rate(rate)).Markup("</text>");
        }

        html.Markup("</svg>");
    }

    private static string Rate(double value) => value.ToString("P1", CultureInfo.InvariantCulture);

    private static string SignedRate(double value) => (value > 0 ? "+" : "") + Rate(value);

    private static string Interval(ConfidenceInterval interval) =>
        double.IsFinite(interval.Lower) && double.IsFinite(interval.Upper) ? $"{Rate(interval.Lower)} to {Rate(interval.Upper)}" : "–";

    private static string PValue(double p) => p < 0.0001 ? "< 0.0001" : p.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Verdict(VerdictOutcome outcome) => outcome switch
    {
        VerdictOutcome.Better => "Better",
        VerdictOutcome.Worse => "Worse",
        _ => "Inconclusive",
    };
}
