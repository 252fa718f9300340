using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Funnel.Payments;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Funnel.AspNetCore.Tests;

/// <summary>One hostile request against a Funnel endpoint.</summary>
public sealed record FuzzRequest(string Method, string Path, string? ContentType, byte[]? Body, (string Name, string Value)[] Headers, bool WithAntiforgery)
{
    public override string ToString() =>
        $"{Method} {Path} [{ContentType ?? "no content type"}] {Body?.Length ?? -1} bytes "
        + $"'{Preview(Encoding.UTF8.GetString(Body ?? []))}' "
        + string.Join(" ", Headers.Select(h => $"{h.Name}: {h.Value[..Math.Min(h.Value.Length, 60)]}"))
        + (WithAntiforgery ? " +antiforgery" : string.Empty);

    private static string Preview(string text) => text.Length <= 160 ? text : text[..160] + "…";
}

/// <summary>FsCheck generators of hostile requests: bodies, headers, content types and sizes.</summary>
public static class FuzzArbitraries
{
    /// <summary>Every endpoint <c>MapFunnel</c> maps, with a slot for a path token.</summary>
    public static readonly (string Method, string Path)[] Endpoints =
    [
        ("POST", "/funnel/opt-in"),
        ("GET", "/funnel/confirm?token={t}"),
        ("GET", "/funnel/confirm"),
        ("POST", "/funnel/page-view"),
        ("GET", "/funnel/email/open/{t}"),
        ("GET", "/funnel/email/click/{t}"),
        ("GET", "/funnel/email/unsubscribe/{t}"),
        ("POST", "/funnel/email/unsubscribe/{t}"),
        ("POST", "/funnel/webhooks/test"),
        ("POST", "/funnel/webhooks/{t}"),
    ];

    private static readonly Gen<string> Nasty = Gen.Elements(
        string.Empty, " ", "\0", "a\0b", "\u202Eevil", "😀", "%00", "%", "%%41", "../..", "//evil.example", "\\\\x", "\r\n", "<script>",
        "ada@example.com", "quick-start-guide", "Europe/Berlin", "'; DROP TABLE leads;--", "{\"url\":\"/x\"}", "null", "-1",
        "99999999999999999999", "NaN", "t=1,v1=zz", "=", "&", "+", new string('a', 300), new string('é', 3000));

    private static readonly Gen<string> Text = Gen.OneOf(
        Nasty,
        Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 0xD7FF).Select(c => (char)c), n)).Select(cs => new string(cs)));

    private static readonly Gen<int> Size = Gen.Frequency(
        (6, Gen.Choose(0, 256)),
        (3, Gen.Choose(257, 20_000)),
        (1, Gen.Elements(16 * 1024 + 1, 32 * 1024 + 1, 512 * 1024 + 1, 4 * 1024 * 1024 + 1)));

    private static readonly Gen<string?> ContentTypes = Gen.Elements<string?>(
        null, "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=b",
        "multipart/form-data; boundary=" + new string('b', 200), "application/json", "text/plain", "application/octet-stream",
        "a/b; c", "application/x-www-form-urlencoded; charset=utf-16", "image/gif", ";;;");

    /// <summary>A body and the content type it is sent with: usually its own kind's, sometimes any other.</summary>
    private static Gen<(string? ContentType, byte[] Body)> Bodies()
    {
        Gen<(string?, byte[])> Typed(string own, Gen<byte[]> bodies) =>
            from body in bodies
            from type in Gen.Frequency((3, Gen.Constant<string?>(own)), (1, ContentTypes))
            select (type, body);

        return Gen.OneOf(
            // Random bytes of any size.
            Typed("application/octet-stream", Size.SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), Math.Min(n, 2048))
                .Select(bytes => n <= 2048 ? bytes : [.. Enumerable.Repeat(bytes, n / Math.Max(bytes.Length, 1) + 1).SelectMany(b => b).Take(n)]))),
            // A form of hostile fields, sometimes many, sometimes with one huge value.
            Typed("application/x-www-form-urlencoded",
                from count in Gen.Frequency((6, Gen.Choose(0, 12)), (2, Gen.Choose(1000, 1100)))
                from keys in Gen.ArrayOf(Gen.OneOf(Gen.Elements("email", "magnet", "timezone", "referrer", "utm_campaign", "utm_source",
                    "website", "List-Unsubscribe", "__RequestVerificationToken"), Text), count)
                from values in Gen.ArrayOf(Text, count)
                from huge in Gen.Frequency((4, Gen.Constant(0)), (1, Size))
                select Encoding.UTF8.GetBytes("List-Unsubscribe=One-Click&" + new string('x', huge) + "&"
                    + string.Join('&', keys.Zip(values, (k, v) => Uri.EscapeDataString(k) + "=" + Uri.EscapeDataString(v))))),
            // Multipart bodies, well formed or cut short.
            Typed("multipart/form-data; boundary=b",
                from value in Text
                from cut in Gen.Choose(0, 3)
                let whole = $"--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{value}\r\n--b--\r\n"
                select Encoding.UTF8.GetBytes(whole[..(whole.Length - cut * 5)])),
            // JSON, valid or not, of the page-view shape and others.
            Typed("application/json",
                from url in Text
                from title in Text
                from shape in Gen.Choose(0, 4)
                select Encoding.UTF8.GetBytes(shape switch
                {
                    0 => JsonSerializer.Serialize(new { url, title, referrer = title }),
                    1 => JsonSerializer.Serialize(new { url = 42, title = new[] { 1 } }),
                    2 => "{\"url\":",
                    3 => "[" + new string('[', 200),
                    _ => JsonSerializer.Serialize(new { id = url, type = "payment_intent.succeeded", created = long.MaxValue }),
                })));
    }

    private static readonly Gen<(string, string)> Header = Gen.OneOf(
        from v in Text select ("Referer", v),
        from v in Text select ("Cookie", "funnel_vid=" + v),
        from v in Text select ("Funnel-Signature", v),
        from v in Text select ("Stripe-Signature", v),
        from v in Text select ("X-Forwarded-For", v),
        from v in Text select ("Accept", v));

    public static Gen<FuzzRequest> Requests() =>
        from endpoint in Gen.Elements(Endpoints)
        from token in Text
        from body in Gen.Frequency((1, Gen.Constant<(string?, byte[])?>(null)), (5, Bodies().Select(b => ((string?, byte[])?)b)))
        from headerCount in Gen.Choose(0, 3)
        from headers in Gen.ArrayOf(Header, headerCount)
        from antiforgery in Gen.Elements(true, false)
        select new FuzzRequest(
            endpoint.Method,
            // A NUL in the path never reaches an app: Kestrel refuses the request line (and the test host throws).
            endpoint.Path.Replace("{t}", Uri.EscapeDataString(token.Length == 0 ? "x" : token.Replace('\0', '0')), StringComparison.Ordinal),
            body?.Item1,
            endpoint.Method == "GET" ? null : body?.Item2,
            headers,
            antiforgery);
}

