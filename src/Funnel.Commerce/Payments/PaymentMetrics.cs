using Funnel.Events;
using Funnel.Kpis;

namespace Funnel.Payments;

/// <summary>Payment KPIs of a funnel report: money collected, refund rate, failed-installment rate, disputes and dispute rate.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PaymentMetrics
{
    /// <summary>Gets the money collected: the sum of <see cref="PaymentSucceeded"/> amounts (every installment counts).</summary>
    public required Money Collected { get; init; }

    /// <summary>Gets the money refunded: the sum of <see cref="RefundIssued"/> amounts.</summary>
    public required Money Refunded { get; init; }

    /// <summary>Gets the number of successful payments, installments included.</summary>
    public required long Payments { get; init; }

    /// <summary>Gets the number of distinct installments collected.</summary>
    public required long InstallmentsPaid { get; init; }

    /// <summary>Gets the number of distinct installments that failed at least once (whether or not a retry later collected them).</summary>
    public required long InstallmentsFailed { get; init; }

    /// <summary>Gets the number of installments due: the distinct installments paid or failed.</summary>
    public required long InstallmentsDue { get; init; }

    /// <summary>Gets the number of payments disputed: one per <see cref="PaymentDisputed"/>.</summary>
    public required long Disputes { get; init; }

    /// <summary>Gets the money disputed: the sum of <see cref="PaymentDisputed"/> amounts, exact, in the report's currency.</summary>
    /// <remarks>Counted when the dispute opens, whatever its outcome; <see cref="DisputesWon"/> tells how many came back.</remarks>
    public required Money Disputed { get; init; }

    /// <summary>Gets the number of disputes closed in the seller's favour (<see cref="DisputeClosed.Won"/>).</summary>
    public required long DisputesWon { get; init; }

    /// <summary>Gets the number of disputes closed in the buyer's favour.</summary>
    public required long DisputesLost { get; init; }

    /// <summary>Gets the dispute rate: <see cref="Disputes"/> ÷ <see cref="Payments"/> (successful payments, installments included).</summary>
    /// <remarks>The count-based rate card networks watch; compare <see cref="Disputed"/> with <see cref="Collected"/> for the rate by money.</remarks>
    public Ratio DisputeRate => Ratio.Of(Disputes, Payments);

    /// <summary>Gets the refund rate by money: <see cref="Refunded"/> ÷ <see cref="Collected"/>.</summary>
    public Ratio RefundRate => Ratio.Of(Refunded, Collected);

    /// <summary>Gets the failed-installment rate: <see cref="InstallmentsFailed"/> ÷ <see cref="InstallmentsDue"/>.</summary>
    public Ratio FailedInstallmentRate => Ratio.Of(InstallmentsFailed, InstallmentsDue);

    /// <summary>Gets the report section that computes these metrics, under the key <c>payments</c>.</summary>
    /// <remarks>
    /// <c>AddFunnelCommerce</c> registers it for the reporter that <c>AddFunnel</c> registers; list it in
    /// <see cref="FunnelReportSettings.Sections"/> for a reporter built by hand. Read the result with
    /// <c>report.Section&lt;PaymentMetrics&gt;()</c>.
    /// </remarks>
    public static IFunnelReportSection ReportSection { get; } = new PaymentReportSection();
}

/// <summary>Accumulates <see cref="PaymentMetrics"/> from the events a reporter reads.</summary>
internal sealed class PaymentMetricsBuilder(FunnelReportSettings settings) : IFunnelReportSectionBuilder
{
    private readonly Currency currency = settings.Currency;
    private readonly HashSet<(OrderId, int)> paid = [];
    private readonly HashSet<(OrderId, int)> failed = [];
    private long collected;
    private long refunded;
    private long payments;
    private long disputes;
    private long disputed;
    private long disputesWon;
    private long disputesLost;

    public void Add(FunnelEvent e)
    {
        switch (e)
        {
            case PaymentSucceeded p:
                collected = checked(collected + InCurrency(p.Amount, e));
                payments++;
                break;
            case RefundIssued r:
                refunded = checked(refunded + InCurrency(r.Amount, e));
                break;
            case InstallmentPaid i:
                paid.Add((i.Order, i.Installment));
                break;
            case InstallmentFailed f:
                failed.Add((f.Order, f.Installment));
                break;
            case PaymentDisputed d:
                disputed = checked(disputed + InCurrency(d.Amount, e));
                disputes++;
                break;
            case DisputeClosed { Won: true }:
                disputesWon++;
                break;
            case DisputeClosed:
                disputesLost++;
                break;
        }
    }

    object IFunnelReportSectionBuilder.Build() => Build();

    public PaymentMetrics Build() => new()
    {
        Collected = new Money(collected, currency),
        Refunded = new Money(refunded, currency),
        Payments = payments,
        InstallmentsPaid = paid.Count,
        InstallmentsFailed = failed.Count,
        InstallmentsDue = paid.Union(failed).Count(),
        Disputes = disputes,
        Disputed = new Money(disputed, currency),
        DisputesWon = disputesWon,
        DisputesLost = disputesLost,
    };

    private long InCurrency(Money amount, FunnelEvent source) => settings.ToReportCurrency(amount, source).MinorUnits;
}

/// <summary>The <c>payments</c> section of the funnel report.</summary>
internal sealed class PaymentReportSection : IFunnelReportSection
{
    public string Key => "payments";

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new PaymentMetricsBuilder(settings);
}
