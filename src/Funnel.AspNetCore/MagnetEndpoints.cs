using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.AspNetCore;

/// <summary>Builds and checks the signed, expiring download links of lead magnets, and records deliveries.</summary>
/// <remarks>
/// <para>
/// A link is <c>{site}{prefix}/magnets/{key}/download?lead={id}&amp;exp={unix seconds}&amp;sig={signature}</c>, where
/// the signature is the base64url HMAC-SHA256 of the magnet key, the lead id and the expiry under the
/// <see cref="Email.TrackingOptions.SigningKey"/> of <see cref="SequenceOptions.Tracking"/>, the key that signs the
/// tracking links (the signed text starts with its own label, so neither kind of token passes for the other).
/// </para>
/// <para>
/// Without a tracking key, a magnet with an <see cref="LeadMagnet.AssetUrl"/> is delivered with that URL as it is
/// (no expiry, no <c>magnet_downloaded</c>); one with an <see cref="LeadMagnet.AssetFile"/> fails validation at
/// start-up.
/// </para>
/// </remarks>
internal sealed class MagnetDownloads
{
    /// <summary>The name of the download endpoint, from which the links are built.</summary>
    internal const string EndpointName = "FunnelMagnetDownload";

    private const string Label = "funnel-magnet-download";
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private readonly byte[]? _key;
    private readonly IOptions<FunnelAspNetCoreOptions> _options;

    public MagnetDownloads(IOptions<SequenceOptions> sequences, IOptions<FunnelAspNetCoreOptions> options)
    {
        _key = sequences.Value.Tracking?.SigningKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;
        _options = options;
    }

    /// <summary>Gets whether links can be signed (a tracking key is configured).</summary>
    public bool CanSign => _key is not null;

    /// <summary>Finds a configured magnet by key.</summary>
    public LeadMagnet? Find(string? key) => key is null
        ? null
        : _options.Value.LeadMagnets.FirstOrDefault(m => m is not null && string.Equals(m.Key, key, StringComparison.Ordinal));

    /// <summary>The link the delivery email carries, or <see langword="null"/> when there is nothing to deliver.</summary>
    public string? DownloadUrl(HttpContext context, LeadMagnet magnet, LeadId lead, Instant now)
    {
        if (!magnet.HasAsset)
        {
            return null;
        }

        if (_key is null)
        {
            // Validation at start-up refuses a file magnet without a key: only an external URL gets here.
            return magnet.AssetUrl?.AbsoluteUri;
        }

        long expires = (now + Duration.FromTimeSpan(_options.Value.MagnetLinkLifetime)).ToUnixTimeSeconds();
        RouteValueDictionary values = new()
        {
            ["key"] = magnet.Key,
            ["lead"] = lead.Value.ToString("N"),
            ["exp"] = expires.ToString(CultureInfo.InvariantCulture),
            ["sig"] = Sign(magnet.Key, lead.Value, expires),
        };
        string path = context.RequestServices.GetRequiredService<LinkGenerator>().GetPathByName(context, EndpointName, values)
            ?? throw new InvalidOperationException("The Funnel magnet download endpoint is not mapped; call MapFunnel.");
        return FunnelEndpoints.SiteOf(context, _options.Value.PublicOrigin) + path;
    }

