using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Offers;

public class OffersRegistrationTests
{
    [Fact]
    public void AddFunnelCommerce_WithCatalogueAndGrantor_ResolvesTheOrderServiceOverInMemoryStores()
    {
        var clock = new FakeClock(OfferTestKit.T0);
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, RecordingGrantor>()
            .AddFunnelCommerce()
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
    public void AddFunnelCommerce_UserStoreRegisteredFirst_IsKept()
    {
        var mine = new InMemoryOrderStore();
        using ServiceProvider provider = new ServiceCollection().AddSingleton<IOrderStore>(mine).AddFunnelCommerce().AddFunnelCommerce().BuildServiceProvider();

        provider.GetRequiredService<IOrderStore>().ShouldBeSameAs(mine);
        provider.GetServices<ISeatInventory>().ShouldHaveSingleItem();
    }

    [Fact]
    public void AddFunnelCommerce_NullServices_Throws() =>
        Should.Throw<ArgumentNullException>(() => CommerceServiceCollectionExtensions.AddFunnelCommerce(null!));

    [Fact]
    public void AddFunnelCommerce_BeforeAddFunnel_ReporterHasThePaymentsSection()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelCommerce().AddFunnel(o => o.DefaultCurrency = "EUR").BuildServiceProvider();

        Funnel.Kpis.FunnelReport report = provider.GetRequiredService<Funnel.Kpis.IFunnelReporter>()
            .CreateReport(MasterclassScenario.Funnel, []);

        report.Currency.ShouldBe(Currency.EUR);
        report.Sections.Keys.ShouldBe(["payments"]);
        report.Section<Funnel.Payments.PaymentMetrics>().ShouldNotBeNull().Collected.ShouldBe(Money.Zero(Currency.EUR));
    }
}
