using Funnel.Pipeline;
using Funnel.Payments;

namespace Funnel.Samples.WebShop;

/// <summary>The one place the shop takes money: <see cref="PaymentService"/> over the payment gateway registered (test mode: <see cref="InMemoryPaymentGateway"/>).</summary>
/// <remarks>
/// The card number stands in for the provider token a real checkout gets from the provider's card form (Stripe
/// Elements): test mode accepts Stripe's test cards, such as 4242 4242 4242 4242. The card is saved on the order, so
/// the upsell is one click and charges it off session.
/// </remarks>
public static class CheckoutPayment
{
    /// <summary>Returns the card number without spaces or dashes, or <see langword="null"/> when it is not 12 to 19 digits.</summary>
    public static string? NormalizeCard(string? entered)
    {
        string digits = new([.. (entered ?? string.Empty).Where(c => c is not (' ' or '-'))]);
        return digits.Length is >= 12 and <= 19 && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    /// <summary>Explains a decline code to the buyer.</summary>
    public static string DescribeDecline(string? code) => code switch
    {
        "card_declined" => "Your card was declined. Try another card.",
        "insufficient_funds" => "Your card has insufficient funds. Try another card.",
        "invalid_number" => "The card number is not valid. In test mode, use 4242 4242 4242 4242.",
        "authentication_required" => "Your bank asks you to confirm the payment. Try again and confirm it.",
        _ => $"The payment did not go through ({code ?? "unknown"}).",
    };
}

/// <summary>Delivers the test gateway's signed webhooks to the shop's own webhook endpoint by HTTP POST, as a provider would.</summary>
/// <remarks>
/// Runs on the Funnel job runner every second. A delivery that fails (not 2xx, except the 400 of a rejected event) is
/// tried again on the next run, so the endpoint's replay protection is exercised too.
/// </remarks>
public sealed class WebhookRelay(InMemoryPaymentGateway gateway, ShopMailSettings settings, IConfiguration configuration, IHttpClientFactory clients, ILogger<WebhookRelay> logger) : IFunnelJob
{
    /// <summary>The provider name the shop's webhook endpoint is registered under.</summary>
    public const string Provider = "test";

    private int delivered;

    /// <inheritdoc/>
    public string Name => "webhook-relay";

    /// <inheritdoc/>
    public TimeSpan Interval => TimeSpan.FromSeconds(1);

    /// <inheritdoc/>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        System.Collections.Immutable.ImmutableArray<WebhookRequest> all = gateway.Webhooks;
        using HttpClient client = clients.CreateClient(nameof(WebhookRelay));
        // Payments:WebhookUrl points the provider elsewhere (a tunnel, or a recorder in the restart tests).
        var endpoint = configuration["Payments:WebhookUrl"] is { Length: > 0 } url ? new Uri(url) : new Uri(settings.PublicUrl, "/funnel/webhooks/" + Provider);
        while (delivered < all.Length)
        {
            WebhookRequest webhook = all[delivered];
            using var content = new ByteArrayContent(webhook.Body.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
            foreach (KeyValuePair<string, string> header in webhook.Headers)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            using HttpResponseMessage response = await client.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode && response.StatusCode != System.Net.HttpStatusCode.BadRequest)
            {
                ShopLog.WebhookDeliveryFailed(logger, (int)response.StatusCode);
                return;
            }

            delivered++;
        }
    }
}