public sealed class EndpointFuzzTests
{
    [Fact]
    public async Task EveryEndpoint_HostileRequests_NeverA5xxAlwaysAProblemOn4xxAndNothingStoredOnRejection()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string antiforgery = await WebShopFactory.AntiforgeryTokenAsync(client);
        IFunnelEventLog log = shop.Services.GetRequiredService<IFunnelEventLog>();
        IWebhookEventStore webhooks = shop.Services.GetRequiredService<IWebhookEventStore>();
        FuzzRequest[] requests = FuzzArbitraries.Requests().Sample(400, 50);
        long position = await LastPositionAsync(log);
        var statuses = new Dictionary<int, int>();

        foreach (FuzzRequest fuzz in requests)
        {
            int webhooksBefore = await CountAsync(webhooks);
            using HttpRequestMessage request = Build(fuzz, antiforgery);
            using HttpResponseMessage response = await client.SendAsync(request);
            int status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;

            status.ShouldBeLessThan(500, $"{fuzz}\n{await response.Content.ReadAsStringAsync()}");
            long now = await LastPositionAsync(log);
            if (status >= 400)
            {
                response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", $"{status} {fuzz}");
                using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                problem.RootElement.GetProperty("status").GetInt32().ShouldBe(status, fuzz.ToString());
                now.ShouldBe(position, $"a rejected request stored events: {status} {fuzz}");
                (await CountAsync(webhooks)).ShouldBe(webhooksBefore, $"a rejected webhook was stored: {fuzz}");
            }

            position = now;
        }

        shop.Logs.Entries.ShouldNotContain(e => e.Level >= LogLevel.Error, string.Join("\n", shop.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Take(3)));
        // The generators reach past the first checks: some 4xx of several kinds, not only one status.
        statuses.Values.Sum().ShouldBe(requests.Length);
        statuses.Keys.Count(s => s is >= 400 and < 500).ShouldBeGreaterThanOrEqualTo(3, string.Join(", ", statuses));
    }

    private static HttpRequestMessage Build(FuzzRequest fuzz, string antiforgery)
    {
        var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), new Uri(fuzz.Path, UriKind.Relative));
        if (fuzz.Body is { } body)
        {
            byte[] bytes = fuzz.WithAntiforgery && fuzz.ContentType == "application/x-www-form-urlencoded"
                ? [.. Encoding.ASCII.GetBytes("__RequestVerificationToken=" + Uri.EscapeDataString(antiforgery) + "&"), .. body]
                : body;
            request.Content = new ByteArrayContent(bytes);
            if (fuzz.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        foreach ((string name, string value) in fuzz.Headers)
        {
            // A header value the client itself refuses (a line break) never reaches a server.
            if (!value.Any(c => c is '\r' or '\n' or '\0') && !value.Any(c => c > 0x7F))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    private static async Task<long> LastPositionAsync(IFunnelEventLog log)
    {
        long position = 0;
        for (IReadOnlyList<LoggedEvent> page; (page = await log.ReadAsync(position, 1_000)).Count > 0;)
        {
            position = page[^1].Position;
        }

        return position;
    }

    private static async Task<int> CountAsync(IWebhookEventStore store)
    {
        int count = 0;
        foreach (WebhookEventStatus status in Enum.GetValues<WebhookEventStatus>())
        {
            count += (await store.ListAsync(status, 10_000)).Length;
        }

        return count;
    }
}
