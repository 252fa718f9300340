using Funnel.Sequences;
using Funnel.DependencyInjection;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel.Sequences services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SequencesServiceCollectionExtensions
{
    /// <summary>Adds the email sequence services.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: in-memory enrolment and outbox stores, the placeholder template renderer,
    /// validated <see cref="SequenceOptions"/>, a <see cref="SequenceEngine"/> over the <see cref="SequenceDefinition"/>s
    /// and the <see cref="Funnel.Email.IEmailSender"/> you register, and the <c>email-delivery</c> report section
    /// (<see cref="SequenceEmailMetrics.ReportSection"/>).
    /// </para>
    /// <para>
    /// Calls <see cref="FunnelServiceCollectionExtensions.AddFunnel(IServiceCollection)"/> itself, so it may come before
    /// or after <c>AddFunnel(options =&gt; ...)</c>. Calling this method again registers nothing twice. Register your
    /// own services before or after this call to replace any of them.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSequences(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnel();
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        SequencesRegistration.AddSequences(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(SequenceEmailMetrics.ReportSection));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelSequences"/> ran.</summary>
    private sealed class Marker;
}
