using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Tests;

public sealed class WebhookEndpointTests
{
    private static readonly Uri Endpoint = new("/funnel/webhooks/test", UriKind.Relative);

    [Fact]
    public async Task Webhook_DisputeDeliveredTwice_AppliesItOnceAndTheReplayChangesNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string upsell = await ShopPagesTests.BuyBasicWithBumpAsync(shop, client);
        Order order = await OrderOfAsync(shop, upsell);
        string paymentId = order.Installments[0].PaymentId!;
        shop.Gateway.Dispute(paymentId, "fraudulent");
        WebhookRequest dispute = shop.Gateway.Webhooks[^1];

        using HttpResponseMessage first = await PostAsync(client, dispute);
        int eventsAfterFirst = shop.Events.Count;
        Order afterFirst = await FindAsync(shop, order.Id);
        using HttpResponseMessage second = await PostAsync(client, dispute);

        first.ShouldBeStatus(HttpStatusCode.OK);
        (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().ShouldBe("processed");
        afterFirst.Version.ShouldBeGreaterThan(order.Version);
        second.ShouldBeStatus(HttpStatusCode.OK);
        (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().ShouldBe("duplicate");
        shop.Events.Count.ShouldBe(eventsAfterFirst);
        // Stored orders read back as new instances (immutable arrays compare by reference): compare their JSON.
        System.Text.Json.JsonSerializer.Serialize(await FindAsync(shop, order.Id), FunnelJson.Options)
            .ShouldBe(System.Text.Json.JsonSerializer.Serialize(afterFirst, FunnelJson.Options));
    }

    [Fact]
    public async Task Webhook_PaymentAlreadyRecordedAtCheckout_ChangesNoRevenue()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        await ShopPagesTests.BuyBasicWithBumpAsync(shop, client);
        long revenue = shop.Events.OfType<PaymentSucceeded>().Sum(p => p.Amount.MinorUnits);

        foreach (WebhookRequest webhook in shop.Gateway.Webhooks)
        {
            using HttpResponseMessage delivered = await PostAsync(client, webhook);
            using HttpResponseMessage replayed = await PostAsync(client, webhook);
            delivered.ShouldBeStatus(HttpStatusCode.OK);
            replayed.ShouldBeStatus(HttpStatusCode.OK);
        }

        shop.Gateway.Webhooks.ShouldNotBeEmpty();
        shop.Events.OfType<PaymentSucceeded>().Sum(p => p.Amount.MinorUnits).ShouldBe(revenue);
        revenue.ShouldBe(524_00);
    }

    [Fact]
    public async Task Webhook_Unsigned_Returns400WithTheReasonAndStoresNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        WebhookRequest signed = await ChargeUnknownOrderAsync(shop);

        using HttpResponseMessage response = await PostAsync(client, signed with { Headers = new Dictionary<string, string>() });

        await ShouldBeRejectedAsync(response, "MissingSignature");
        await ShouldHaveStoredNothingAsync(shop);
    }

    [Fact]
    public async Task Webhook_ForgedBody_Returns400WithTheReasonAndStoresNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        WebhookRequest signed = await ChargeUnknownOrderAsync(shop);
        byte[] forged = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(signed.Body.Span).Replace("\"amount\":", "\"amount\":9", StringComparison.Ordinal));

        using HttpResponseMessage response = await PostAsync(client, signed with { Body = forged });

        await ShouldBeRejectedAsync(response, "SignatureMismatch");
        await ShouldHaveStoredNothingAsync(shop);
    }

    [Fact]
    public async Task Webhook_MalformedSignature_Returns400WithTheReason()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        WebhookRequest signed = await ChargeUnknownOrderAsync(shop);

        using HttpResponseMessage response = await PostAsync(client, signed with
        {
            Headers = new Dictionary<string, string> { [InMemoryPaymentGateway.SignatureHeader] = "not hex" },
        });

        await ShouldBeRejectedAsync(response, "MalformedSignature");
        await ShouldHaveStoredNothingAsync(shop);
    }

    [Fact]
    public async Task Webhook_UnknownProvider_Returns404()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        WebhookRequest signed = await ChargeUnknownOrderAsync(shop);

        using HttpResponseMessage response = await PostAsync(client, signed, new Uri("/funnel/webhooks/paypal", UriKind.Relative));

        response.ShouldBeStatus(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!.ShouldContain("paypal");
        await ShouldHaveStoredNothingAsync(shop);
    }

    internal static async Task<WebhookRequest> ChargeUnknownOrderAsync(WebShopFactory shop, string idempotencyKey = "webhook-test")
    {
        // A signed, authentic event about an order this shop never placed: it can never apply.
        await shop.Gateway.ChargeAsync(new ChargeRequest
        {
            Order = OrderId.New(),
            Lead = LeadId.New(),
            Amount = Money.FromMajor(27m, Currency.FromCode("USD")),
            PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
            IdempotencyKey = idempotencyKey,
        });
        return shop.Gateway.Webhooks[^1];
    }

    private static async Task ShouldBeRejectedAsync(HttpResponseMessage response, string reason)
    {
        response.ShouldBeStatus(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("reason").GetString().ShouldBe(reason);
        problem.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
    }

    private static async Task ShouldHaveStoredNothingAsync(WebShopFactory shop)
    {
        IWebhookEventStore store = shop.Services.GetRequiredService<IWebhookEventStore>();
        foreach (WebhookEventStatus status in Enum.GetValues<WebhookEventStatus>())
        {
            (await store.ListAsync(status, 100)).ShouldBeEmpty(status.ToString());
        }
    }

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient client, WebhookRequest webhook, Uri? endpoint = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint ?? Endpoint) { Content = new ByteArrayContent(webhook.Body.ToArray()) };
        foreach (KeyValuePair<string, string> header in webhook.Headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return await client.SendAsync(request);
    }

    private static async Task<Order> OrderOfAsync(WebShopFactory shop, string upsellUrl) =>
        await FindAsync(shop, new OrderId(Guid.Parse(upsellUrl[(upsellUrl.IndexOf("order=", StringComparison.Ordinal) + 6)..])));

    private static async Task<Order> FindAsync(WebShopFactory shop, OrderId id) =>
        (await shop.Services.GetRequiredService<IOrderStore>().FindAsync(id))!;
}
