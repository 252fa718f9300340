using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Payments;

public sealed class PaymentsSampleTests
{
    [Fact]
    public async Task RunAsync_MasterclassWalkThrough_CollectsPlanAndUpsellAndRecoversFromTheDecline()
    {
        PaymentsDemoResult result = await PaymentsDemo.RunAsync();

        result.Plan.Paid.ShouldBe(Money.FromMajor(540m, Currency.USD));
        result.Plan.Installments.ShouldAllBe(i => i.Status == InstallmentStatus.Paid);
        result.Upsell.Paid.ShouldBe(Money.FromMajor(797m, Currency.USD));
        result.CardEntries.ShouldBe(1);
        result.PausedAfterFailure.ShouldBeTrue();
        result.Plan.AccessPaused.ShouldBeFalse();
        result.Processed.ShouldBe(result.Webhooks);
        FunnelReport report = new FunnelReporter(new FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(MasterclassScenario.Funnel, result.Events);
        report.Section<PaymentMetrics>()!.Collected.ShouldBe(Money.FromMajor(540m + 797m, Currency.USD));
        report.Section<PaymentMetrics>()!.FailedInstallmentRate.ShouldBe(Ratio.Of(1, 3));
    }

    [Fact]
    public void Run_DefaultOptions_PrintsThePaymentsWalkThrough()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        output.ToString().ShouldContain("installments paid: 3 of 3, collected USD 540.00");
        output.ToString().ShouldContain("access paused, restored after the retry");
    }
}
