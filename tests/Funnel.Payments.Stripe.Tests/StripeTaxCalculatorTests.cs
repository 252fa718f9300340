using Funnel.Offers;
using Funnel.Tax;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>Stripe Tax's calculation API behind <see cref="ITaxCalculator"/>, through a real checkout, against the Stripe stand-in.</summary>
public sealed class StripeTaxCalculatorTests : IAsyncLifetime
{
    private const string EBookCode = "txcd_10302000";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly LocationEvidence NewYork = new() { BillingCountry = "US", BillingPostalCode = "10001", BillingState = "NY", IpCountry = "US" };
    private FakeStripeServer server = null!;

    public async Task InitializeAsync() => server = await FakeStripeServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task StartCheckoutAsync_NewYorkBuyer_AddsStripesSalesTaxPerLine()
    {
        server.Respond = r => r.Path == "/v1/tax/calculations" ? (200, Calculation(4411, 240, "8.875", "standard_rated")) : (404, "{}");
        using ServiceProvider provider = Services();

        Checkout checkout = await provider.GetRequiredService<OrderService>().StartCheckoutAsync(LeadId.New(), Cart(new BuyerTaxDetails { Evidence = NewYork }), DateTimeZone.Utc);

        TaxBreakdown tax = checkout.Quote!.Tax.ShouldNotBeNull();
        tax.PlaceOfSupply.Country.ShouldBe("US");
        tax.Rounding.ShouldBe(TaxRounding.PerLine);
        tax.Lines.Select(l => (l.Offer.Value, l.Rate, l.Net, l.Tax, l.Gross)).ShouldBe(
        [
            ("course", 8.875m, Usd(497m), Usd(44.11m), Usd(541.11m)),
            ("ebook", 8.875m, Usd(27m), Usd(2.40m), Usd(29.40m)),
        ]);
        (tax.Net, tax.Tax, tax.Gross).ShouldBe((Usd(524m), Usd(46.51m), Usd(570.51m)));
        checkout.Quote.Total.ShouldBe(Usd(570.51m), "prices exclude tax, so the buyer pays it on top");

        RecordedRequest sent = server.Requests.Single(r => r.Path == "/v1/tax/calculations");
        sent.Method.ShouldBe("POST");
        sent.Parameters.ShouldSatisfyAllConditions(
            p => p["currency"].ShouldBe("usd"),
            p => p["line_items[0][amount]"].ShouldBe("49700"),
            p => p["line_items[0][reference]"].ShouldBe("0:course"),
            p => p["line_items[0][tax_behavior]"].ShouldBe("exclusive"),
            p => p.ContainsKey("line_items[0][tax_code]").ShouldBeFalse("no code for the standard category: the account's preset applies"),
            p => p["line_items[1][tax_code]"].ShouldBe(EBookCode),
            p => p["customer_details[address][country]"].ShouldBe("US"),
            p => p["customer_details[address][postal_code]"].ShouldBe("10001"),
            p => p["customer_details[address][state]"].ShouldBe("NY"),
            p => p["customer_details[address_source]"].ShouldBe("billing"),
            p => p["expand[0]"].ShouldBe("line_items.data.tax_breakdown"));
    }

    [Fact]
    public async Task StartCheckoutAsync_ReverseChargedBusiness_HasNoTaxAndTheNote()
    {
        server.Respond = _ => (200, Calculation(0, 0, "0.0", "reverse_charge", country: "DE"));
        using ServiceProvider provider = Services();

        Checkout checkout = await provider.GetRequiredService<OrderService>().StartCheckoutAsync(LeadId.New(),
            Cart(new BuyerTaxDetails { Evidence = new() { BillingCountry = "DE", IpCountry = "DE" }, VatNumber = "DE136695976" }), DateTimeZone.Utc);

        TaxBreakdown tax = checkout.Quote!.Tax.ShouldNotBeNull();
        tax.ReverseCharge.ShouldBeTrue();
        tax.VatNumber.ShouldBe("DE136695976");
        tax.Tax.ShouldBe(Usd(0m));
        tax.Lines.ShouldAllBe(l => l.Note == "Reverse charge");
        server.Requests.Single().Parameters["customer_details[tax_ids][0][type]"].ShouldBe("eu_vat");
    }

    [Fact]
    public async Task StartCheckoutAsync_StripeCannotLocateTheBuyer_RejectsTheCheckoutAsUnresolved()
    {
        server.Respond = _ => (400, """{"error":{"type":"invalid_request_error","code":"customer_tax_location_invalid","message":"We could not determine the customer's tax location."}}""");
        using ServiceProvider provider = Services();

        Checkout checkout = await provider.GetRequiredService<OrderService>().StartCheckoutAsync(LeadId.New(),
            Cart(new BuyerTaxDetails { Evidence = new() { BillingCountry = "US" } }), DateTimeZone.Utc);

        checkout.Rejection.ShouldBe(OrderRejection.LocationUnresolved);
        checkout.PlaceOfSupply!.Status.ShouldBe(PlaceOfSupplyStatus.Insufficient);
    }

