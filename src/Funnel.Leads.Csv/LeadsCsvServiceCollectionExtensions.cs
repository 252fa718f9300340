using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Leads;
using Funnel.Leads.Csv;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel;

/// <summary>Registers CSV import and export of leads.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class LeadsCsvServiceCollectionExtensions
{
    /// <summary>Adds <see cref="LeadCsvImporter"/> and <see cref="LeadCsvExporter"/>, with the default <see cref="LeadCsvOptions"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelLeadsCsv(this IServiceCollection services) => AddFunnelLeadsCsv(services, static _ => { });

    /// <summary>Adds <see cref="LeadCsvImporter"/> and <see cref="LeadCsvExporter"/> as singletons, over the registered lead store and event log.</summary>
    /// <remarks>
    /// <para>
    /// The importer uses the <see cref="ILeadStore"/>, <see cref="IFunnelEventLog"/> and <see cref="IClock"/> that
    /// <c>AddFunnel</c> (or a storage package) registers, and, when <c>AddFunnelPrivacy</c> registered one, the
    /// <see cref="Funnel.Privacy.LeadPrivacyService"/> that rejects the rows of erased addresses. The exporter writes the custom fields
    /// <c>first_name</c> and <c>last_name</c>; build a <see cref="LeadCsvExporter"/> yourself for others.
    /// </para>
    /// <para>
    /// The options are validated at start-up (<c>ValidateOnStart</c>), or without a host when the importer is first
    /// resolved. Calling this method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the limits.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelLeadsCsv(this IServiceCollection services, Action<LeadCsvOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<LeadCsvOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(LeadsCsvMarker)))
        {
            return services;
        }

        services.AddSingleton<LeadsCsvMarker>();
        services.AddOptions<LeadCsvOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<LeadCsvOptions>, LeadCsvOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LeadCsvOptions>, FluentValidateOptions<LeadCsvOptions>>());
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton(sp => new LeadCsvImporter(
            sp.GetRequiredService<ILeadStore>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IOptions<LeadCsvOptions>>().Value,
            sp.GetService<Funnel.Privacy.LeadPrivacyService>()));
        services.TryAddSingleton(_ => new LeadCsvExporter(new LeadCsvExportOptions()));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelLeadsCsv(IServiceCollection, Action{LeadCsvOptions})"/> ran.</summary>
    private sealed class LeadsCsvMarker;
}
