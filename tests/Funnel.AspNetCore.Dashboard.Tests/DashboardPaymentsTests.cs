using System.Globalization;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardPaymentsTests
{
    private static readonly Currency Usd = Currency.USD;

    [Fact]
    public async Task Payments_OrdersInstallmentsAndDisputes_ShowTheLibrarysFigures()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        (Order plan, Order disputed) = await SeedAsync(host);
        var log = (InMemoryFunnelEventLog)host.Services.GetRequiredService<IFunnelEventLog>();
        IFunnelReportSectionBuilder builder = PaymentMetrics.ReportSection.CreateBuilder(new FunnelReportSettings { Currency = Usd });
        foreach (FunnelEvent e in log.Snapshot())
        {
            builder.Add(e);
        }

        var expected = (PaymentMetrics)builder.Build();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/payments");

        (expected.Collected, expected.Refunded, expected.Disputes, expected.InstallmentsFailed)
            .ShouldBe((new Money(19_900 + 10_000, Usd), new Money(2_500, Usd), 1L, 1L));
        page.ShouldContain(Kpi("Collected", Amount(expected.Collected)));
        page.ShouldContain(Kpi("Refunded", Amount(expected.Refunded)));
        page.ShouldContain(Kpi("Refund rate", expected.RefundRate.ToString("P1", CultureInfo.InvariantCulture)));
        page.ShouldContain(Kpi("Installments failed", "1"));
        page.ShouldContain(Kpi("Failed-installment rate", expected.FailedInstallmentRate.ToString("P1", CultureInfo.InvariantCulture)));
        page.ShouldContain(Kpi("Disputes", "1"));
        page.ShouldContain(Kpi("Disputed", Amount(expected.Disputed)));
        page.ShouldContain(Kpi("Dispute rate", expected.DisputeRate.ToString("P1", CultureInfo.InvariantCulture)));

        // Orders, newest first, as the store holds them.
        page.IndexOf(disputed.Id.ToString(), StringComparison.Ordinal).ShouldBeLessThan(page.IndexOf(plan.Id.ToString(), StringComparison.Ordinal));
        PageTables.Row(page, plan.Id.ToString())[3..9].ShouldBe(["Paid", "$300.00", "$100.00", "$0.00", "1 of 3", "0"]);

        // Dunning: the failed installment with the next retry of the dunning policy.
        Installment failed = plan.Installments[1];
        Instant next = DunningPolicy.Default.NextRetryAt(failed).ShouldNotBeNull();
        string[] dunning = PageTables.Rows(page, plan.Id.ToString())[1][1..];
        dunning.ShouldBe(["2", Time(failed.DueAt), "$100.00", "1", Time(failed.LastFailedAt!.Value), "card_declined", Time(next)]);

        // Disputes, and the webhook queue linking to the Webhooks page.
        PageTables.Row(page, "dp_1")[1..6].ShouldBe([disputed.Id.ToString(), "pi_2", "$199.00", "fraudulent", "Open"]);
        PageTables.Row(page, "Failed")[1].ShouldBe("1");
        page.ShouldContain("href=\"/funnel-admin/webhooks\"");
    }

    [Fact]
    public async Task Payments_CommerceNotRegistered_SaysHowToSetItUp()
    {
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true,
            services => services.RemoveAll<IOrderStore>());
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/payments");

        page.ShouldContain("Payments are not set up: call services.AddFunnelCommerce().");
    }

    /// <summary>A three-installment plan with its second installment failed, and a one-off order with an open dispute.</summary>
    private static async Task<(Order Plan, Order Disputed)> SeedAsync(DashboardHost host)
    {
        Instant start = DashboardHost.Start;
        var lead = new LeadId(new Guid(5, 0, 0, new byte[8]));
        var offer = new OfferId("masterclass");
        Order plan = Order(new OrderId(new Guid(11, 0, 0, new byte[8])), lead, offer, 30_000, start) with
        {
            Status = OrderStatus.Paid,
            Paid = new Money(10_000, Usd),
            Installments =
            [
                new Installment { Number = 1, DueAt = start, Amount = new Money(10_000, Usd), Status = InstallmentStatus.Paid, PaymentId = "pi_1" },
                new Installment
                {
                    Number = 2, DueAt = start + Duration.FromDays(30), Amount = new Money(10_000, Usd), Status = InstallmentStatus.Failed,
                    FailedAttempts = 1, LastFailedAt = start + Duration.FromDays(30), DeclineCode = "card_declined",
                },
                new Installment { Number = 3, DueAt = start + Duration.FromDays(60), Amount = new Money(10_000, Usd) },
            ],
        };
        Order disputed = Order(new OrderId(new Guid(12, 0, 0, new byte[8])), lead, offer, 19_900, start + Duration.FromHours(1)) with
        {
            Status = OrderStatus.PartiallyRefunded,
            Paid = new Money(19_900, Usd),
            Refunded = new Money(2_500, Usd),
            Disputes = [new OrderDispute { Id = "dp_1", PaymentId = "pi_2", Amount = new Money(19_900, Usd), Reason = "fraudulent", OpenedAt = start + Duration.FromDays(2) }],
        };
        IOrderStore orders = host.Services.GetRequiredService<IOrderStore>();
        (await orders.TryAddAsync(plan)).ShouldBeTrue();
        (await orders.TryAddAsync(disputed)).ShouldBeTrue();
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            new OrderPlaced { LeadId = lead, OccurredAt = start, Order = plan.Id, Offer = offer, Total = plan.Total },
            new PaymentSucceeded { LeadId = lead, OccurredAt = start, Order = plan.Id, Amount = new Money(10_000, Usd) },
            new InstallmentPaid { LeadId = lead, OccurredAt = start, Order = plan.Id, Installment = 1, Amount = new Money(10_000, Usd), PaymentId = "pi_1" },
            new OrderPlaced { LeadId = lead, OccurredAt = start + Duration.FromHours(1), Order = disputed.Id, Offer = offer, Total = disputed.Total },
            new PaymentSucceeded { LeadId = lead, OccurredAt = start + Duration.FromHours(1), Order = disputed.Id, Amount = new Money(19_900, Usd) },
            new RefundIssued { LeadId = lead, OccurredAt = start + Duration.FromDays(1), Order = disputed.Id, Amount = new Money(2_500, Usd) },
            new PaymentDisputed
            {
                LeadId = lead, OccurredAt = start + Duration.FromDays(2), Order = disputed.Id, Amount = new Money(19_900, Usd), PaymentId = "pi_2", Reason = "fraudulent",
            },
            new InstallmentFailed
            {
                LeadId = lead, OccurredAt = start + Duration.FromDays(30), Order = plan.Id, Installment = 2, Amount = new Money(10_000, Usd), Reason = "card_declined", Attempt = 1,
            },
        ]);
        await Seeds.FailedWebhookAsync(host);
        return (plan, disputed);
    }

    private static Order Order(OrderId id, LeadId lead, OfferId offer, long total, Instant placedAt) => new()
    {
        Id = id,
        Lead = lead,
        PlacedAt = placedAt,
        Lines = [new OrderLine { Offer = offer, Role = OfferRole.Main, Quantity = 1, Total = new Money(total, Usd), Products = ["course"] }],
        Total = new Money(total, Usd),
        Schedule = [],
        Paid = Money.Zero(Usd),
        Refunded = Money.Zero(Usd),
    };

    private static string Kpi(string name, string value) => $"<div class=\"kpi\">{name}<b>{value}</b></div>";

    private static string Amount(Money money) => money.ToString("C", CultureInfo.InvariantCulture);

    private static string Time(Instant instant) => NodaTime.Text.InstantPattern.General.Format(instant);
}
