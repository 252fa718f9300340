using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Email;
using Funnel.Templates.Liquid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel;

/// <summary>Registers the Liquid template renderer.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class LiquidTemplatesServiceCollectionExtensions
{
    /// <summary>Renders the email templates with Liquid, with the default <see cref="LiquidTemplateOptions"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelLiquidTemplates(this IServiceCollection services) =>
        AddFunnelLiquidTemplates(services, static _ => { });

    /// <summary>Renders the email templates with Liquid (Fluid) instead of the built-in placeholders.</summary>
    /// <remarks>
    /// <para>
    /// Replaces any registered <see cref="ITemplateRenderer"/>, before or after <c>AddFunnel</c>, with the Liquid
    /// renderer, so sequence definitions are validated with it: a Liquid syntax error, an unsupported tag or a
    /// variable that is neither a built-in field nor declared in the definition's <c>Fields</c> fails when the
    /// sequence engine is built (at start-up), naming the sequence, the step and the error with its line and column.
    /// Registers <see cref="IClock"/> (<see cref="SystemClock.Instance"/>) unless already registered.
    /// </para>
    /// <para>
    /// The options are validated at start-up (<c>ValidateOnStart</c>), or without a host when the renderer is first
    /// resolved. Calling this method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the limits.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelLiquidTemplates(this IServiceCollection services, Action<LiquidTemplateOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<LiquidTemplateOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(LiquidMarker)))
        {
            return services;
        }

        services.AddSingleton<LiquidMarker>();
        services.AddOptions<LiquidTemplateOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<LiquidTemplateOptions>, LiquidTemplateOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LiquidTemplateOptions>, FluentValidateOptions<LiquidTemplateOptions>>());
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.RemoveAll<ITemplateRenderer>();
        services.AddSingleton<ITemplateRenderer>(sp => new LiquidTemplateRenderer(
            sp.GetRequiredService<IOptions<LiquidTemplateOptions>>().Value, sp.GetRequiredService<IClock>()));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelLiquidTemplates(IServiceCollection, Action{LiquidTemplateOptions})"/> ran.</summary>
    private sealed class LiquidMarker;
}
