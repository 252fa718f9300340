using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Payments;

public sealed class WebhookProcessorRegistrationTests
{
    public static TheoryData<Type> Prerequisites =>
        [typeof(Catalogue), typeof(OfferPath), typeof(IEntitlementGrantor), typeof(IPaymentGateway), typeof(IWebhookSignatureVerifier)];

    [Theory]
    [MemberData(nameof(Prerequisites))]
    public async Task StartAsync_PrerequisiteMissing_FailsNamingItAndTheRemedy(Type missing)
    {
        HostApplicationBuilder builder = Builder();
        builder.Services.RemoveAll(missing);
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Failures.ShouldHaveSingleItem().ShouldStartWith(
            $"AddFunnelWebhookProcessor(\"stripe\") needs a {missing.FullName}, which is not registered: ");
        if (missing == typeof(IPaymentGateway) || missing == typeof(IWebhookSignatureVerifier))
        {
            error.Message.ShouldContain("AddFunnelStripe");
            error.Message.ShouldContain("Funnel.Testing");
        }
    }

    [Fact]
    public async Task StartAsync_EveryPrerequisiteRegistered_StartsWithTheRetryJobAndKeyedProcessor()
    {
        using IHost host = Builder().Build();

        await host.StartAsync();

        host.Services.GetServices<IFunnelJob>().Select(j => j.Name).ShouldContain("webhook-retry:stripe");
        host.Services.GetRequiredKeyedService<WebhookProcessor>("stripe").ShouldNotBeNull();
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_VerifierGivenExplicitly_NeedsNoRegisteredVerifier()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        var gateway = new InMemoryPaymentGateway(SystemClock.Instance);
        builder.Services
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, RecordingGrantor>()
            .AddSingleton<IPaymentGateway>(gateway)
            .AddFunnelWebhookProcessor("test", _ => gateway.Verifier);
        using IHost host = builder.Build();

        await host.StartAsync();

        host.Services.GetRequiredKeyedService<WebhookProcessor>("test").ShouldNotBeNull();
        await host.StopAsync();
    }

    [Fact]
    public void AddFunnelWebhookProcessor_CalledTwiceForOneProvider_RegistersOneProcessorAndOneJob()
    {
        var services = new ServiceCollection();

        services.AddFunnelWebhookProcessor("stripe").AddFunnelWebhookProcessor("stripe");

        services.Count(d => d.IsKeyedService && d.ServiceType == typeof(WebhookProcessor)).ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IFunnelJob>().Count(j => j.Name == "webhook-retry:stripe").ShouldBe(1);
    }

    private static HostApplicationBuilder Builder()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        var gateway = new InMemoryPaymentGateway(SystemClock.Instance);
        builder.Services
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, RecordingGrantor>()
            .AddSingleton<IPaymentGateway>(gateway)
            .AddSingleton(gateway.Verifier)
            .AddFunnelWebhookProcessor("stripe");
        return builder;
    }
}
