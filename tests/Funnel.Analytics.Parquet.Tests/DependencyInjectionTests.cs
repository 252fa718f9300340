using Funnel.Analytics.Parquet;
using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Funnel.Analytics.Parquet.Tests;

public sealed class DependencyInjectionTests
{
    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddFunnelEventTypes(typeof(FunnelEvent).Assembly);
        return services;
    }

    [Fact]
    public void AddFunnelParquetExport_ValidOptions_ResolvesOneExporter()
    {
        ServiceCollection services = Services();
        services.AddFunnelParquetExport(o => o.Directory = "exports");
        services.AddFunnelParquetExport(o => o.RowGroupSize = 10);
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ParquetEventExporter>().ShouldBeSameAs(provider.GetRequiredService<ParquetEventExporter>());
        services.Count(d => d.ServiceType == typeof(ParquetEventExporter)).ShouldBe(1);
        provider.GetRequiredService<IOptions<ParquetExportOptions>>().Value.ShouldSatisfyAllConditions(
            o => o.Directory.ShouldBe("exports"),
            o => o.RowGroupSize.ShouldBe(10));
    }

    [Fact]
    public void AddFunnelParquetExport_MissingDirectory_FailsAtStartNamingTheField()
    {
        ServiceCollection services = Services();
        services.AddFunnelParquetExport(o => o.MaxOpenDays = 0);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException e = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        e.Failures.ShouldContain(f => f.StartsWith("ParquetExportOptions.Directory:", StringComparison.Ordinal));
        e.Failures.ShouldContain(f => f.StartsWith("ParquetExportOptions.MaxOpenDays:", StringComparison.Ordinal));
    }

    [Fact]
    public void AddFunnelParquetExport_NullArguments_Throw()
    {
        Should.Throw<ArgumentNullException>(() => ((IServiceCollection)null!).AddFunnelParquetExport(_ => { }));
        Should.Throw<ArgumentNullException>(() => Services().AddFunnelParquetExport(null!));
    }
}
