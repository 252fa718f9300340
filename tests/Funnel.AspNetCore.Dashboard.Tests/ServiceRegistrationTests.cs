using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class ServiceRegistrationTests
{
    [Fact]
    public void AddFunnelDashboard_CalledTwice_KeepsBothConfigurationsAndOneValidator()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IHostEnvironment>(new Environment("Production"));

        services.AddFunnelDashboard(o => o.AuthorizationPolicy = "ops");
        services.AddFunnelDashboard(o => o.PageSize = 20);

        services.Count(d => d.ServiceType == typeof(IValidateOptions<FunnelDashboardOptions>)).ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        FunnelDashboardOptions options = provider.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value;
        (options.AuthorizationPolicy, options.PageSize, options.ReadOnly, options.MaxReportEvents).ShouldBe(("ops", 20, false, 100_000));
        options.FiguresWait.ShouldBe(TimeSpan.FromSeconds(2));
        options.ReadFiguresAtStart.ShouldBeTrue();
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1_001, 1)]
    [InlineData(50, 0)]
    public void Options_OutOfRange_FailNamingTheOption(int pageSize, int maxReportEvents)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IHostEnvironment>(new Environment("Production"));
        services.AddFunnelDashboard(o =>
        {
            o.AuthorizationPolicy = "ops";
            o.PageSize = pageSize;
            o.MaxReportEvents = maxReportEvents;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value);

        error.Message.ShouldContain(pageSize is < 1 or > 1_000 ? "FunnelDashboardOptions.PageSize" : "FunnelDashboardOptions.MaxReportEvents");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(60_001)]
    public void Options_FiguresWaitOutOfRange_FailsNamingTheOption(int milliseconds)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IHostEnvironment>(new Environment("Production"));
        services.AddFunnelDashboard(o =>
        {
            o.AuthorizationPolicy = "ops";
            o.FiguresWait = TimeSpan.FromMilliseconds(milliseconds);
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value);

        error.Message.ShouldContain("FunnelDashboardOptions.FiguresWait");
    }

    [Fact]
    public void Options_EmptyExperimentGoal_FailsNamingTheOption()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IHostEnvironment>(new Environment("Production"));
        services.AddFunnelDashboard(o =>
        {
            o.AuthorizationPolicy = "ops";
            o.ExperimentGoal = "";
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value);

        error.Message.ShouldContain("FunnelDashboardOptions.ExperimentGoal");
        new FunnelDashboardOptions().ExperimentGoal.ShouldBe("order_placed");
    }

    [Fact]
    public void AddFunnelDashboard_NullArguments_Throw()
    {
        Should.Throw<ArgumentNullException>(() => ((IServiceCollection)null!).AddFunnelDashboard(_ => { }));
        Should.Throw<ArgumentNullException>(() => new ServiceCollection().AddFunnelDashboard(null!));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
            new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
