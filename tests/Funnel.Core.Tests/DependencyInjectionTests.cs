using FluentValidation;
using Funnel.Definitions;
using Funnel.Kpis;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests;

public class DependencyInjectionTests
{
    [Fact]
    public void AddFunnel_RegistersTheCoreServices()
    {
        using ServiceProvider provider = new ServiceCollection()
            .AddFunnel(o => o.DefaultCurrency = "EUR")
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        provider.GetRequiredService<IClock>().ShouldBe(SystemClock.Instance);
        provider.GetRequiredService<IDateTimeZoneProvider>().ShouldBe(DateTimeZoneProviders.Tzdb);
        provider.GetRequiredService<IValidator<FunnelDefinition>>().ShouldBeOfType<FunnelDefinitionValidator>();
        provider.GetRequiredService<LeadLifecycle>().ShouldBe(LeadLifecycle.Default);
        provider.GetRequiredService<ICustomerLifetimeValueModel>().ShouldBeOfType<SimpleCustomerLifetimeValueModel>();
        IFunnelReporter reporter = provider.GetRequiredService<IFunnelReporter>();
        reporter.CreateReport(Kpis.FunnelReporterTests.Funnel, []).Currency.ShouldBe(Currency.EUR);
    }

    [Fact]
    public void AddFunnel_KeepsServicesRegisteredBefore()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 1, 1, 0, 0));
        var model = new MarginChurnCustomerLifetimeValueModel(0.8m, 0.1m);
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton<ICustomerLifetimeValueModel>(model)
            .AddFunnel()
            .BuildServiceProvider();

        provider.GetRequiredService<IClock>().ShouldBeSameAs(clock);
        provider.GetRequiredService<ICustomerLifetimeValueModel>().ShouldBeSameAs(model);
    }

    [Fact]
    public void AddFunnel_ReporterUsesTheRegisteredLifecycle()
    {
        var everyoneIsALead = new LeadLifecycle([new LifecycleRule(EventMatch.For(Funnel.Events.EventTypes.PageViewed), LifecycleStage.Lead)]);
        using ServiceProvider provider = new ServiceCollection().AddSingleton(everyoneIsALead).AddFunnel().BuildServiceProvider();

        FunnelReport report = provider.GetRequiredService<IFunnelReporter>().CreateReport(Kpis.FunnelReporterTests.Funnel, [TestEvents.View(1, 0)]);

        report.Lifecycle[LifecycleStage.Lead].ShouldBe(1);
    }

    [Fact]
    public void AddFunnel_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection()
            .AddFunnel(o => o.DefaultCurrency = "GBP")
            .AddFunnel(o => o.TimeZoneId = "Europe/London");

        services.Count(d => d.ServiceType == typeof(IFunnelReporter)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<FunnelOptions>)).ShouldBe(2); // the options validator and the prerequisites check
        using ServiceProvider provider = services.BuildServiceProvider();
        FunnelOptions options = provider.GetRequiredService<IOptions<FunnelOptions>>().Value;
        (options.DefaultCurrency, options.TimeZoneId).ShouldBe(("GBP", "Europe/London"));
    }

    [Fact]
    public void AddFunnel_NullArguments_Throw()
    {
        Should.Throw<ArgumentNullException>(() => FunnelServiceCollectionExtensions.AddFunnel(null!));
        Should.Throw<ArgumentNullException>(() => new ServiceCollection().AddFunnel(null!));
    }

    [Fact]
    public void Options_Invalid_FailNamingEveryBadField()
    {
        using ServiceProvider provider = new ServiceCollection()
            .AddFunnel(o =>
            {
                o.DefaultCurrency = "DOLLARS";
                o.TimeZoneId = "Mars/Olympus_Mons";
                o.BounceWindow = Duration.Zero;
                o.CustomerLifespanPeriods = -1m;
            })
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelOptions>>().Value);

        error.Failures.Count().ShouldBe(4);
        error.Message.ShouldContain("FunnelOptions.DefaultCurrency: 'DOLLARS' is not an ISO 4217 currency code");
        error.Message.ShouldContain("FunnelOptions.TimeZoneId: 'Mars/Olympus_Mons' is not a known IANA time zone id");
        error.Message.ShouldContain("FunnelOptions.BounceWindow");
        error.Message.ShouldContain("FunnelOptions.CustomerLifespanPeriods");
    }

    [Fact]
    public async Task Options_Invalid_StopTheHostAtStartUp()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFunnel(o => o.DefaultCurrency = "XYZ");
        using IHost host = builder.Build();

        var error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain("DefaultCurrency");
    }

    [Fact]
    public async Task Options_Valid_StartTheHost()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFunnel(o => o.TimeZoneId = "America/New_York");
        using IHost host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void OptionsValidator_NamedOptions_AreSkipped()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnel(o => o.DefaultCurrency = "nope").BuildServiceProvider();
        var validator = provider.GetRequiredService<IValidateOptions<FunnelOptions>>();

        validator.Validate("other", new FunnelOptions { DefaultCurrency = "nope" }).Skipped.ShouldBeTrue();
        validator.Validate(Options.DefaultName, new FunnelOptions()).Succeeded.ShouldBeTrue();
    }
}
