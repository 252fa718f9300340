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
/// <para>
/// A dispute (<c>charge.dispute.created</c>, <c>charge.dispute.closed</c>) carries none of our metadata, only the
/// disputed <c>payment_intent</c>: its order is read from that PaymentIntent's <c>funnel_order</c> metadata, which
/// <see cref="StripePaymentGateway"/> set when it charged, with one API call. An installment of a plan is paid by a
/// PaymentIntent that Stripe's invoice created, without our metadata: then a second call finds the invoice that
/// PaymentIntent paid, whose subscription carries the order, and the dispute names the invoice as the payment, as the
/// order recorded it. A PaymentIntent that leads to neither (not one of our charges) leaves the event ignored.
/// </para>
/// </remarks>
internal sealed class StripeWebhookVerifier : IWebhookSignatureVerifier
{
    public const string SignatureHeader = "Stripe-Signature";

    private static readonly long MaxUnixSeconds = Instant.MaxValue.ToUnixTimeSeconds();

    private readonly IReadOnlyList<byte[]> secrets;
    private readonly Duration tolerance;
    private readonly IClock clock;
    private readonly Func<string, CancellationToken, Task<DisputedPayment?>>? orderOfPaymentIntent;
    private readonly Func<string, CancellationToken, Task<bool>>? alreadyReceived;

    /// <param name="secrets">The webhook signing secrets.</param>
    /// <param name="tolerance">How far the signed timestamp may be from now.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="orderOfPaymentIntent">Finds the order and payment a disputed PaymentIntent paid, for disputes; without it disputes are ignored.</param>
    /// <param name="alreadyReceived">Tells whether an event id is already stored, so that a replayed dispute asks Stripe nothing (the processor reports it as a duplicate).</param>
    public StripeWebhookVerifier(IEnumerable<string> secrets, Duration tolerance, IClock clock,
        Func<string, CancellationToken, Task<DisputedPayment?>>? orderOfPaymentIntent = null,
        Func<string, CancellationToken, Task<bool>>? alreadyReceived = null)
    {
        this.alreadyReceived = alreadyReceived;
        this.secrets = [.. secrets.Select(Encoding.UTF8.GetBytes)];
        this.tolerance = tolerance;
        this.clock = clock;
        this.orderOfPaymentIntent = orderOfPaymentIntent;
    }

    /// <exception cref="PaymentGatewayException">The PaymentIntent of a dispute could not be read from Stripe; the request fails, and Stripe delivers it again.</exception>
    public async Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        (WebhookVerification verification, PendingDispute? pending) = Verify(request);
        if (pending is null || orderOfPaymentIntent is null)
        {
            return verification;
        }

        if (alreadyReceived is not null && verification.EventId is { } eventId && await alreadyReceived(eventId, cancellationToken).ConfigureAwait(false))
        {
            // A replay of a stored event: the processor answers Duplicate without using the notification.
            return verification;
        }

        DisputedPayment? paid = await orderOfPaymentIntent(pending.PaymentIntent, cancellationToken).ConfigureAwait(false);
        if (paid is null)
        {
            // Not one of our charges: authentic, nothing to act on.
            return verification;
        }

        try
        {
            return verification with { Notification = pending.Complete(OrderId.Parse(paid.Order), paid.PaymentId) };
        }
        catch (Exception error) when (StripeEvents.IsUnreadable(error))
        {
            return verification with { Unprocessable = $"The {verification.EventType} event's PaymentIntent {pending.PaymentIntent} has unreadable metadata: {error.Message}" };
        }
    }

    private (WebhookVerification Verification, PendingDispute? Pending) Verify(WebhookRequest request)
    {
        string? header = request.Headers.FirstOrDefault(h => string.Equals(h.Key, SignatureHeader, StringComparison.OrdinalIgnoreCase)).Value;
        if (string.IsNullOrWhiteSpace(header))
        {
            return (WebhookVerification.Rejected(WebhookRejection.MissingSignature, $"The '{SignatureHeader}' header is missing."), null);
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
            return (WebhookVerification.Rejected(WebhookRejection.MalformedSignature, $"The '{SignatureHeader}' header has no timestamp 't' or no 'v1' signature."), null);
        }

        if (seconds > MaxUnixSeconds)
        {
            // Beyond what an Instant holds; a forged header must be rejected, not throw.
            return (WebhookVerification.Rejected(WebhookRejection.TimestampOutsideTolerance, $"The signed timestamp t={seconds} is not a valid time."), null);
        }

        Instant signedAt = Instant.FromUnixTimeSeconds(seconds);
        Duration age = clock.GetCurrentInstant() - signedAt;
        if (age > tolerance || -age > tolerance)
        {
            return (WebhookVerification.Rejected(WebhookRejection.TimestampOutsideTolerance,
                $"The signature was made at {signedAt}, {age.TotalSeconds:0} s from now; the tolerance is {tolerance.TotalSeconds:0} s."), null);
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
            return (WebhookVerification.Rejected(WebhookRejection.SignatureMismatch, "No v1 signature matches the body with a configured webhook secret."), null);
        }

        try
        {
            return StripeEvents.Parse(request.Body.Span);
        }
        catch (Exception error) when (StripeEvents.IsUnreadable(error))
        {
            return (WebhookVerification.Rejected(WebhookRejection.MalformedPayload, "The body is not a Stripe event: " + error.Message), null);
        }
    }
}

