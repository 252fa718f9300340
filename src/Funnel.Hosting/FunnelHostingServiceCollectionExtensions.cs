using Funnel.Hosting;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services that run Funnel in a .NET Generic Host.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class FunnelHostingServiceCollectionExtensions
{
    /// <summary>Runs the Funnel event pipeline and background jobs as hosted services, with health checks and start-up checks.</summary>
    /// <remarks>
    /// <para>
    /// Works in an ASP.NET Core app and in a worker service alike. Calls <c>AddFunnel()</c> and registers, once: the
    /// hosted service that delivers every event in the <see cref="IFunnelEventLog"/> to every registered
    /// <see cref="IFunnelHandler"/> (it creates the handlers when the host starts, so a handler whose dependency is
    /// missing stops the start-up with a message naming it); the job runner that runs every <see cref="IFunnelJob"/>
    /// registered with <c>AddFunnelJob</c> on its interval; a health check named <c>funnel</c> (unhealthy while a job's
    /// last run failed, naming the job and the error) and one named <c>funnel-pipeline</c> (degraded while
    /// events are parked, a handler is retrying, or a Production host runs on in-memory stores), a start-up warning for
    /// in-memory stores in Production, and <see cref="TimeProvider.System"/> unless one is registered.
    /// </para>
    /// <para>
    /// Call it after registering the stores: the in-memory check looks at the registrations present when the
    /// service provider is built. Calling it again registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelHosting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(HostingMarker)))
        {
            return services;
        }

        services.AddSingleton<HostingMarker>();
        services.AddFunnel();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => FunnelStorageCheck.From(services));
        services.AddHostedService<FunnelStartupWarnings>();
        services.AddHostedService<FunnelPipelineService>();
        services.TryAddSingleton<FunnelJobStatus>();
        services.AddHostedService<FunnelJobRunner>();
        services.AddHealthChecks()
            .AddCheck<FunnelJobsHealthCheck>("funnel", tags: ["funnel"])
            .AddCheck<FunnelPipelineHealthCheck>("funnel-pipeline", HealthStatus.Degraded, tags: ["funnel"]);
        return services;
    }

    /// <summary>Registers <see cref="HttpOutgoingWebhookClient"/> as the <see cref="Funnel.Webhooks.IOutgoingWebhookClient"/> that posts the signed webhooks of automation steps.</summary>
    /// <remarks>The options are validated when the host starts: a timeout outside 1 second to 5 minutes stops the start-up naming it.</remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, such as the timeout; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelHttpWebhooks(this IServiceCollection services, Action<HttpWebhookOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<HttpWebhookOptions>()
            .Configure(o => configure?.Invoke(o))
            .Validate(o => o.Timeout >= TimeSpan.FromSeconds(1) && o.Timeout <= TimeSpan.FromMinutes(5), "'HttpWebhookOptions.Timeout' must be from 1 second to 5 minutes.")
            .ValidateOnStart();
        services.TryAddSingleton<Funnel.Webhooks.IOutgoingWebhookClient, HttpOutgoingWebhookClient>();
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelHosting"/> ran.</summary>
    private sealed class HostingMarker;
}
