using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Funnel.Advocacy;
using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardAffiliatesTests
{
    private static readonly Currency Usd = Currency.USD;

    private static readonly AffiliateProgramSettings Program = new()
    {
        Currency = Usd,
        Rules = [new CommissionRule { Percent = 30 }],
        RefundWindow = Duration.FromDays(30),
    };

    [Fact]
    public async Task Affiliates_ClicksAndSales_ShowTheProgramsStatsAndLedger()
    {
        await using DashboardHost host = await StartAsync();
        (Affiliate sarah, _) = await SeedAsync(host);
        AffiliateProgram program = host.Services.GetRequiredService<AffiliateProgram>();
        AffiliateStats stats = await program.StatsAsync(sarah.Id);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/affiliates");

        (stats.Clicks, stats.Conversions, stats.Sales, stats.Commission).ShouldBe((2L, 1L, new Money(20_000, Usd), new Money(6_000, Usd)));
        PageTables.Row(page, "sarah")[1..12].ShouldBe(
        [
            "Approved", sarah.Lead.Value.ToString("D"), "2", "1", stats.ConversionRate.ToString("P1", CultureInfo.InvariantCulture),
            "$200.00", "$60.00", Amount(stats.EarningsPerClick!.Value), "$60.00", "$0.00", "$0.00",
        ]);
        PageTables.Row(page, "tom")[1].ShouldBe("Pending");
        page.ShouldContain("Approve tom");
        page.ShouldNotContain("Mark "); // nothing approved to pay yet
        PageTables.Rows(page, "sarah")[1][4..7].ShouldBe(["Pending", "$60.00", "$0.00"]); // the ledger entry
    }

    [Fact]
    public async Task ApproveClearedThenMarkPaid_ThroughThePage_PaysTheApprovedBalance()
    {
        await using DashboardHost host = await StartAsync();
        (Affiliate sarah, _) = await SeedAsync(host);
        AffiliateProgram program = host.Services.GetRequiredService<AffiliateProgram>();
        host.Clock.Advance(Duration.FromDays(31));
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/affiliates");

        using HttpResponseMessage approved = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/approve-cleared", cookie,
            ("__RequestVerificationToken", token));

        approved.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        approved.Headers.Location!.OriginalString.ShouldBe("/funnel-admin/affiliates");
        (await program.LedgerAsync(sarah.Id)).ShouldHaveSingleItem().Status.ShouldBe(CommissionStatus.Approved);
        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/affiliates");
        PageTables.Row(page, "sarah")[10..12].ShouldBe(["$60.00", "$0.00"]);
        page.ShouldContain("Mark $60.00 paid to sarah");

        using HttpResponseMessage paid = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/mark-paid", cookie,
            ("affiliate", sarah.Id.ToString()), ("__RequestVerificationToken", token));

        paid.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        Payout payout = (await program.PayoutsAsync(sarah.Id)).ShouldHaveSingleItem();
        payout.Amount.ShouldBe(new Money(6_000, Usd));
        (await program.LedgerAsync(sarah.Id)).ShouldHaveSingleItem().Status.ShouldBe(CommissionStatus.Paid);
        page = await DashboardHost.GetPageAsync(client, "/funnel-admin/affiliates");
        PageTables.Row(page, "sarah")[10..12].ShouldBe(["$0.00", "$60.00"]);
        PageTables.Row(page, payout.Id.ToString("D"))[1..5].ShouldBe(["sarah", Time(payout.CreatedAt), "$60.00", "1"]);

        using HttpResponseMessage again = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/mark-paid", cookie,
            ("affiliate", sarah.Id.ToString()), ("__RequestVerificationToken", token));

        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await program.PayoutsAsync(sarah.Id)).Length.ShouldBe(1);
    }

    [Fact]
    public async Task Approve_PendingAffiliate_ThroughThePage_ApprovesIt()
    {
        await using DashboardHost host = await StartAsync();
        (_, Affiliate tom) = await SeedAsync(host);
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/affiliates");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/approve", cookie,
            ("affiliate", tom.Id.ToString()), ("__RequestVerificationToken", token));
        using HttpResponseMessage twice = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/reject", cookie,
            ("affiliate", tom.Id.ToString()), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        twice.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await host.Services.GetRequiredService<AffiliateProgram>().GetAffiliateAsync(tom.Id)).Status.ShouldBe(AffiliateStatus.Approved);
    }

    [Fact]
    public async Task Actions_WithoutAntiforgeryToken_Return400AndChangeNothing()
    {
        await using DashboardHost host = await StartAsync();
        (Affiliate sarah, Affiliate tom) = await SeedAsync(host);
        AffiliateProgram program = host.Services.GetRequiredService<AffiliateProgram>();
        host.Clock.Advance(Duration.FromDays(31));
        await program.ApproveClearedAsync();
        using HttpClient client = host.Client();
        (string cookie, _) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/affiliates");

        foreach ((string path, string id) in new[]
        {
            ("/funnel-admin/affiliates/approve", tom.Id.ToString()), ("/funnel-admin/affiliates/mark-paid", sarah.Id.ToString()),
            ("/funnel-admin/affiliates/approve-cleared", ""),
        })
        {
            using HttpResponseMessage withCookieOnly = await DashboardHost.PostAsync(client, path, cookie, ("affiliate", id));
            using HttpResponseMessage withNothing = await DashboardHost.PostAsync(client, path, null, ("affiliate", id));

            withCookieOnly.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path);
            withNothing.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path);
        }

        (await program.GetAffiliateAsync(tom.Id)).Status.ShouldBe(AffiliateStatus.Pending);
        (await program.PayoutsAsync(sarah.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Actions_ReadOnly_Return403AndHideTheButtons()
    {
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.ReadOnly = true;
        }, true, services => services.AddFunnelAdvocacy().AddSingleton(Program));
        (Affiliate sarah, Affiliate tom) = await SeedAsync(host);
        AffiliateProgram program = host.Services.GetRequiredService<AffiliateProgram>();
        host.Clock.Advance(Duration.FromDays(31));
        await program.ApproveClearedAsync();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/affiliates");
        using HttpResponseMessage approve = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/approve", null, ("affiliate", tom.Id.ToString()));
        using HttpResponseMessage pay = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/mark-paid", null, ("affiliate", sarah.Id.ToString()));

        page.ShouldNotContain("<form");
        PageTables.Row(page, "sarah")[10].ShouldBe("$60.00");
        approve.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        pay.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await program.GetAffiliateAsync(tom.Id)).Status.ShouldBe(AffiliateStatus.Pending);
        (await program.PayoutsAsync(sarah.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Affiliates_AdvocacyNotRegistered_SaysHowToSetItUp()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/affiliates");
        using HttpResponseMessage pay = await DashboardHost.PostAsync(client, "/funnel-admin/affiliates/approve-cleared", null);

        page.ShouldContain("Affiliates are not set up: call services.AddFunnelAdvocacy()");
        pay.StatusCode.ShouldBe(HttpStatusCode.BadRequest); // no token; the page refuses before it looks for the program
    }

    private static Task<DashboardHost> StartAsync() =>
        DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true,
            services => services.AddFunnelAdvocacy().AddSingleton(Program));

    /// <summary>Sarah (approved): two clicks and a $200 order paid in full, 30 % commission pending; Tom applied and waits.</summary>
    private static async Task<(Affiliate Sarah, Affiliate Tom)> SeedAsync(DashboardHost host)
    {
        AffiliateProgram program = host.Services.GetRequiredService<AffiliateProgram>();
        (Affiliate sarah, _) = await program.EnrolAsync(new LeadId(new Guid(21, 0, 0, new byte[8])), "sarah");
        (sarah, _) = await program.DecideAsync(sarah.Id, approve: true);
        (Affiliate tom, _) = await program.EnrolAsync(new LeadId(new Guid(22, 0, 0, new byte[8])), "tom");
        var buyer = new LeadId(new Guid(23, 0, 0, new byte[8]));
        await program.RecordClickAsync("sarah", buyer);
        await program.RecordClickAsync("sarah", new LeadId(new Guid(24, 0, 0, new byte[8])));
        var order = new OrderId(new Guid(25, 0, 0, new byte[8]));
        Instant now = host.Clock.GetCurrentInstant();
        ImmutableArray<FunnelEvent> attributed = await program.ApplyAsync(new OrderPlaced
        {
            LeadId = buyer, OccurredAt = now, Order = order, Offer = new OfferId("masterclass"), Total = new Money(20_000, Usd),
        });
        attributed.ShouldNotBeEmpty();
        await program.ApplyAsync(new PaymentSucceeded { LeadId = buyer, OccurredAt = now, Order = order, Amount = new Money(20_000, Usd) });
        return (sarah, tom);
    }

    private static string Amount(Money money) => money.ToString("C", CultureInfo.InvariantCulture);

    private static string Time(Instant instant) => NodaTime.Text.InstantPattern.General.Format(instant);
}
