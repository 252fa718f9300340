using System.Reflection;
using Funnel.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <content>Registers event types for the event JSON contract.</content>
public static partial class FunnelServiceCollectionExtensions
{
    /// <summary>Registers the public event records of an assembly, and the <see cref="FunnelEventTypes"/> and <see cref="FunnelEventSerializer"/> built from all registered assemblies.</summary>
    /// <remarks>
    /// <c>AddFunnel</c> calls it for Funnel.Core; each package or application that defines events calls it for its
    /// own assembly. Calling it again with the same assembly registers nothing twice. The registry is built (and an
    /// event type declared wrongly, or a name declared twice, throws) when it is first resolved. To add upcasters,
    /// register your own <see cref="FunnelEventTypes"/> built with a <see cref="FunnelEventTypesBuilder"/>.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="assembly">The assembly that defines event records, such as <c>typeof(QuizCompleted).Assembly</c>.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelEventTypes(this IServiceCollection services, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(assembly);

        if (!services.Any(d => d.ServiceType == typeof(EventAssembly) && d.ImplementationInstance is EventAssembly a && a.Assembly == assembly))
        {
            services.AddSingleton(new EventAssembly(assembly));
        }

        services.TryAddSingleton(static sp => FunnelEventTypes.FromAssemblies(sp.GetServices<EventAssembly>().Select(a => a.Assembly)));
        services.TryAddSingleton(static sp => new FunnelEventSerializer(sp.GetRequiredService<FunnelEventTypes>()));
        return services;
    }

    /// <summary>An assembly whose event records are registered.</summary>
    private sealed record EventAssembly(Assembly Assembly);
}
