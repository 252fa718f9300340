using Funnel.Invoices;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tax;
using NodaTime;
using Funnel.Pipeline;
using NodaTime.Testing;
using static Funnel.Tests.Tax.TaxTestKit;

namespace Funnel.Tests.Invoices;

/// <summary>An order service with VAT, an invoice service over in-memory stores, and buyers from several countries.</summary>
internal sealed class InvoiceTestKit
{
    public static readonly DateTimeZone Berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];

    public InvoiceTestKit(IInvoiceStore? store = null)
    {
        Clock = new FakeClock(At);
        Store = store ?? new InMemoryInvoiceStore();
        Orders = new InMemoryOrderStore();
        Service = new OrderService(Prices, OfferPathCatalogue.Path, Orders, new Funnel.Tests.Offers.RecordingGrantor(), new InMemoryCouponRedemptionStore(),
            new InMemorySeatInventory(Clock), new DeadlineTracker(new InMemoryDeadlineStore(), Clock), Clock, new InMemoryFunnelEventLog(), Calculator());
        Invoices = new InvoiceService(Store, Orders, Leads, Options(), Clock, Berlin, Log, Funnel.Tests.Tax.TaxTestKit.Catalogue);
    }

    public FakeClock Clock { get; }

    public IInvoiceStore Store { get; }

    public InMemoryOrderStore Orders { get; }

    public InMemoryLeadStore Leads { get; } = new();

    public InMemoryFunnelEventLog Log { get; } = new();

    public OrderService Service { get; }

    public InvoiceService Invoices { get; }

    public static InvoiceOptions Options()
    {
        var options = new InvoiceOptions { SellerName = "Ebook Masterclass GmbH", SellerCountry = "DE", SellerVatNumber = "DE136695976" };
        options.SellerAddress.Add("Unter den Linden 1");
        options.SellerAddress.Add("10117 Berlin");
        return options;
    }

    public static LeadId Lead(int n) => new(new Guid(18, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)n));

    /// <summary>Places and pays an order.</summary>
    public async Task<Order> BuyAsync(int lead, BuyerTaxDetails buyer, params OfferId[] offers)
    {
        Checkout checkout = await Service.StartCheckoutAsync(Lead(lead), new Cart { Lines = [.. offers.Select(o => new CartLine(o))], Buyer = buyer }, DateTimeZone.Utc);
        Order order = (await Service.PlaceOrderAsync(checkout, "pm_1")).Order!;
        return (await Service.RecordPaymentAsync(order.Id, order.Total)).Order!;
    }
}