    /// <summary>Records the delivery of <paramref name="magnet"/> to <paramref name="lead"/>.</summary>
    /// <remarks>The id derives from the event that completed the opt-in, so a retried request records it once.</remarks>
    public async Task RecordDeliveryAsync(
        HttpContext context,
        FunnelEventRecorder recorder,
        LeadMagnet magnet,
        LeadId lead,
        FunnelEvent cause,
        CancellationToken cancellationToken)
    {
        if (DownloadUrl(context, magnet, lead, cause.OccurredAt) is not { } url)
        {
            return;
        }

        var delivery = new LeadMagnetDeliveryRequested
        {
            Id = EventId.Derive(cause.Id, EventTypes.MagnetDeliveryRequested + ":" + magnet.Key),
            LeadId = lead,
            OccurredAt = cause.OccurredAt,
            Attribution = cause is LeadEvent leadEvent ? leadEvent.Attribution : Attribution.None,
            Magnet = magnet.Key,
            MagnetTitle = magnet.Title,
            DownloadUrl = url,
        };
        await recorder.RecordAsync([delivery], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks a link's signature in constant time.</summary>
    public bool Verify(string key, Guid lead, long expires, string signature)
    {
        if (_key is null || signature.Length > 64)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Base64Url.DecodeFromChars(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Mac(key, lead, expires), given);
    }

    /// <summary>The media type of a magnet's file: the configured one, else by extension, else a byte stream.</summary>
    public static string ContentTypeOf(LeadMagnet magnet, string fileName) =>
        magnet.AssetContentType
        ?? (ContentTypes.TryGetContentType(fileName, out string? type) ? type : "application/octet-stream");

    private string Sign(string key, Guid lead, long expires) => Base64Url.EncodeToString(Mac(key, lead, expires));

    private byte[] Mac(string key, Guid lead, long expires)
    {
        string signed = $"{Label}\n{key}\n{lead:N}\n{expires.ToString(CultureInfo.InvariantCulture)}";
        return HMACSHA256.HashData(_key!, Encoding.UTF8.GetBytes(signed));
    }
}

/// <summary>The lead magnet download handler behind <c>MapFunnel</c>.</summary>
internal static class MagnetEndpoints
{
    private const string Title = "The download was rejected.";

    public static async Task<IResult> DownloadAsync(
        HttpContext context,
        string key,
        [FromQuery] string? lead,
        [FromQuery] string? exp,
        [FromQuery] string? sig,
        [FromServices] MagnetDownloads downloads,
        [FromServices] FunnelEventRecorder recorder,
        [FromServices] TrackingDeduplication dedup,
        [FromServices] IClock clock,
        [FromServices] IOptions<FunnelAspNetCoreOptions> options,
        CancellationToken cancellationToken)
    {
        using Activity? activity = FunnelDiagnostics.Source.StartActivity("funnel.magnet.download");
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Guid.TryParseExact(lead, "N", out Guid leadId) || leadId == Guid.Empty)
        {
            errors["lead"] = [string.IsNullOrEmpty(lead)
                ? "The lead is required."
                : "The lead must be a lead id of 32 hexadecimal digits."];
        }

        if (!long.TryParse(exp, NumberStyles.None, CultureInfo.InvariantCulture, out long expires))
        {
            errors["exp"] = [string.IsNullOrEmpty(exp)
                ? "The expiry is required."
                : "The expiry must be a number of seconds since 1970."];
        }

        if (string.IsNullOrEmpty(sig))
        {
            errors["sig"] = ["The signature is required."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: Title);
        }

        if (downloads.Find(key) is not { HasAsset: true } magnet)
        {
            return Problem(StatusCodes.Status404NotFound, "key", $"There is no lead magnet '{key}' to download.");
        }

        activity?.SetTag("funnel.magnet", magnet.Key);
        if (!downloads.Verify(magnet.Key, leadId, expires, sig!))
        {
            activity?.SetTag("funnel.valid", false);
            return Problem(
                StatusCodes.Status403Forbidden, "sig", "The download link is invalid: it was changed or not issued by this site.");
        }

        Instant now = clock.GetCurrentInstant();
        if (expires > Instant.MaxValue.ToUnixTimeSeconds() || now >= Instant.FromUnixTimeSeconds(expires))
        {
            activity?.SetTag("funnel.expired", true);
            return Problem(
                StatusCodes.Status410Gone, "exp", "The download link expired; ask for the lead magnet again to get a new link.");
        }

        IFileInfo? file = null;
        if (magnet.AssetFile is { } path)
        {
            file = options.Value.MagnetFiles?.GetFileInfo(path);
            if (file is null || !file.Exists || file.IsDirectory)
            {
                // The host's files, not the link, are at fault: say so without naming a path.
                return Problem(
                    StatusCodes.Status404NotFound, "key", $"The file of lead magnet '{magnet.Key}' is missing; please tell the site owner.");
            }
        }

        var downloaded = new LeadMagnetDownloaded
        {
            Id = dedup.IdOf(new LeadId(leadId), "downloaded", magnet.Key, now),
            LeadId = new LeadId(leadId),
            OccurredAt = now,
            Magnet = magnet.Key,
        };
        await EmailTrackingEndpoints.RecordOnceAsync(recorder, downloaded, cancellationToken).ConfigureAwait(false);
        context.Response.Headers.CacheControl = "private, no-store";
        if (file is null)
        {
            return Results.Redirect(magnet.AssetUrl!.AbsoluteUri);
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Stream(
            file.CreateReadStream(),
            MagnetDownloads.ContentTypeOf(magnet, file.Name),
            fileDownloadName: file.Name,
            lastModified: file.LastModified);
    }

    private static IResult Problem(int status, string field, string message) => Results.ValidationProblem(
        new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, statusCode: status, title: Title);
}

/// <summary>Fails the start when a lead magnet serves a file but no tracking key can sign its download links.</summary>
internal sealed class MagnetSigningValidation(IOptions<SequenceOptions> sequences)
    : IValidateOptions<FunnelAspNetCoreOptions>
{
    public ValidateOptionsResult Validate(string? name, FunnelAspNetCoreOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        LeadMagnet? file = options.LeadMagnets.FirstOrDefault(m => m?.AssetFile is not null);
        return file is not null && sequences.Value.Tracking?.SigningKey is not { Length: > 0 }
            ? ValidateOptionsResult.Fail(
                $"Lead magnet '{file.Key}' serves an asset file, whose download links are signed with "
                + "SequenceOptions.Tracking.SigningKey: configure SequenceOptions.Tracking.")
            : ValidateOptionsResult.Success;
    }
}
