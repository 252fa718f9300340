using System.Net;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

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
        foreach (string page in new[] { "/funnel-admin/", "/funnel-admin/email?state=Sent", "/funnel-admin/webhooks", "/funnel-admin/pipeline", "/funnel-admin/leads?email=ada%40example.com",
            "/funnel-admin/payments", "/funnel-admin/experiments", "/funnel-admin/affiliates" })
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri(page, UriKind.Relative));
            response.ShouldBeStatus(HttpStatusCode.OK);
        }

        string overview = await client.GetStringAsync(new Uri("/funnel-admin/", UriKind.Relative));
        overview.ShouldContain("Purchases: 1");
        overview.ShouldContain("Guide downloads: 1");
        string payments = await client.GetStringAsync(new Uri("/funnel-admin/payments", UriKind.Relative));
        payments.ShouldContain("Orders (1), newest first");
        string affiliates = await client.GetStringAsync(new Uri("/funnel-admin/affiliates", UriKind.Relative));
        affiliates.ShouldContain("Affiliates are not set up"); // the shop registers Advocacy but no affiliate program
    }

    [Fact]
    public async Task RetryWebhook_FromTheDashboard_AppliesTheStoredEventAgain()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        IWebhookEventStore store = shop.Services.GetRequiredService<IWebhookEventStore>();
        var notification = new PaymentNotification
        {
            EventId = "evt_dashboard",
            Kind = PaymentNotificationKind.PaymentSucceeded,
            Order = new OrderId(Guid.NewGuid()),
            OccurredAt = WebShopFactory.Start,
            PaymentId = "pay_1",
            Amount = Money.FromMajor(497, Currency.USD),
        };
        (await store.TryAddAsync(new StoredWebhookEvent
        {
            EventId = "evt_dashboard",
            EventType = "payment_intent.succeeded",
            ReceivedAt = WebShopFactory.Start,
            Notification = notification,
            Status = WebhookEventStatus.Failed,
            Attempts = 1,
            Error = "The database was down.",
        })).ShouldBeTrue();
        await SignInAsync(shop, client);
        string page = await client.GetStringAsync(new Uri("/funnel-admin/webhooks", UriKind.Relative));
        page.ShouldContain("evt_dashboard");
        string token = await WebShopFactory.AntiforgeryTokenAsync(client, "/funnel-admin/webhooks");

        using HttpResponseMessage retried = await client.PostAsync(new Uri("/funnel-admin/webhooks/retry", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("eventId", "evt_dashboard")));

        retried.ShouldBeStatus(HttpStatusCode.SeeOther);
        StoredWebhookEvent stored = (await store.FindAsync("evt_dashboard")).ShouldNotBeNull();
        // Applied again: its order was never placed by this shop, so it is now parked as unprocessable with the reason.
        (stored.Status, stored.Attempts).ShouldBe((WebhookEventStatus.Unprocessable, 2));
        stored.Error!.ShouldContain("unknown");
    }

    private static async Task SignInAsync(WebShopFactory shop, HttpClient client)
    {
        _ = shop.Services; // starts the shop, which writes the key
        string key = (await File.ReadAllTextAsync(Path.Combine(shop.DataFolder, "admin.key"))).Trim();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client, "/admin/sign-in");
        using HttpResponseMessage signIn = await client.PostAsync(new Uri("/admin/sign-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("key", key), ("returnUrl", "/funnel-admin/")));
        signIn.ShouldBeStatus(HttpStatusCode.Redirect);
    }
}
