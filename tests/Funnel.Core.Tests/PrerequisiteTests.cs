using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Funnel.Tests;

public sealed class PrerequisiteTests
{
    [Fact]
    public async Task StartAsync_PrerequisiteMissing_FailsNamingRegistrationServiceAndRemedy()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Services.AddFunnelPrerequisite("AddSomething(\"x\")", typeof(IFormatProvider), "services.AddSingleton<IFormatProvider>(CultureInfo.InvariantCulture)");
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldBe(
            "AddSomething(\"x\") needs a System.IFormatProvider, which is not registered: services.AddSingleton<IFormatProvider>(CultureInfo.InvariantCulture)");
    }

    [Fact]
    public void Options_PrerequisiteRegistered_Validate()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddFunnelPrerequisite("AddSomething()", typeof(IFormatProvider), "add one")
            .AddSingleton<IFormatProvider>(System.Globalization.CultureInfo.InvariantCulture)
            .BuildServiceProvider();

        services.GetRequiredService<IOptions<FunnelOptions>>().Value.ShouldNotBeNull();
    }

    [Fact]
    public void Options_TwoPrerequisitesMissing_ReportsBoth()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddFunnelPrerequisite("AddA()", typeof(IFormatProvider), "add a")
            .AddFunnelPrerequisite("AddB()", typeof(IComparer<string>), "add b")
            .BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IOptions<FunnelOptions>>().Value);

        error.Failures.Count().ShouldBe(2);
    }
}
