using System.Globalization;
using Funnel.Kpis;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>Prints a funnel report as the case study's table.</summary>
public static class ReportPrinter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Formats whole amounts without cents ($24,850) and others with them ($24,850.50).</summary>
    public static string Format(Money? money)
    {
        if (money is not { } m)
        {
            return "n/a";
        }

        return m.ToString(decimal.IsInteger(m.ToMajor()) ? "C0" : "C", Invariant);
    }

    public static string Count(long value) => value.ToString("#,0", Invariant);

    public static void Print(FunnelReport report, ScenarioOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        FunnelMetrics all = report.Overall;

        output.WriteLine($"{report.Funnel.Name}: funnel report");
        output.WriteLine($"Seed {options.Seed}, {Count(report.EventCount)} events from {report.From:uuuu-MM-dd} to {report.To:uuuu-MM-dd} (UTC)");
        output.WriteLine();
        List<string[]> rows = [["Funnel stage", "Metric", "Value", "Conversion (from previous stage)"]];
        foreach (StepResult step in all.Steps)
        {
            string stage = report.Funnel.Stages.First(s => s.Key == step.Step.Stage).Name;
            rows.Add([stage, step.Step.Name, Count(step.Reached), step.FromPrevious.IsDefined ? step.FromPrevious.ToString("P1", Invariant) : "n/a"]);
        }

        rows.Add(["Revenue", $"Total revenue ({Count(all.Orders)} sales @ {Format(all.AverageOrderValue)})", Format(all.Revenue), "n/a"]);
        rows.Add(["Customer Acquisition Cost (CAC)", $"Marketing spend {Format(all.AdSpend)} / purchases", Format(all.CustomerAcquisitionCost), "n/a"]);
        rows.Add(["Return on Ad Spend (ROAS)", "Revenue / marketing spend", all.ReturnOnAdSpend.ToString("X3", Invariant), "n/a"]);
        WriteTable(output, rows, rightAligned: [2]);

        output.WriteLine();
        output.WriteLine("By first-touch channel");
        List<string[]> channels = [["Channel", "Visitors", "Leads", "Sales page", "Purchases", "Revenue", "Spend", "CAC", "ROAS"]];
        foreach (FunnelMetrics c in report.ByChannel)
        {
            channels.Add([c.Segment ?? "", Count(c.Steps[0].Reached), Count(c.Steps[1].Reached), Count(c.Steps[2].Reached), Count(c.Steps[3].Reached),
                Format(c.Revenue), Format(c.AdSpend), Format(c.CustomerAcquisitionCost), c.ReturnOnAdSpend.ToString("X3", Invariant)]);
        }

        WriteTable(output, channels, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8]);

        output.WriteLine();
        output.WriteLine("More KPIs");
        EmailMetrics email = report.Email;
        List<string[]> kpis =
        [
            ["KPI", "Value"],
            ["Overall conversion (visitors to purchases)", all.OverallConversion.ToString("P2", Invariant)],
            ["Revenue per visitor", Format(all.RevenuePerVisitor)],
            ["ROI ((revenue - spend) / spend)", all.ReturnOnInvestment.ToString("P1", Invariant)],
            ["Customer lifetime value (simple model, 1 period)", Format(report.CustomerLifetimeValue)],
            ["Landing-page bounce rate", report.LandingPageBounceRate.ToString("P1", Invariant)],
            ["Cart abandonment rate", $"{report.CartAbandonmentRate.ToString("P1", Invariant)} ({Count(report.CheckoutsAbandoned)} of {Count(report.CheckoutsStarted)} checkouts)"],
            ["Refund rate", report.RefundRate.ToString("P1", Invariant)],
            ["Emails sent / delivered", $"{Count(email.Sent)} / {Count(email.Delivered)}"],
            ["Email open / click / click-to-open rate", $"{email.OpenRate.ToString("P1", Invariant)} / {email.ClickRate.ToString("P1", Invariant)} / {email.ClickToOpenRate.ToString("P1", Invariant)}"],
            ["Email bounce / unsubscribe rate", $"{email.BounceRate.ToString("P1", Invariant)} / {email.UnsubscribeRate.ToString("P1", Invariant)}"],
            ["Lifecycle (visitor / lead / SQL / customer)", string.Join(" / ",
                new[] { LifecycleStage.Visitor, LifecycleStage.Lead, LifecycleStage.SalesQualified, LifecycleStage.Customer }
                    .Select(s => Count(report.Lifecycle.GetValueOrDefault(s))))],
        ];
        WriteTable(output, kpis, rightAligned: [1]);
        output.WriteLine();
        output.WriteLine("Rates are rounded half away from zero; ROAS is printed with three decimals.");
    }

    internal static void WriteTable(TextWriter output, List<string[]> rows, int[] rightAligned)
    {
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
        for (int r = 0; r < rows.Count; r++)
        {
            var cells = rows[r].Select((cell, c) => r > 0 && rightAligned.Contains(c) ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            output.WriteLine("| " + string.Join(" | ", cells) + " |");
            if (r == 0)
            {
                output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
            }
        }
    }
}
