using System.Net;

namespace Funnel.AspNetCore.Tests;

/// <summary>The WebShop maps the Funnel dashboard behind its <c>shop-admin</c> policy: an admin-key cookie.</summary>
public sealed class ShopAdminTests
{
    [Fact]
    public async Task Dashboard_Anonymous_RedirectsToSignIn()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel-admin/email", UriKind.Relative));

        response.ShouldBeStatus(HttpStatusCode.Redirect);
        response.Headers.Location!.PathAndQuery.ShouldStartWith("/admin/sign-in?ReturnUrl=%2Ffunnel-admin%2Femail");
    }

    [Fact]
    public async Task SignIn_WrongKey_Returns401AndTheDashboardStaysClosed()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client, "/admin/sign-in");

        using HttpResponseMessage signIn = await client.PostAsync(new Uri("/admin/sign-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("key", "not-the-key"), ("returnUrl", "")));
        using HttpResponseMessage dashboard = await client.GetAsync(new Uri("/funnel-admin/", UriKind.Relative));

        signIn.ShouldBeStatus(HttpStatusCode.Unauthorized);
        dashboard.ShouldBeStatus(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task SignIn_KeyKeptInTheDataFolder_OpensEveryPageAndTheOverviewShowsThePurchase()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        await ShopPagesTests.BuyBasicWithBumpAsync(shop, client);
        shop.DeliverAll();
        string key = (await File.ReadAllTextAsync(Path.Combine(shop.DataFolder, "admin.key"))).Trim();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client, "/admin/sign-in");

        using HttpResponseMessage signIn = await client.PostAsync(new Uri("/admin/sign-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("key", key), ("returnUrl", "//evil.example/")));

        signIn.ShouldBeStatus(HttpStatusCode.Redirect);
        signIn.Headers.Location!.OriginalString.ShouldBe("/funnel-admin/");
        foreach (string page in new[] { "/funnel-admin/", "/funnel-admin/email?state=Sent", "/funnel-admin/webhooks", "/funnel-admin/pipeline", "/funnel-admin/leads?email=ada%40example.com" })
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri(page, UriKind.Relative));
            response.ShouldBeStatus(HttpStatusCode.OK);
        }

        string overview = await client.GetStringAsync(new Uri("/funnel-admin/", UriKind.Relative));
        overview.ShouldContain("Purchases: 1");
        overview.ShouldContain("Guide downloads: 1");
    }
}
