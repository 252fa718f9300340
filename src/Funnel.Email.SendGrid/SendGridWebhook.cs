using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Email.SendGrid;

/// <summary>Verifies SendGrid's signed Event Webhook and maps its events to <see cref="EmailFeedback"/>.</summary>
/// <remarks>
/// SendGrid signs <c>timestamp + raw body</c> with ECDSA P-256 over SHA-256 and sends the base64 DER signature in
/// <see cref="SignatureHeader"/> and the Unix timestamp in <see cref="TimestampHeader"/>.
/// </remarks>
internal static class SendGridWebhook
{
    internal const string Provider = "sendgrid";
    internal const string SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
    internal const string TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";

    /// <summary>Imports a base64 DER (SubjectPublicKeyInfo) P-256 public key.</summary>
    internal static bool TryImportKey(string base64, out ECDsa? key)
    {
        key = null;
        byte[] der;
        try
        {
            der = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        ECDsa ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(der, out int read);
            if (read != der.Length || ecdsa.KeySize != 256)
            {
                ecdsa.Dispose();
                return false;
            }
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            return false;
        }

        key = ecdsa;
        return true;
    }

    /// <summary>Checks the signature and the timestamp; returns <see langword="null"/> when valid, or why not.</summary>
    internal static string? Verify(ECDsa key, string? signature, string? timestamp, ReadOnlySpan<byte> body, Instant now, Duration tolerance)
    {
        if (string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(timestamp))
        {
            return $"The request has no '{SignatureHeader}' or '{TimestampHeader}' header: it was not signed by SendGrid.";
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            || seconds > Instant.MaxValue.ToUnixTimeSeconds())
        {
            return $"The '{TimestampHeader}' header is not a Unix time in seconds.";
        }

        byte[] signatureBytes;
        try
        {
            signatureBytes = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return $"The '{SignatureHeader}' header is not base64.";
        }

        byte[] stamp = Encoding.UTF8.GetBytes(timestamp);
        byte[] payload = new byte[stamp.Length + body.Length];
        stamp.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(stamp.Length));
        bool valid;
        try
        {
            valid = key.VerifyData(payload, signatureBytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            valid = false;
        }

        if (!valid)
        {
            return "The signature does not match the body and timestamp for the configured public key.";
        }

        Duration age = now - Instant.FromUnixTimeSeconds(seconds);
        return age > tolerance || age < -tolerance
            ? string.Create(CultureInfo.InvariantCulture, $"The signed timestamp is {Math.Abs(age.TotalSeconds):0} s from now, more than the {tolerance.TotalSeconds:0} s allowed: a replay or a wrong clock.")
            : null;
    }

    /// <summary>Reads the events of a webhook body (a JSON array); events of other kinds, or that name no event id, are skipped.</summary>
    /// <exception cref="JsonException">The body is not a JSON array of objects.</exception>
    internal static List<EmailFeedback> Parse(ReadOnlySpan<byte> body, out int skipped, IReadOnlyDictionary<int, string>? topicOfGroup = null)
    {
        skipped = 0;
        List<EmailFeedback> feedback = [];
        Utf8JsonReader reader = new(body, new JsonReaderOptions { MaxDepth = 16 });
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("The body must be a JSON array of events.");
        }

        foreach (JsonElement e in document.RootElement.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("Each event must be a JSON object.");
            }

            if (Map(e, topicOfGroup) is { } item)
            {
                feedback.Add(item);
            }
            else
            {
                skipped++;
            }
        }

        return feedback;
    }

    /// <summary>Maps one SendGrid event, or returns <see langword="null"/> for a kind that is not feedback (<c>processed</c>) or an event without the fields it needs.</summary>
    /// <remarks>A <c>group_unsubscribe</c> from a group mapped to a topic (<see cref="SendGridOptions.UnsubscribeGroups"/>) leaves that topic only.</remarks>
    internal static EmailFeedback? Map(JsonElement e, IReadOnlyDictionary<int, string>? topicOfGroup = null)
    {
        string? kind = String(e, "event");
        string? eventId = String(e, "sg_event_id");
        if (kind is null || string.IsNullOrEmpty(eventId) || !e.TryGetProperty("timestamp", out JsonElement ts) || !ts.TryGetInt64(out long seconds)
            || seconds < Instant.MinValue.ToUnixTimeSeconds() || seconds > Instant.MaxValue.ToUnixTimeSeconds())
        {
            return null;
        }

        string? messageId = String(e, "sg_message_id");
        (EmailFeedbackKind Kind, string EventId)? mapped = kind switch
        {
            "bounce" => (string.Equals(String(e, "type"), "blocked", StringComparison.Ordinal) ? EmailFeedbackKind.SoftBounce : EmailFeedbackKind.HardBounce, eventId),
            "blocked" => (EmailFeedbackKind.SoftBounce, eventId),
            "dropped" => DroppedKind(String(e, "reason")) is { } dropped ? (dropped, eventId) : null,
            "spamreport" => (EmailFeedbackKind.Complaint, eventId),
            "unsubscribe" or "group_unsubscribe" => (EmailFeedbackKind.Unsubscribe, eventId),
            // SendGrid retries a deferred message for up to 72 hours and reports each attempt: one message's
            // deferrals count as one soft bounce (deduplicated by its message id), and a final failure is a bounce.
            "deferred" => (EmailFeedbackKind.SoftBounce, messageId is null ? eventId : "deferred:" + messageId),
            "delivered" => (EmailFeedbackKind.Delivered, eventId),
            "open" => (EmailFeedbackKind.Opened, eventId),
            "click" => (EmailFeedbackKind.Clicked, eventId),
            _ => null,
        };
        if (mapped is not { } m)
        {
            return null;
        }

        LeadId? lead = Guid.TryParse(String(e, SendGridEmailSender.LeadArg), CultureInfo.InvariantCulture, out Guid id) ? new LeadId(id) : null;
        EmailAddress? recipient = EmailAddress.TryParse(String(e, "email"), out EmailAddress address, out _) ? address : null;
        if (lead is null && recipient is null)
        {
            return null;
        }

        return new EmailFeedback
        {
            Provider = Provider,
            ProviderEventId = m.EventId,
            Kind = m.Kind,
            OccurredAt = Instant.FromUnixTimeSeconds(seconds),
            LeadId = lead,
            Recipient = recipient,
            Email = String(e, SendGridEmailSender.EmailArg),
            Url = m.Kind == EmailFeedbackKind.Clicked ? String(e, "url") : null,
            Topic = kind == "group_unsubscribe" && topicOfGroup is not null && e.TryGetProperty("asm_group_id", out JsonElement group)
                && group.TryGetInt32(out int groupId) && topicOfGroup.TryGetValue(groupId, out string? topic) ? topic : null,
        };
    }

    /// <summary>What a drop says about the address: SendGrid drops mail to the addresses on its suppression lists.</summary>
    private static EmailFeedbackKind? DroppedKind(string? reason) => reason switch
    {
        null => null,
        _ when reason.Contains("Bounced", StringComparison.OrdinalIgnoreCase) || reason.Contains("Invalid", StringComparison.OrdinalIgnoreCase) => EmailFeedbackKind.HardBounce,
        _ when reason.Contains("Spam", StringComparison.OrdinalIgnoreCase) => EmailFeedbackKind.Complaint,
        _ when reason.Contains("Unsubscribed", StringComparison.OrdinalIgnoreCase) => EmailFeedbackKind.Unsubscribe,
        _ => null,
    };

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
