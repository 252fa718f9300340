using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Tests.Offers;
using NodaTime;

namespace Funnel.Tests.Payments;

public sealed class PaymentProperties
{
    /// <summary>Any interleaving and duplication of a plan's notifications (three installments and a refund) ends in the same order state and revenue.</summary>
    [Property(MaxTest = 60)]
    public bool ProcessAsync_AnyOrderAndDuplicationOfPlanWebhooks_EndsInSameState(int seed, PositiveInt copies)
    {
        return Run().GetAwaiter().GetResult();

        async Task<bool> Run()
        {
            var kit = new PaymentTestKit();
            Order order = await kit.PlaceAsync(1, "3-monthly");
            PaymentResult plan = await kit.Gateway.StartPlanAsync(new InstallmentPlanRequest
            {
                Order = order.Id,
                Lead = order.Lead,
                Installments = order.Schedule,
                Interval = Period.FromMonths(1),
                PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
                IdempotencyKey = IdempotencyKeys.ForPlan(order.Id),
            });
            kit.Kit.Clock.Advance(Duration.FromDays(70));
            ImmutableArray<PaymentResult> later = kit.Gateway.CollectDueInstallments();
            await kit.Gateway.RefundAsync(new RefundRequest { Order = order.Id, PaymentId = later[0].PaymentId!, Amount = OfferTestKit.Usd(50m), IdempotencyKey = "r1" });

            var deliveries = new List<WebhookRequest>();
            int times = 1 + (copies.Get % 3);
            for (int i = 0; i < times; i++)
            {
                deliveries.AddRange(kit.Gateway.Webhooks);
            }

            new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(deliveries));
            await kit.DeliverAsync(deliveries);

            Order after = await kit.OrderAsync(order.Id);
            var report = new Funnel.Kpis.FunnelReporter(new Funnel.Kpis.FunnelReportSettings { Sections = [PaymentMetrics.ReportSection] }).CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, kit.Events);
            return plan.Outcome == PaymentOutcome.Succeeded
                && after.Installments.All(i => i.Status == InstallmentStatus.Paid)
                && after.Paid == OfferTestKit.Usd(540m)
                && after.Refunded == OfferTestKit.Usd(50m)
                && after.Status == OrderStatus.PartiallyRefunded
                && kit.Grantor.Granted.Count == after.Entitlements.Length
                && report.Section<PaymentMetrics>()!.Collected == OfferTestKit.Usd(540m)
                && report.Section<PaymentMetrics>()!.Refunded == OfferTestKit.Usd(50m)
                && report.Section<PaymentMetrics>()!.InstallmentsPaid == 3;
        }
    }
}

public sealed class IdempotencyKeyProperties
{
    [Property]
    public bool ForInstallment_DistinctInstallmentsOrAttempts_GiveDistinctStableKeys(PositiveInt n1, PositiveInt a1, PositiveInt n2, PositiveInt a2)
    {
        var order = new OrderId(Guid.Parse("0192a3b4-c5d6-7e8f-9012-3456789abcde"));
        string k1 = IdempotencyKeys.ForInstallment(order, n1.Get, a1.Get);
        string k2 = IdempotencyKeys.ForInstallment(order, n2.Get, a2.Get);
        return k1 == IdempotencyKeys.ForInstallment(order, n1.Get, a1.Get)
            && (k1 == k2) == (n1.Get == n2.Get && a1.Get == a2.Get)
            && k1.Length <= 255;
    }
}
