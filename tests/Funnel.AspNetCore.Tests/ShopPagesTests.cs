using System.Net;
using System.Text.RegularExpressions;
using Funnel.Events;
using Funnel.Offers;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

public sealed partial class ShopPagesTests
{
    private static async Task<(HttpResponseMessage Response, string Html)> GetAsync(HttpClient client, string url)
    {
        HttpResponseMessage response = await client.GetAsync(new Uri(url, UriKind.Relative));
        return (response, await response.Content.ReadAsStringAsync());
    }

    private static string TokenOf(string html) => TokenPattern().Match(html).Groups[1].Value;

    internal static async Task<string> BuyBasicWithBumpAsync(WebShopFactory shop, HttpClient client)
    {
        using var view = new StringContent("{\"url\":\"/blog/write-a-best-selling-ebook-in-30-days\"}");
        (await client.PostAsync(new Uri("/funnel/page-view", UriKind.Relative), view)).ShouldBeStatus(HttpStatusCode.NoContent);
        (await WebShopFactory.OptInAsync(client, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        (await client.GetAsync(WebShopFactory.Relative(shop.Outbox.Snapshot().Single().ConfirmationLink!))).ShouldBeStatus(HttpStatusCode.Redirect);
        (await GetAsync(client, "/sales")).Response.ShouldBeStatus(HttpStatusCode.OK);
        (HttpResponseMessage _, string checkout) = await GetAsync(client, "/checkout?offer=masterclass-basic");
        using HttpResponseMessage placed = await client.PostAsync(new Uri("/checkout", UriKind.Relative), WebShopFactory.Form(
            ("__RequestVerificationToken", TokenOf(checkout)), ("offer", "masterclass-basic"), ("plan", ""), ("bump", "cover-design-pack"), ("card", "4242 4242 4242 4242")));
        placed.ShouldBeStatus(HttpStatusCode.SeeOther);
        return placed.Headers.Location!.ToString();
    }

    [Fact]
    public async Task Checkout_WithBumpThenAcceptedUpsell_RecordsOrdersPaymentsAndShowsThemOnTheAdminPage()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string upsellUrl = await BuyBasicWithBumpAsync(shop, client);
        (HttpResponseMessage _, string upsell) = await GetAsync(client, upsellUrl);
        upsell.ShouldContain("Masterclass Premium — $797");
        string order = upsellUrl[(upsellUrl.IndexOf("order=", StringComparison.Ordinal) + 6)..];

        using HttpResponseMessage accepted = await client.PostAsync(new Uri("/upsell", UriKind.Relative), WebShopFactory.Form(
            ("__RequestVerificationToken", TokenOf(upsell)), ("order", order), ("offer", "masterclass-premium"), ("answer", "accept")));

        accepted.ShouldBeStatus(HttpStatusCode.SeeOther);
        (HttpResponseMessage _, string thanks) = await GetAsync(client, accepted.Headers.Location!.ToString());
        thanks.ShouldContain("""<th class="num" id="paid">$1,321</th>""");
        shop.Events.OfType<OrderPlaced>().Count().ShouldBe(2);
        shop.Events.OfType<PaymentSucceeded>().Sum(p => p.Amount.MinorUnits).ShouldBe(1_321_00);
        shop.Events.OfType<AddOnAccepted>().ShouldHaveSingleItem();
        (HttpResponseMessage _, string admin) = await GetAsync(client, "/admin");
        admin.ShouldContain("""data-testid="orders">2<""");
        admin.ShouldContain("""data-testid="revenue">$1,321<""");
        admin.ShouldContain("""data-testid="reached-purchase">1<""");
        admin.ShouldContain("<svg id=\"funnel-chart\"");
    }

    [Fact]
    public async Task ThankYou_SecondPurchaseByTheSameLead_ShowsOnlyThatPurchase()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        await BuyBasicWithBumpAsync(shop, client);
        (HttpResponseMessage _, string checkout) = await GetAsync(client, "/checkout?offer=masterclass-basic");

        using HttpResponseMessage again = await client.PostAsync(new Uri("/checkout", UriKind.Relative), WebShopFactory.Form(
            ("__RequestVerificationToken", TokenOf(checkout)), ("offer", "masterclass-basic"), ("plan", ""), ("card", "4242 4242 4242 4242")));
        again.ShouldBeStatus(HttpStatusCode.SeeOther);
        string second = again.Headers.Location!.ToString();
        string order = second[(second.IndexOf("order=", StringComparison.Ordinal) + 6)..];

        (HttpResponseMessage response, string thanks) = await GetAsync(client, "/thank-you?order=" + order);

        response.ShouldBeStatus(HttpStatusCode.OK);
        thanks.ShouldContain("""<th class="num" id="paid">$497</th>""");
        thanks.ShouldNotContain("cover-design-pack");
    }

    [Fact]
    public async Task Checkout_WithoutAntiforgeryToken_Returns400AndPlacesNoOrder()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        await GetAsync(client, "/sales");

        using HttpResponseMessage response = await client.PostAsync(new Uri("/checkout", UriKind.Relative), WebShopFactory.Form(("offer", "masterclass-basic")));

        response.ShouldBeStatus(HttpStatusCode.BadRequest);
        shop.Events.OfType<OrderPlaced>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Upsell_SomeoneElsesOrder_Returns404()
    {
        using var shop = new WebShopFactory();
        using HttpClient buyer = shop.CreateBrowser();
        using HttpClient stranger = shop.CreateBrowser();
        string upsellUrl = await BuyBasicWithBumpAsync(shop, buyer);
        await GetAsync(stranger, "/sales");

        (HttpResponseMessage response, string _) = await GetAsync(stranger, upsellUrl);

        response.ShouldBeStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SalesPage_EightDaysAfterTheFirstVisit_ShowsTheBonusEnded()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        (HttpResponseMessage _, string first) = await GetAsync(client, "/sales");
        first.ShouldContain(">7d 0h 0m 0s</span>");
        first.ShouldContain("2026-03-09 09:00 UTC");

        shop.Clock.Advance(Duration.FromDays(8));
        (HttpResponseMessage _, string later) = await GetAsync(client, "/sales");

        later.ShouldContain("bonus has ended");
        later.ShouldNotContain("id=\"countdown\"");
    }

    [Fact]
    public async Task Health_Endpoint_ReportsHealthy()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        (HttpResponseMessage response, string body) = await GetAsync(client, "/health");

        response.ShouldBeStatus(HttpStatusCode.OK);
        body.ShouldBe("Healthy");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
