using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Offers;

public class OffersRegistrationTests
{
    [Fact]
    public void AddFunnel_WithCatalogueAndGrantor_ResolvesTheOrderServiceOverInMemoryStores()
    {
        var clock = new FakeClock(OfferTestKit.T0);
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, RecordingGrantor>()
            .AddFunnel()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        provider.GetRequiredService<OrderService>().ShouldNotBeNull();
        provider.GetRequiredService<PriceBook>().Catalogue.ShouldBeSameAs(OfferPathCatalogue.Catalogue);
        provider.GetRequiredService<ISeatInventory>().ShouldBeOfType<InMemorySeatInventory>();
        provider.GetRequiredService<IOrderStore>().ShouldBeOfType<InMemoryOrderStore>();
        provider.GetRequiredService<ICouponRedemptionStore>().ShouldBeOfType<InMemoryCouponRedemptionStore>();
        provider.GetRequiredService<IDeadlineStore>().ShouldBeOfType<InMemoryDeadlineStore>();
        provider.GetRequiredService<FluentValidation.IValidator<Catalogue>>().ShouldBeOfType<CatalogueValidator>();
    }

    [Fact]
    public void AddFunnel_UserStoreRegisteredFirst_IsKept()
    {
        var mine = new InMemoryOrderStore();
        using ServiceProvider provider = new ServiceCollection().AddSingleton<IOrderStore>(mine).AddFunnel().AddFunnel().BuildServiceProvider();

        provider.GetRequiredService<IOrderStore>().ShouldBeSameAs(mine);
        provider.GetServices<ISeatInventory>().ShouldHaveSingleItem();
    }
}
