using Funnel.Invoices;
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

namespace Funnel.Tests.Invoices;

public sealed class InvoicesPipelineTests
{
    [Fact]
    public async Task AddFunnelInvoices_OrderPaidThenRefunded_PipelineIssuesTheInvoiceAndACreditNote()
    {
        await using ServiceProvider provider = Services().BuildServiceProvider();
        OrderService orders = provider.GetRequiredService<OrderService>();
        FunnelPipeline pipeline = provider.GetRequiredService<FunnelPipeline>();
        Checkout checkout = await orders.StartCheckoutAsync(InvoiceTestKit.Lead(1),
            new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic), new CartLine(EBook)], Buyer = new BuyerTaxDetails { Evidence = In("FR") } },
            DateTimeZone.Utc);
        Order order = (await orders.PlaceOrderAsync(checkout, "pm_1")).Order!;
        await orders.RecordPaymentAsync(order.Id, order.Total);

        (await pipeline.DeliverAllAsync()).Failures.ShouldBeEmpty();
        await orders.RefundAsync(order.Id, new Money(2_700 + 149, Currency.USD), [EBook]);
        (await pipeline.DeliverAllAsync()).Failures.ShouldBeEmpty();

        var store = provider.GetRequiredService<IInvoiceStore>();
        Invoice[] issued = [.. await store.ListForOrderAsync("DE136695976", order.Id)];
        issued.Select(i => i.DisplayNumber).ShouldBe(["INV-000001", "CN-000001"]);
        issued[0].Gross.ShouldBe(order.Total);
        issued[0].Lines.Select(l => l.Rate).ShouldBe([20m, 5.5m]);
        issued[1].Corrects!.Value.DisplayNumber.ShouldBe("INV-000001");
        issued[1].Gross.ShouldBe(new Money(2_849, Currency.USD));
    }

    [Fact]
    public async Task AddFunnelInvoices_EventsRedelivered_IssueNothingTwice()
    {
        await using ServiceProvider provider = Services().BuildServiceProvider();
        OrderService orders = provider.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(InvoiceTestKit.Lead(2),
            new Cart { Lines = [new CartLine(EBook)], Buyer = new BuyerTaxDetails { Evidence = In("DE") } }, DateTimeZone.Utc);
        Order order = (await orders.PlaceOrderAsync(checkout, "pm_1")).Order!;
        OrderResult paid = await orders.RecordPaymentAsync(order.Id, order.Total);
        OrderResult refunded = await orders.RefundAsync(order.Id, order.Total);
        InvoicesHandler handler = provider.GetRequiredService<InvoicesHandler>();

        foreach (var e in paid.Events.Concat(refunded.Events).Concat(paid.Events).Concat(refunded.Events))
        {
            await handler.HandleAsync(e);
        }

        (await provider.GetRequiredService<IInvoiceStore>().ListForOrderAsync("DE136695976", order.Id))
            .Select(i => i.DisplayNumber).ShouldBe(["INV-000001", "CN-000001"]);
        var log = (InMemoryFunnelEventLog)provider.GetRequiredService<IFunnelEventLog>();
        log.Snapshot().OfType<InvoiceIssued>().Select(e => (e.Kind, e.Series, e.Number, e.Amount, e.Order)).ShouldBe(
        [
            (InvoiceKind.Invoice, "INV", 1L, order.Total, order.Id),
            (InvoiceKind.CreditNote, "CN", 1L, order.Total, order.Id),
        ]);
    }

    [Fact]
    public async Task IssueInvoiceAsync_TwoHundredOrdersPaidAtOnce_NumbersOneToTwoHundred()
    {
        var kit = new InvoiceTestKit();
        Order[] paid = await Task.WhenAll(Enumerable.Range(1, 200)
            .Select(i => kit.BuyAsync(i % 250, new BuyerTaxDetails { Evidence = In("IE") }, EBook)));

        Invoice?[] invoices = await Task.WhenAll(paid.Select(o => Task.Run(() => kit.Invoices.IssueInvoiceAsync(o.Id))));

        invoices.Select(i => i!.Number).Order().ShouldBe(Enumerable.Range(1, 200).Select(n => (long)n));
    }

    [Fact]
    public async Task AddFunnelInvoices_NoSellerVatNumber_FailsAtStartUpNamingIt()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFunnelInvoices(o =>
        {
            o.SellerName = "Ebook Masterclass GmbH";
            o.SellerCountry = "DE";
            o.SellerAddress.Add("Unter den Linden 1");
        });
        using IHost host = builder.Build();

        var error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());
        error.Message.ShouldContain("SellerVatNumber");
        error.Message.ShouldNotContain("SellerName");
    }

    [Fact]
    public void AddFunnelInvoices_CalledTwice_RegistersTheHandlerOnceAndCombinesTheOptions()
    {
        var services = Services();
        services.AddFunnelInvoices(o => o.CreditNoteSeries = "GS");
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<FunnelPipeline>().Handlers.Count(h => h == "invoices").ShouldBe(1);
        provider.GetRequiredService<IOptions<InvoiceOptions>>().Value.CreditNoteSeries.ShouldBe("GS");
        provider.GetRequiredService<IInvoiceRenderer>().ShouldBeOfType<HtmlInvoiceRenderer>();
    }

    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(At));
        services.AddSingleton(Funnel.Tests.Tax.TaxTestKit.Catalogue).AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, Funnel.Tests.Offers.RecordingGrantor>();
        services.AddFunnelTax(o => o.SellerCountry = "DE");
        services.AddFunnelInvoices(o =>
        {
            InvoiceOptions defaults = InvoiceTestKit.Options();
            o.SellerName = defaults.SellerName;
            o.SellerCountry = defaults.SellerCountry;
            o.SellerVatNumber = defaults.SellerVatNumber;
            foreach (string line in defaults.SellerAddress)
            {
                o.SellerAddress.Add(line);
            }
        });
        return services;
    }
}
