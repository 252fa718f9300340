using Funnel.Events;
using Funnel.Kpis;

namespace Funnel.Payments;

/// <summary>Payment KPIs of a funnel report: money collected, refund rate, failed-installment rate and disputes.</summary>
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

    /// <summary>Gets the number of payments disputed.</summary>
    public required long Disputes { get; init; }

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
internal sealed class PaymentMetricsBuilder(Currency currency) : IFunnelReportSectionBuilder
{
    private readonly HashSet<(OrderId, int)> paid = [];
    private readonly HashSet<(OrderId, int)> failed = [];
    private long collected;
    private long refunded;
    private long payments;
    private long disputes;

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
            case PaymentDisputed:
                disputes++;
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
    };

    private long InCurrency(Money amount, FunnelEvent source) =>
        amount.Currency == currency
            ? amount.MinorUnits
            : throw new InvalidOperationException(
                $"Event {source.Id} ({source.EventType}) has an amount in {amount.Currency.Code}, but the report is in {currency.Code}: currencies must match.");
}

/// <summary>The <c>payments</c> section of the funnel report.</summary>
internal sealed class PaymentReportSection : IFunnelReportSection
{
    public string Key => "payments";

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new PaymentMetricsBuilder(settings.Currency);
}
