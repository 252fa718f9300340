using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore;

/// <summary>One of the two per-client rate limits of <see cref="FunnelRateLimitOptions"/>, answering 429 with a ProblemDetails.</summary>
/// <param name="forms"><see langword="true"/> for <see cref="FunnelRateLimitOptions.FormsPolicy"/>, else <see cref="FunnelRateLimitOptions.TrackingPolicy"/>.</param>
/// <param name="options">The options, read when a client's limiter is created.</param>
internal sealed class FunnelRateLimitPolicy(bool forms, IOptions<FunnelAspNetCoreOptions> options) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask> OnRejected => RejectAsync;

    private string Name => forms ? FunnelRateLimitOptions.FormsPolicy : FunnelRateLimitOptions.TrackingPolicy;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        FunnelRateLimitOptions limits = options.Value.RateLimits;
        if (!limits.Enabled)
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        string client = httpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        int permits = forms ? limits.FormPermitLimit : limits.TrackingPermitLimit;
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = limits.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        HttpContext http = context.HttpContext;
        int? retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan wait) ? (int)Math.Ceiling(wait.TotalSeconds) : null;
        if (retryAfter is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        FunnelDiagnostics.RateLimited.Add(1, new KeyValuePair<string, object?>("funnel.policy", Name));
        await Results.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests.",
            detail: retryAfter is { } s ? $"This client sent too many requests; try again in {s} s." : "This client sent too many requests; try again later.")
            .ExecuteAsync(http).ConfigureAwait(false);
    }
}
