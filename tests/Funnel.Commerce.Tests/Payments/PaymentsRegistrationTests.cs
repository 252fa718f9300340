using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Payments;

public sealed class PaymentsRegistrationTests
{
    [Fact]
    public void AddFunnelCommerce_WithGatewayAndVerifier_ResolvesPaymentServiceAndWebhookProcessor()
    {
        var clock = new FakeClock(OfferTestKit.T0);
        var gateway = new InMemoryPaymentGateway(clock);
        var store = new InMemoryWebhookEventStore();
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, RecordingGrantor>()
            .AddSingleton<IPaymentGateway>(gateway)
            .AddSingleton(gateway.Verifier)
            .AddSingleton<IWebhookEventStore>(store)
            .AddFunnelCommerce()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        provider.GetRequiredService<PaymentService>().Policy.ShouldBe(DunningPolicy.Default);
        provider.GetRequiredService<WebhookProcessor>().ShouldNotBeNull();
        provider.GetRequiredService<IWebhookEventStore>().ShouldBeSameAs(store);
    }
}
