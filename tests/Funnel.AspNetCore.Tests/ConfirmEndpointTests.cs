using System.Net;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

public sealed class ConfirmEndpointTests
{
    private static async Task<Uri> OptInAndGetLinkAsync(WebShopFactory shop, HttpClient client)
    {
        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com");
        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        return WebShopFactory.Relative(shop.Outbox.Snapshot().Single().ConfirmationLink!);
    }

    [Fact]
    public async Task Confirm_ValidToken_RecordsConfirmationAndRedirectsToTheSalesPage()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await OptInAndGetLinkAsync(shop, client);

        using HttpResponseMessage response = await client.GetAsync(link);

        response.ShouldBeStatus(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/sales");
        shop.Events.OfType<OptInConfirmed>().ShouldHaveSingleItem().LeadId.ShouldBe(shop.Events.OfType<OptedIn>().Single().LeadId);
    }

    [Fact]
    public async Task Confirm_TamperedToken_Returns400NamingTokenAndRecordsNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await OptInAndGetLinkAsync(shop, client);
        string url = link.ToString();
        char last = url[^1];
        var tampered = new Uri(url[..^1] + (last == 'A' ? 'B' : 'A'), UriKind.Relative);

        using HttpResponseMessage response = await client.GetAsync(tampered);

        (await response.ShouldBeProblemForAsync("token")).ShouldContain("invalid");
        shop.Events.OfType<OptInConfirmed>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Confirm_GarbageToken_Returns400NamingToken()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/confirm?token=%3Cscript%3E", UriKind.Relative));

        await response.ShouldBeProblemForAsync("token");
    }

    [Fact]
    public async Task Confirm_MissingToken_Returns400NamingToken()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/confirm", UriKind.Relative));

        (await response.ShouldBeProblemForAsync("token")).ShouldContain("required");
    }

    [Fact]
    public async Task Confirm_SameLinkTwice_SecondReturns400()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await OptInAndGetLinkAsync(shop, client);
        using HttpResponseMessage first = await client.GetAsync(link);
        first.ShouldBeStatus(HttpStatusCode.Redirect);

        using HttpResponseMessage second = await client.GetAsync(link);

        await second.ShouldBeProblemForAsync("token");
        shop.Events.OfType<OptInConfirmed>().Count().ShouldBe(1);
    }

    [Fact]
    public async Task Confirm_AfterTheTokenExpired_Returns400SayingExpired()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await OptInAndGetLinkAsync(shop, client);
        shop.Clock.Advance(Duration.FromHours(49));

        using HttpResponseMessage response = await client.GetAsync(link);

        (await response.ShouldBeProblemForAsync("token")).ShouldContain("expired");
        shop.Events.OfType<OptInConfirmed>().ShouldBeEmpty();
    }
}
