using FluentValidation;
using Funnel.AspNetCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    /// before or after), <c>AddAntiforgery()</c>, <c>AddProblemDetails()</c> and <c>AddHealthChecks()</c> with a
    /// check named <c>funnel</c>, and registers, unless already registered: an <see cref="IFunnelEventSink"/>
    /// (<see cref="InMemoryFunnelEventSink"/>), the <see cref="FunnelEventRecorder"/>, <see cref="TimeProvider.System"/>
    /// and the hosted service that runs every <see cref="IFunnelJob"/>.
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
        services.AddOptions<FunnelAspNetCoreOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelAspNetCoreOptions>, AspNetCoreOptionsValidation>());
        services.AddAntiforgery();
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<FunnelHealthCheck>("funnel", tags: ["funnel"]);
        services.TryAddSingleton<InMemoryFunnelEventSink>();
        services.TryAddSingleton<IFunnelEventSink>(sp => sp.GetRequiredService<InMemoryFunnelEventSink>());
        services.TryAddSingleton<FunnelEventRecorder>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FunnelJobStatus>();
        services.AddHostedService<FunnelJobRunner>();
        return services;
    }

    /// <summary>Registers a background job for the hosted job runner.</summary>
    /// <remarks>The job is a singleton; registering the same type again adds nothing.</remarks>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelJob<TJob>(this IServiceCollection services)
        where TJob : class, IFunnelJob
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFunnelJob, TJob>());
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelAspNetCore"/> ran.</summary>
    private sealed class AspNetCoreMarker;

    /// <summary>Validates <see cref="FunnelAspNetCoreOptions"/> with FluentValidation.</summary>
    private sealed class AspNetCoreOptionsValidation : IValidateOptions<FunnelAspNetCoreOptions>
    {
        private static readonly FunnelAspNetCoreOptionsValidator Validator = new();

        public ValidateOptionsResult Validate(string? name, FunnelAspNetCoreOptions options)
        {
            if (name is not null && name != Options.Options.DefaultName)
            {
                return ValidateOptionsResult.Skip;
            }

            ArgumentNullException.ThrowIfNull(options);
            FluentValidation.Results.ValidationResult result = Validator.Validate(options);
            return result.IsValid
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(result.Errors.Select(e => $"{nameof(FunnelAspNetCoreOptions)}.{e.PropertyName}: {e.ErrorMessage}"));
        }
    }
}
