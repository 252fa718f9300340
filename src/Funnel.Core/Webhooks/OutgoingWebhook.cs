using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodaTime;

namespace Funnel.Webhooks;

/// <summary>One signed HTTP <c>POST</c> of a JSON body to a URL that the seller configured, such as a CRM's inbound hook.</summary>
/// <remarks>
/// An <see cref="IOutgoingWebhookClient"/> posts <see cref="Body"/> as <c>application/json</c> with two headers:
/// <c>Funnel-Signature</c> (<see cref="Signature"/>, see <see cref="WebhookSignature"/>) and <c>Idempotency-Key</c>
/// (<see cref="IdempotencyKey"/>, the same on every retry, so the receiver can drop a repeat).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OutgoingWebhook
{
    /// <summary>Gets the URL to post to.</summary>
    public required Uri Url { get; init; }

    /// <summary>Gets the UTF-8 JSON body.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Gets the key that is the same on every attempt of this call.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets the value of the <c>Funnel-Signature</c> header, <c>t={unix seconds},v1={hex HMAC-SHA256}</c>.</summary>
    public required string Signature { get; init; }
}

/// <summary>How an outgoing webhook call ended.</summary>
public enum WebhookCallStatus
{
    /// <summary>The receiver answered with a 2xx status.</summary>
    Delivered,

    /// <summary>A failure worth retrying: no answer, a timeout, 408, 429 or a 5xx status.</summary>
    TransientFailure,

    /// <summary>A failure not worth retrying: another 4xx status, or a redirect.</summary>
    PermanentFailure,
}

/// <summary>The result of an outgoing webhook call.</summary>
/// <param name="Status">How the call ended.</param>
/// <param name="StatusCode">The HTTP status code, or <see langword="null"/> when there was no answer.</param>
/// <param name="Error">Why it failed, or <see langword="null"/> when delivered.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebhookCallResult(WebhookCallStatus Status, int? StatusCode = null, string? Error = null)
{
    /// <summary>Returns the result for an HTTP answer: 2xx delivered; 408, 429 and 5xx transient; anything else permanent.</summary>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <returns>The result.</returns>
    public static WebhookCallResult FromStatusCode(int statusCode) => statusCode switch
    {
        >= 200 and < 300 => new(WebhookCallStatus.Delivered, statusCode),
        408 or 429 or >= 500 => new(WebhookCallStatus.TransientFailure, statusCode, $"HTTP {statusCode}"),
        _ => new(WebhookCallStatus.PermanentFailure, statusCode, $"HTTP {statusCode}"),
    };
}

/// <summary>Posts outgoing webhooks; <c>AddFunnelHttpWebhooks()</c> (Funnel.Hosting) registers the HTTP implementation.</summary>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IOutgoingWebhookClient
{
    /// <summary>Posts the webhook once (the caller retries).</summary>
    /// <param name="webhook">The webhook.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How it ended; a failure is a result, not an exception.</returns>
    Task<WebhookCallResult> PostAsync(OutgoingWebhook webhook, CancellationToken cancellationToken = default);
}

/// <summary>Signs outgoing webhook bodies and checks signatures, for senders and receivers alike.</summary>
/// <remarks>
/// <para>
/// The signature is an HMAC-SHA256 with the shared secret over <c>{t}.{body}</c>, where <c>t</c> is the Unix time in
/// seconds when it was signed; the header is <c>t={t},v1={lower-case hex}</c>. Signing the time with the body lets a
/// receiver refuse a captured request replayed later (<see cref="Verify"/> takes a tolerance).
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public static class WebhookSignature
{
    /// <summary>The shortest secret accepted, in characters.</summary>
    public const int MinSecretLength = 32;

    /// <summary>Returns the <c>Funnel-Signature</c> header value for a body signed at an instant.</summary>
    /// <param name="secret">The shared secret, at least <see cref="MinSecretLength"/> characters.</param>
    /// <param name="signedAt">The signing instant.</param>
    /// <param name="body">The UTF-8 body.</param>
    /// <returns>The header value.</returns>
    /// <exception cref="ArgumentException"><paramref name="secret"/> is shorter than <see cref="MinSecretLength"/>.</exception>
    public static string Sign(string secret, Instant signedAt, ReadOnlySpan<byte> body)
    {
        CheckSecret(secret);
        long t = signedAt.ToUnixTimeSeconds();
        return "t=" + t.ToString(CultureInfo.InvariantCulture) + ",v1=" + Convert.ToHexStringLower(Mac(secret, t, body));
    }

    /// <summary>Checks a <c>Funnel-Signature</c> header against a body, as a receiver does.</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="header">The header value.</param>
    /// <param name="body">The UTF-8 body as received.</param>
    /// <param name="now">The receiver's clock.</param>
    /// <param name="tolerance">How far the signing time may be from <paramref name="now"/>, such as 5 minutes.</param>
    /// <returns><see langword="true"/> when the header is well-formed, within the tolerance and matches (compared in constant time).</returns>
    /// <exception cref="ArgumentException"><paramref name="secret"/> is shorter than <see cref="MinSecretLength"/>.</exception>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, Instant now, Duration tolerance)
    {
        CheckSecret(secret);
        if (header is null || !header.StartsWith("t=", StringComparison.Ordinal))
        {
            return false;
        }

        int comma = header.IndexOf(",v1=", StringComparison.Ordinal);
        if (comma < 0
            || !long.TryParse(header.AsSpan(2, comma - 2), NumberStyles.None, CultureInfo.InvariantCulture, out long t)
            || t > Instant.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        Instant signedAt = Instant.FromUnixTimeSeconds(t);
        if (signedAt < now - tolerance || signedAt > now + tolerance)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(comma + 4));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, Mac(secret, t, body));
    }

    private static byte[] Mac(string secret, long t, ReadOnlySpan<byte> body)
    {
        byte[] prefix = Encoding.ASCII.GetBytes(t.ToString(CultureInfo.InvariantCulture) + ".");
        using IncrementalHash hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static void CheckSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinSecretLength)
        {
            throw new ArgumentException($"The webhook signing secret must be at least {MinSecretLength} characters.", nameof(secret));
        }
    }
}
