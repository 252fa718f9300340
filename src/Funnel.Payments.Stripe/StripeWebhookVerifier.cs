using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NodaTime;

namespace Funnel.Payments.Stripe;

/// <summary>Verifies Stripe webhooks with Stripe's documented scheme on our clock, and maps the events we act on to <see cref="PaymentNotification"/>.</summary>
/// <remarks>
/// The <c>Stripe-Signature</c> header is <c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;…]</c>; each <c>v1</c> is an
/// HMAC-SHA256 of <c>"&lt;t&gt;.&lt;raw body&gt;"</c> keyed with a whole <c>whsec_…</c> secret. Any <c>v1</c> may match any configured
/// secret (rotation), compared in constant time; the timestamp must be within the tolerance of now, in either direction.
/// </remarks>
internal sealed class StripeWebhookVerifier : IWebhookSignatureVerifier
{
    public const string SignatureHeader = "Stripe-Signature";

    private static readonly long MaxUnixSeconds = Instant.MaxValue.ToUnixTimeSeconds();

    private readonly IReadOnlyList<byte[]> secrets;
    private readonly Duration tolerance;
    private readonly IClock clock;

    public StripeWebhookVerifier(IEnumerable<string> secrets, Duration tolerance, IClock clock)
    {
        this.secrets = [.. secrets.Select(Encoding.UTF8.GetBytes)];
        this.tolerance = tolerance;
        this.clock = clock;
    }

    public Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(Verify(request));
    }

    private WebhookVerification Verify(WebhookRequest request)
    {
        string? header = request.Headers.FirstOrDefault(h => string.Equals(h.Key, SignatureHeader, StringComparison.OrdinalIgnoreCase)).Value;
        if (string.IsNullOrWhiteSpace(header))
        {
            return WebhookVerification.Rejected(WebhookRejection.MissingSignature, $"The '{SignatureHeader}' header is missing.");
        }

        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (string part in header.Split(','))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            string key = part[..equals].Trim();
            string value = part[(equals + 1)..].Trim();
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long t))
            {
                timestamp = t;
            }
            else if (key == "v1" && value.Length == 64 && value.All(char.IsAsciiHexDigit))
            {
                signatures.Add(Convert.FromHexString(value));
            }
        }

        if (timestamp is not { } seconds || signatures.Count == 0)
        {
            return WebhookVerification.Rejected(WebhookRejection.MalformedSignature, $"The '{SignatureHeader}' header has no timestamp 't' or no 'v1' signature.");
        }

        if (seconds > MaxUnixSeconds)
        {
            // Beyond what an Instant holds; a forged header must be rejected, not throw.
            return WebhookVerification.Rejected(WebhookRejection.TimestampOutsideTolerance, $"The signed timestamp t={seconds} is not a valid time.");
        }

        Instant signedAt = Instant.FromUnixTimeSeconds(seconds);
        Duration age = clock.GetCurrentInstant() - signedAt;
        if (age > tolerance || -age > tolerance)
        {
            return WebhookVerification.Rejected(WebhookRejection.TimestampOutsideTolerance,
                $"The signature was made at {signedAt}, {age.TotalSeconds:0} s from now; the tolerance is {tolerance.TotalSeconds:0} s.");
        }

        byte[] prefix = Encoding.UTF8.GetBytes(seconds.ToString(CultureInfo.InvariantCulture) + ".");
        byte[] payload = [.. prefix, .. request.Body.Span];
        bool matched = false;
        foreach (byte[] secret in secrets)
        {
            byte[] expected = HMACSHA256.HashData(secret, payload);
            foreach (byte[] signature in signatures)
            {
                // No early exit: every comparison runs, in constant time.
                matched |= CryptographicOperations.FixedTimeEquals(expected, signature);
            }
        }

        if (!matched)
        {
            return WebhookVerification.Rejected(WebhookRejection.SignatureMismatch, "No v1 signature matches the body with a configured webhook secret.");
        }

        try
        {
            return StripeEvents.Parse(request.Body.Span);
        }
        catch (Exception error) when (StripeEvents.IsUnreadable(error))
        {
            return WebhookVerification.Rejected(WebhookRejection.MalformedPayload, "The body is not a Stripe event: " + error.Message);
        }
    }
}

