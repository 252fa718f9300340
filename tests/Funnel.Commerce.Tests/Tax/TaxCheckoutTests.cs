using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Tax.TaxTestKit;

namespace Funnel.Tests.Tax;

public class TaxCheckoutTests
{
    private static readonly LeadId Buyer = new(new Guid(7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    private static (OrderService Service, InMemoryOrderStore Orders) Service(ITaxCalculator? tax)
    {
        var clock = new FakeClock(At);
        var orders = new InMemoryOrderStore();
        var service = new OrderService(Prices, OfferPathCatalogue.Path, orders, new Funnel.Tests.Offers.RecordingGrantor(), new InMemoryCouponRedemptionStore(),
            new InMemorySeatInventory(clock), new DeadlineTracker(new InMemoryDeadlineStore(), clock), clock, new InMemoryFunnelEventLog(), tax);
        return (service, orders);
    }

    [Fact]
    public async Task PlaceOrderAsync_GermanConsumer_RecordsTheTaxAndTheEvidenceOnTheOrder()
    {
        (OrderService service, InMemoryOrderStore orders) = Service(Calculator());
        var cart = new Cart
        {
            Lines = [new CartLine(OfferPathCatalogue.Basic), new CartLine(EBook)],
            Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "DE", CardCountry = "AT" } },
        };

        Checkout checkout = await service.StartCheckoutAsync(Buyer, cart, DateTimeZone.Utc);
        Order order = (await service.PlaceOrderAsync(checkout, "pm_1")).Order!;

        checkout.PlaceOfSupply!.Country.ShouldBe("DE");
        order.Total.ShouldBe(new Money(49_700 + 9_443 + 2_700 + 189, Currency.USD));
        order.Tax!.Tax.ShouldBe(new Money(9_443 + 189, Currency.USD));
        order.Tax.PlaceOfSupply.Evidence.CardCountry.ShouldBe("AT");
        Money.Sum(order.Installments.Select(i => i.Amount), Currency.USD).ShouldBe(order.Total);
        (await orders.FindAsync(order.Id))!.Tax.ShouldBe(order.Tax);
    }

    [Fact]
    public async Task StartCheckoutAsync_ConflictingEvidence_IsRejectedWithThePlaceOfSupply()
    {
        (OrderService service, _) = Service(Calculator());
        var cart = new Cart
        {
            Lines = [new CartLine(OfferPathCatalogue.Basic)],
            Buyer = new BuyerTaxDetails { Evidence = new LocationEvidence { BillingCountry = "DE", IpCountry = "FR" } },
        };

        Checkout checkout = await service.StartCheckoutAsync(Buyer, cart, DateTimeZone.Utc);

        checkout.Rejection.ShouldBe(OrderRejection.LocationUnresolved);
        checkout.Quote.ShouldBeNull();
        checkout.PlaceOfSupply!.Status.ShouldBe(PlaceOfSupplyStatus.Conflict);
        checkout.PlaceOfSupply.CountriesNamed.ShouldBe(["DE", "FR"]);
    }

    [Fact]
    public async Task AcceptUpsellAsync_AfterATaxedOrder_TaxesTheUpsellWithTheSameEvidence()
    {
        (OrderService service, _) = Service(Calculator());
        var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = new BuyerTaxDetails { Evidence = In("FR") } };
        Order parent = (await service.PlaceOrderAsync(await service.StartCheckoutAsync(Buyer, cart, DateTimeZone.Utc), "pm_1")).Order!;

        Order upsell = (await service.AcceptUpsellAsync(parent.Id, OfferPathCatalogue.Premium, DateTimeZone.Utc)).Order!;

        upsell.Tax!.PlaceOfSupply.Country.ShouldBe("FR");
        upsell.Total.ShouldBe(new Money(79_700 + 15_940, Currency.USD));
    }

    [Fact]
    public async Task StartCheckoutAsync_WithoutACalculator_ChargesNoTax()
    {
        (OrderService service, _) = Service(null);

        Checkout checkout = await service.StartCheckoutAsync(Buyer, new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)] }, DateTimeZone.Utc);

        checkout.Quote!.Tax.ShouldBeNull();
        checkout.PlaceOfSupply.ShouldBeNull();
        checkout.Quote.Total.ShouldBe(new Money(49_700, Currency.USD));
    }

    [Fact]
    public async Task AddFunnelTax_ValidSeller_GivesTheOrderServiceAVatCalculator()
    {
        var services = new ServiceCollection();
        services.AddSingleton(TaxTestKit.Catalogue).AddSingleton(OfferPathCatalogue.Path).AddSingleton<IEntitlementGrantor, Funnel.Tests.Offers.RecordingGrantor>();
        services.AddFunnelTax(o => o.SellerCountry = "IE");
        services.AddFunnelTax(o => o.PricesIncludeTax = true);
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ITaxCalculator>().ShouldBeOfType<VatCalculator>();
        provider.GetRequiredService<IOptions<TaxOptions>>().Value.PricesIncludeTax.ShouldBeTrue();
        var cart = new Cart { Lines = [new CartLine(EBook)], Buyer = new BuyerTaxDetails { Evidence = In("DE") } };
        Checkout checkout = await provider.GetRequiredService<OrderService>().StartCheckoutAsync(Buyer, cart, DateTimeZone.Utc);
        checkout.Quote!.Tax!.Tax.ShouldBe(new Money(177, Currency.USD));
        checkout.Quote.Total.ShouldBe(new Money(2_700, Currency.USD));
    }

    [Fact]
    public async Task AddFunnelTax_UnknownSellerCountry_FailsAtStartUpNamingIt()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFunnelTax(o => o.SellerCountry = "XX");
        using IHost host = builder.Build();

        (await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync())).Message.ShouldContain("SellerCountry");
    }
}
