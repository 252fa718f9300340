using FluentValidation;
using Funnel.Analytics.Parquet;
using Funnel.DependencyInjection;
using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Funnel;

/// <summary>Registers the export of the event log to Parquet files.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class ParquetExportServiceCollectionExtensions
{
    /// <summary>Adds a <see cref="ParquetEventExporter"/> singleton writing into the configured folder.</summary>
    /// <remarks>
    /// <para>
    /// The exporter uses the <see cref="FunnelEventSerializer"/> that <c>AddFunnel</c> (through
    /// <c>AddFunnelEventTypes</c>) registers; export the registered <see cref="Pipeline.IFunnelEventLog"/> with
    /// <see cref="ParquetEventExporter.ExportAsync"/>, for example from a scheduled job.
    /// </para>
    /// <para>
    /// The options are validated at start-up (<c>ValidateOnStart</c>), or without a host when the exporter is first
    /// resolved; a failure names the field, such as <c>ParquetExportOptions.Directory</c>. Calling this method again
    /// adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the folder and limits.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelParquetExport(
        this IServiceCollection services, Action<ParquetExportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ParquetExportOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(ParquetExportMarker)))
        {
            return services;
        }

        services.AddSingleton<ParquetExportMarker>();
        services.AddOptions<ParquetExportOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<ParquetExportOptions>, ParquetExportOptionsValidator>();
        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<ParquetExportOptions>, FluentValidateOptions<ParquetExportOptions>>());
        services.TryAddSingleton(sp => new ParquetEventExporter(
            sp.GetRequiredService<FunnelEventSerializer>(),
            sp.GetRequiredService<IOptions<ParquetExportOptions>>().Value));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelParquetExport"/> ran.</summary>
    private sealed class ParquetExportMarker;
}