/// <summary>Maps Stripe event JSON to <see cref="PaymentNotification"/>; reads it directly so that any API version works.</summary>
internal static class StripeEvents
{
    public static WebhookVerification Parse(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        JsonElement root = document.RootElement;
        string id = root.GetProperty("id").GetString()!;
        string type = root.GetProperty("type").GetString()!;
        var accepted = new WebhookVerification { EventId = id, EventType = type };
        try
        {
            return Map(root, accepted);
        }
        catch (Exception error) when (IsUnreadable(error))
        {
            // Signed by Stripe and carrying an id, but not something we can apply: park it with the reason (answered
            // 2xx, so Stripe stops delivering it) rather than reject it, which Stripe would retry for days.
            return accepted with { Notification = null, Unprocessable = $"The {type} event cannot be read: {error.Message}" };
        }
    }

    /// <summary>Whether <paramref name="error"/> is how reading a malformed event fails (a value of the wrong kind, missing or out of range).</summary>
    public static bool IsUnreadable(Exception error) =>
        error is JsonException or KeyNotFoundException or FormatException or InvalidOperationException or ArgumentException or OverflowException;

    private static WebhookVerification Map(JsonElement root, WebhookVerification accepted)
    {
        string type = accepted.EventType!;
        Instant created = Instant.FromUnixTimeSeconds(root.GetProperty("created").GetInt64());
        JsonElement data = root.GetProperty("data").GetProperty("object");

        (PaymentNotificationKind Kind, JsonElement? Metadata, string AmountField, string? PaymentId, string? Adjustment, string? Reason)? mapped = type switch
        {
            "payment_intent.succeeded" => (PaymentNotificationKind.PaymentSucceeded, Property(data, "metadata"), "amount_received", Text(data, "id"), null, null),
            "payment_intent.payment_failed" => (PaymentNotificationKind.PaymentFailed, Property(data, "metadata"), "amount", Text(data, "id"), null,
                Property(data, "last_payment_error") is { } e ? Text(e, "decline_code") ?? Text(e, "code") : null),
            "invoice.paid" => (PaymentNotificationKind.PaymentSucceeded, SubscriptionMetadata(data), "amount_paid", Text(data, "id"), null, null),
            "invoice.payment_failed" => (PaymentNotificationKind.PaymentFailed, SubscriptionMetadata(data), "amount_due", Text(data, "id"), null, "invoice_payment_failed"),
            "refund.created" => (PaymentNotificationKind.Refunded, Property(data, "metadata"), "amount",
                Property(data, "metadata") is { } m && Text(m, "funnel_payment") is { } original ? original : Text(data, "payment_intent"), Text(data, "id"), null),
            _ => null,
        };
        if (mapped is not { } m2 || m2.Metadata is not { } metadata || Text(metadata, "funnel_order") is not { } order || m2.PaymentId is null)
        {
            // Authentic, but not about one of our orders (or of a type we do not act on).
            return accepted;
        }

        return accepted with
        {
            Notification = new PaymentNotification
            {
                EventId = accepted.EventId!,
                Kind = m2.Kind,
                Order = OrderId.Parse(order),
                OccurredAt = created,
                PaymentId = m2.PaymentId,
                Amount = StripeMoney.FromStripe(data.GetProperty(m2.AmountField).GetInt64(), data.GetProperty("currency").GetString()!),
                Installment = Text(metadata, "funnel_installment") is { } n ? Installment(n) : null,
                AdjustmentId = m2.Adjustment,
                Reason = m2.Reason,
            },
        };
    }

    private static int Installment(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number > 0
            ? number
            : throw new FormatException($"The metadata 'funnel_installment' is '{(text.Length > 20 ? text[..20] + "…" : text)}', not an installment number from 1 to {int.MaxValue}.");

    private static JsonElement? SubscriptionMetadata(JsonElement invoice) =>
        Property(invoice, "parent") is { } parent && Property(parent, "subscription_details") is { } details ? Property(details, "metadata") : null;

    private static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? Text(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