    [Fact]
    public async Task StartCheckoutAsync_StripeDown_ThrowsATransientGatewayError()
    {
        server.Respond = _ => (500, """{"error":{"type":"api_error","message":"Something went wrong."}}""");
        using ServiceProvider provider = Services();

        PaymentGatewayException error = await Should.ThrowAsync<PaymentGatewayException>(() =>
            provider.GetRequiredService<OrderService>().StartCheckoutAsync(LeadId.New(), Cart(new BuyerTaxDetails { Evidence = NewYork }), DateTimeZone.Utc));

        error.IsTransient.ShouldBeTrue();
        error.Message.ShouldContain("Stripe Tax");
    }

    [Fact]
    public void Options_WithoutTheStripeAdapterOrWithABadCode_FailNamingTheField()
    {
        using ServiceProvider alone = new ServiceCollection().AddFunnelStripeTax().BuildServiceProvider();
        Should.Throw<OptionsValidationException>(() => alone.GetRequiredService<IOptions<StripeTaxOptions>>().Value).Message.ShouldContain("AddFunnelStripe");

        using ServiceProvider badCode = new ServiceCollection()
            .AddFunnelStripe(o =>
            {
                o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
                o.WebhookSecrets.Add("whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH");
            })
            .AddFunnelStripeTax(o => o.TaxCodes[TaxCategory.EBook] = "ebook")
            .BuildServiceProvider();
        Should.Throw<OptionsValidationException>(() => badCode.GetRequiredService<IOptions<StripeTaxOptions>>().Value).Message.ShouldContain("TaxCodes[EBook]");
    }

    private ServiceProvider Services() => new ServiceCollection()
        .AddSingleton<IClock>(new FakeClock(Now))
        .AddSingleton(new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "course", Name = "Course" }, new Product { Key = "ebook", Name = "E-book", Kind = ProductKind.EBook }],
            Offers =
            [
                new Offer { Id = "course", Name = "Course", Price = Usd(497m), Products = ["course"] },
                new Offer { Id = "ebook", Name = "E-book", Price = Usd(27m), Products = ["ebook"] },
            ],
        })
        .AddSingleton(new OfferPath { Entry = "course" })
        .AddSingleton<IEntitlementGrantor>(new NoAccess())
        .AddFunnelCommerce()
        .AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add("whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH");
            o.ApiBase = server.BaseAddress;
            o.MaxNetworkRetries = 0;
        })
        .AddFunnelStripeTax(o => o.TaxCodes[TaxCategory.EBook] = EBookCode)
        .BuildServiceProvider();

    private sealed class NoAccess : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private static Cart Cart(BuyerTaxDetails buyer) => new()
    {
        Lines = [new CartLine("course", 1, null), new CartLine("ebook", 1, null)],
        Buyer = buyer,
    };

    private static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    /// <summary>A <c>tax.calculation</c> as Stripe documents it, line items and their breakdowns expanded.</summary>
    internal static string Calculation(long courseTax, long ebookTax, string percent, string reason, string country = "US") =>
        """
        {"id":"taxcalc_1NaS","object":"tax.calculation","currency":"usd","amount_total":TOTAL,"livemode":false,
         "customer_details":{"address":{"country":"COUNTRY","postal_code":"10001","state":"NY"},"address_source":"billing","tax_ids":[],"taxability_override":"none"},
         "line_items":{"object":"list","has_more":false,"url":"/v1/tax/calculations/taxcalc_1NaS/line_items","data":[
          {"id":"tax_li_1","object":"tax.calculation_line_item","amount":49700,"amount_tax":COURSE,"reference":"0:course","tax_behavior":"exclusive","tax_code":"txcd_10000000",
           "tax_breakdown":[{"amount":COURSE,"jurisdiction":{"country":"COUNTRY","display_name":"New York","level":"state","state":"NY"},"sourcing":"destination",
            "taxability_reason":"REASON","taxable_amount":49700,"tax_rate_details":{"display_name":"Sales Tax","percentage_decimal":"PERCENT","tax_type":"sales_tax"}}]},
          {"id":"tax_li_2","object":"tax.calculation_line_item","amount":2700,"amount_tax":EBOOK,"reference":"1:ebook","tax_behavior":"exclusive","tax_code":"txcd_10302000",
           "tax_breakdown":[{"amount":EBOOK,"jurisdiction":{"country":"COUNTRY","display_name":"New York","level":"state","state":"NY"},"sourcing":"destination",
            "taxability_reason":"REASON","taxable_amount":2700,"tax_rate_details":{"display_name":"Sales Tax","percentage_decimal":"PERCENT","tax_type":"sales_tax"}}]}]},
         "tax_amount_exclusive":TAX,"tax_amount_inclusive":0,"tax_breakdown":[],"tax_date":1791208800}
        """.Replace("TOTAL", (52400 + courseTax + ebookTax).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("TAX", (courseTax + ebookTax).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("COURSE", courseTax.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("EBOOK", ebookTax.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("PERCENT", percent, StringComparison.Ordinal)
            .Replace("REASON", reason, StringComparison.Ordinal)
            .Replace("COUNTRY", country, StringComparison.Ordinal);
}
