using FluentValidation;
using Funnel.AspNetCore;
using Funnel.DependencyInjection;
using Funnel.Email;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel ASP.NET Core services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class FunnelAspNetCoreServiceCollectionExtensions
{
    /// <summary>Adds what <c>MapFunnel</c> needs: the core services, the event recorder, antiforgery, ProblemDetails, the job runner and the health check.</summary>
    /// <remarks>
    /// <para>
    /// Calls <c>AddFunnel()</c> (configure <see cref="Funnel.FunnelOptions"/> with your own <c>AddFunnel(...)</c> call,
    /// before or after), <c>AddFunnelSequences()</c> (the email tracking endpoints read its options), <c>AddAntiforgery()</c>, <c>AddProblemDetails()</c> and <c>AddFunnelHosting()</c> (the
    /// event pipeline and the job runner as hosted services, with the <c>funnel</c> and <c>funnel-pipeline</c> health
    /// checks), and registers, unless already registered: the <see cref="FunnelEventRecorder"/> (over the
    /// <see cref="IFunnelEventLog"/>), the <c>metrics</c> pipeline handler that counts every logged event in the
    /// <c>Funnel</c> meter, and <see cref="TimeProvider.System"/>.
    /// </para>
    /// <para>
    /// <see cref="FunnelAspNetCoreOptions"/> are validated when the host starts. Calling this method again adds
    /// the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelAspNetCore(this IServiceCollection services, Action<FunnelAspNetCoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FunnelAspNetCoreOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(AspNetCoreMarker)))
        {
            return services;
        }

        services.AddSingleton<AspNetCoreMarker>();
        services.AddFunnel();
        services.AddFunnelSequences();
        services.AddOptions<FunnelAspNetCoreOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<FunnelAspNetCoreOptions>, FunnelAspNetCoreOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelAspNetCoreOptions>, FluentValidateOptions<FunnelAspNetCoreOptions>>());
        services.AddAntiforgery();
        services.AddProblemDetails();
        services.AddFunnelHandler<FunnelMetricsHandler>("metrics");
        services.TryAddSingleton<FunnelEventRecorder>();
        services.TryAddSingleton<TrackingDeduplication>();
        services.TryAddSingleton(sp => new EmailPreferences(
            sp.GetServices<Funnel.Email.EmailTopic>(), sp.GetServices<Funnel.Sequences.SequenceDefinition>(), sp.GetService<Funnel.Sequences.IBroadcastStore>()));
        services.TryAddSingleton<MagnetDownloads>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelAspNetCoreOptions>, MagnetSigningValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new EmailTracking(
            sp.GetRequiredService<IOptions<SequenceOptions>>().Value.Tracking is { } tracking ? new TrackingLinks(tracking) : null));
        services.AddFunnelHosting();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<FunnelAspNetCoreOptions>>((o, funnel) =>
        {
            o.AddPolicy(FunnelRateLimitOptions.FormsPolicy, new FunnelRateLimitPolicy(forms: true, funnel));
            o.AddPolicy(FunnelRateLimitOptions.TrackingPolicy, new FunnelRateLimitPolicy(forms: false, funnel));
        });
        return services;
    }

    /// <summary>Accepts a payment provider's webhooks at <c>POST {prefix}/webhooks/{provider}</c> and retries the ones whose processing failed.</summary>
    /// <remarks>
    /// <para>
    /// Registers a <see cref="WebhookProcessor"/> keyed by <paramref name="provider"/> that verifies requests with
    /// <paramref name="verifier"/> (by default the registered <see cref="IWebhookSignatureVerifier"/>, such as the one
    /// <c>AddFunnelStripe</c> adds) and shares the <see cref="IWebhookEventStore"/> and <see cref="PaymentService"/>
    /// (which needs an <see cref="IPaymentGateway"/>), through <c>AddFunnelWebhookProcessor(provider, verifier)</c> of
    /// Funnel.Commerce, which also adds the job that retries the provider's failed events every minute and declares the
    /// prerequisites a host must register (a catalogue, an offer path, an entitlement grantor, a payment gateway and a
    /// signature verifier): a host without one fails at start-up naming it. The processor records the events it causes
    /// in the event log itself.
    /// </para>
    /// <para>Calling it again for the same provider registers nothing more.</para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="provider">The provider's name in the URL, such as <c>stripe</c>: lowercase letters, digits and <c>-</c>.</param>
    /// <param name="verifier">Creates the provider's verifier; <see langword="null"/> uses the registered <see cref="IWebhookSignatureVerifier"/>.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="provider"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="provider"/> is empty or has other characters.</exception>
    public static IServiceCollection AddFunnelPaymentWebhooks(this IServiceCollection services, string provider, Func<IServiceProvider, IWebhookSignatureVerifier>? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.Length == 0 || provider.Length > 64 || !provider.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
        {
            throw new ArgumentException($"The provider name '{provider}' must be 1 to 64 lowercase letters, digits or '-'.", nameof(provider));
        }

        services.AddFunnelWebhookProcessor(provider, verifier);
        if (!services.Any(d => d.ServiceType == typeof(WebhooksHealthMarker)))
        {
            services.AddSingleton<WebhooksHealthMarker>();
            services.AddHealthChecks().AddCheck<FunnelWebhooksHealthCheck>("funnel-webhooks", HealthStatus.Degraded, tags: ["funnel"]);
        }

        return services;
    }

    /// <summary>Marks that the <c>funnel-webhooks</c> health check is registered.</summary>
    private sealed class WebhooksHealthMarker;

    /// <summary>Marks that <see cref="AddFunnelAspNetCore"/> ran.</summary>
    private sealed class AspNetCoreMarker;
}
