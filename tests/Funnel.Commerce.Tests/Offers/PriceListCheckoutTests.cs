using Funnel.Currencies;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Offers.OfferTestKit;
using static Funnel.Tests.Offers.PriceListKit;

namespace Funnel.Tests.Offers;

public class PriceListCheckoutTests
{
    [Fact]
    public async Task PlaceOrderAsync_GermanBuyer_PlacesPaysAndGrantsInEuros()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.CoverPack)], Buyer = From("DE") };

        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork);
        Order order = (await kit.Service.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;
        OrderResult paid = await kit.Service.RecordPaymentAsync(order.Id, Eur(474m));

        checkout.Quote!.Currency.ShouldBe(Currency.EUR);
        order.Total.ShouldBe(Eur(474m));
        order.Lines.Select(l => l.Total).ShouldBe([Eur(449m), Eur(25m)]);
        order.Paid.ShouldBe(Money.Zero(Currency.EUR));
        paid.Order!.Paid.ShouldBe(Eur(474m));
        paid.Order.Status.ShouldBe(OrderStatus.Paid);
        kit.Grantor.Granted.Select(e => e.Product).ShouldContain("masterclass-videos");
        kit.Log.Snapshot().OfType<OrderPlaced>().Single().Total.ShouldBe(Eur(474m));
        kit.Log.Snapshot().OfType<AddOnAccepted>().Single().Amount.ShouldBe(Eur(25m));
        Should.Throw<ArgumentException>(() => kit.Service.RecordPaymentAsync(order.Id, Usd(1m))).Message.ShouldContain("EUR");
    }

    [Fact]
    public async Task StartCheckoutAsync_PickedCurrencyAnOfferLacks_IsRejectedWithCurrencyNotOffered()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.LaunchPlanner)], Currency = Currency.JPY };

        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork);

        checkout.Rejection.ShouldBe(OrderRejection.CurrencyNotOffered);
        checkout.Quote.ShouldBeNull();
        kit.Log.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task StartCheckoutAsync_CountryCurrencyAnOfferLacks_FallsBackToTheCatalogueCurrency()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic), new CartLine(OfferPathCatalogue.LaunchPlanner)], Buyer = From("JP") };

        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), cart, NewYork);

        checkout.Quote!.Currency.ShouldBe(Currency.USD);
        checkout.Quote.Total.ShouldBe(Usd(516m));
    }

    [Fact]
    public async Task AcceptUpsellAsync_ParentInPounds_ChargesTheUpsellInPounds()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = From("GB") }, NewYork);
        Order parent = (await kit.Service.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;

        OrderResult upsell = await kit.Service.AcceptUpsellAsync(parent.Id, OfferPathCatalogue.Premium, NewYork, "3-monthly");

        upsell.Order!.Total.ShouldBe(Gbp(648m));
        upsell.Order.Installments.Select(i => i.Amount).ShouldBe([Gbp(216m), Gbp(216m), Gbp(216m)]);
    }

    [Fact]
    public async Task AcceptUpsellAsync_UpsellWithoutAPriceInTheParentsCurrency_IsRejected()
    {
        var kit = new OfferTestKit(PriceListKit.Catalogue);
        Checkout checkout = await kit.Service.StartCheckoutAsync(Lead(1), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = From("JP") }, NewYork);
        Order parent = (await kit.Service.PlaceOrderAsync(checkout, "pm_card_on_file")).Order!;

        OrderResult upsell = await kit.Service.AcceptUpsellAsync(parent.Id, OfferPathCatalogue.Premium, NewYork);

        parent.Total.ShouldBe(Jpy(74_800m));
        upsell.Rejection.ShouldBe(OrderRejection.CurrencyNotOffered);
        upsell.Order.ShouldBeNull();
    }

    [Fact]
    public async Task StartCheckoutAsync_GermanConsumerWithAEuroPrice_ChargesGermanVatOnTheEuroPrice()
    {
        var clock = new FakeClock(Tests.Tax.TaxTestKit.At);
        var prices = new PriceBook(PriceListKit.Catalogue);
        var service = new OrderService(prices, OfferPathCatalogue.Path, new InMemoryOrderStore(), new RecordingGrantor(), new InMemoryCouponRedemptionStore(),
            new InMemorySeatInventory(clock), new DeadlineTracker(new InMemoryDeadlineStore(), clock), clock, new Pipeline.InMemoryFunnelEventLog(),
            Tests.Tax.TaxTestKit.Calculator());
        var cart = new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)], Buyer = new BuyerTaxDetails { Evidence = Tests.Tax.TaxTestKit.In("DE") } };

        Checkout checkout = await service.StartCheckoutAsync(Lead(1), cart, DateTimeZone.Utc);

        checkout.PlaceOfSupply!.Country.ShouldBe("DE");
        checkout.Quote!.Currency.ShouldBe(Currency.EUR);
        checkout.Quote.Tax!.Tax.ShouldBe(new Money(8_531, Currency.EUR));
        checkout.Quote.Total.ShouldBe(new Money(44_900 + 8_531, Currency.EUR));
    }
}