/// <summary>A dispute whose order is read from its PaymentIntent's metadata before it becomes a notification.</summary>
/// <param name="PaymentIntent">The disputed PaymentIntent's id.</param>
/// <param name="Complete">Makes the notification once the order and the payment as the order recorded it are known.</param>
internal sealed record PendingDispute(string PaymentIntent, Func<OrderId, string, PaymentNotification> Complete);

/// <summary>What a disputed PaymentIntent paid.</summary>
/// <param name="Order">The text of the order id, from our metadata.</param>
/// <param name="PaymentId">The payment as the order recorded it: the PaymentIntent of a one-time charge, the invoice of an installment.</param>
internal sealed record DisputedPayment(string Order, string PaymentId);

/// <summary>Maps Stripe event JSON to <see cref="PaymentNotification"/>; reads it directly so that any API version works.</summary>
internal static class StripeEvents
{
    public static (WebhookVerification Verification, PendingDispute? Pending) Parse(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        JsonElement root = document.RootElement;
        string id = root.GetProperty("id").GetString()!;
        string type = root.GetProperty("type").GetString()!;
        var accepted = new WebhookVerification { EventId = id, EventType = type };
        try
        {
            return type.StartsWith("charge.dispute.", StringComparison.Ordinal) ? MapDispute(root, accepted) : (Map(root, accepted), null);
        }
        catch (Exception error) when (IsUnreadable(error))
        {
            // Signed by Stripe and carrying an id, but not something we can apply: park it with the reason (answered
            // 2xx, so Stripe stops delivering it) rather than reject it, which Stripe would retry for days.
            return (accepted with { Notification = null, Unprocessable = $"The {type} event cannot be read: {error.Message}" }, null);
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

    /// <summary>Maps a dispute opened or closed (won or lost); its order comes from the disputed PaymentIntent, unless the dispute's own metadata names it.</summary>
    private static (WebhookVerification, PendingDispute?) MapDispute(JsonElement root, WebhookVerification accepted)
    {
        JsonElement data = root.GetProperty("data").GetProperty("object");
        PaymentNotificationKind? kind = accepted.EventType switch
        {
            "charge.dispute.created" => PaymentNotificationKind.Disputed,
            // Stripe closes an inquiry as warning_closed: no money moved, nothing to record.
            "charge.dispute.closed" => Text(data, "status") switch
            {
                "won" => PaymentNotificationKind.DisputeWon,
                "lost" => PaymentNotificationKind.DisputeLost,
                _ => null,
            },
            _ => null,
        };
        if (kind is not { } k || Text(data, "payment_intent") is not { } intent)
        {
            // Another dispute event, or a dispute on a bare charge (we only create PaymentIntents).
            return (accepted, null);
        }

        string disputeId = Text(data, "id") ?? throw new KeyNotFoundException("The dispute has no 'id'.");
        Instant created = Instant.FromUnixTimeSeconds(root.GetProperty("created").GetInt64());
        Money amount = StripeMoney.FromStripe(data.GetProperty("amount").GetInt64(), data.GetProperty("currency").GetString()!);
        string? reason = Text(data, "reason");
        PaymentNotification Complete(OrderId order, string paymentId) => new()
        {
            EventId = accepted.EventId!,
            Kind = k,
            Order = order,
            OccurredAt = created,
            PaymentId = paymentId,
            Amount = amount,
            AdjustmentId = disputeId,
            Reason = reason,
        };

        return Property(data, "metadata") is { } metadata && Text(metadata, "funnel_order") is { } named
            ? (accepted with { Notification = Complete(OrderId.Parse(named), intent) }, null)
            : (accepted, new PendingDispute(intent, Complete));
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
