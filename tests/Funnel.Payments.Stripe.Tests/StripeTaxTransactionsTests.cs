using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Tax;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Payments.Stripe.Tests;

/// <summary>
/// Paid orders recorded as Stripe Tax transactions and refunds as reversals, through a real checkout taxed by
/// <see cref="StripeTaxCalculator"/>, the event pipeline and the Stripe stand-in.
/// </summary>
public sealed class StripeTaxTransactionsTests : IAsyncLifetime
{
    private const string FromCalculation = "/v1/tax/transactions/create_from_calculation";
    private const string Reversal = "/v1/tax/transactions/create_reversal";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly LocationEvidence NewYork = new() { BillingCountry = "US", BillingPostalCode = "10001", BillingState = "NY", IpCountry = "US" };
    private readonly FakeClock clock = new(Now);
    private FakeStripeServer server = null!;

    public async Task InitializeAsync()
    {
        server = await FakeStripeServer.StartAsync();
        server.ActAsStripeTax(StripeTaxCalculatorTests.Calculation(4411, 240, "8.875", "standard_rated"));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public void Keys_OfAnOrderAndARefund_AreDerivedFromTheirIds()
    {
        var order = new OrderId(Guid.Parse("0195f3a0-1111-7000-8000-000000000001"));
        var refund = new Funnel.EventId(Guid.Parse("0195f3a0-3333-7000-8000-000000000001"));

        StripeTaxTransactionsHandler.TransactionKey(order).ShouldBe("taxtx_0195f3a0111170008000000000000001");
        StripeTaxTransactionsHandler.ReversalKey(refund).ShouldBe("taxrev_0195f3a0333370008000000000000001");
        StripeTaxTransactionsHandler.RecordedEventId(order).ShouldBe(StripeTaxTransactionsHandler.RecordedEventId(order));
        StripeTaxTransactionsHandler.RecordedEventId(order).ShouldNotBe(StripeTaxTransactionsHandler.RecordedEventId(OrderId.New()));
    }

    [Fact]
    public async Task StartCheckoutAsync_StripeTax_KeepsTheCalculationIdOnTheOrdersTax()
    {
        using ServiceProvider provider = Services();

        Order order = await PlaceAsync(provider);

        order.Tax!.ProviderCalculationId.ShouldBe("taxcalc_1NaS");
    }

    [Fact]
    public async Task HandleAsync_OrderPaid_CreatesTheTransactionFromTheCalculationAndRecordsItsId()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);

        await PayAsync(provider, order);

        RecordedRequest sent = server.RequestsTo("POST", FromCalculation).ShouldHaveSingleItem();
        sent.Parameters.ShouldSatisfyAllConditions(
            p => p["calculation"].ShouldBe("taxcalc_1NaS"),
            p => p["reference"].ShouldBe(order.Id.ToString()));
        sent.IdempotencyKey.ShouldBe(StripeTaxTransactionsHandler.TransactionKey(order.Id));
        StripeTaxTransactionRecorded recorded = (await RecordedAsync(provider, order)).ShouldHaveSingleItem();
        (recorded.Order, recorded.Calculation, recorded.Transaction).ShouldBe((order.Id, "taxcalc_1NaS", "tax_1"));
        (await provider.GetRequiredService<FunnelPipeline>().ListParkedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task HandleAsync_PaymentEventReplayed_CreatesOneTransaction()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);
        await PayAsync(provider, order);
        PaymentSucceeded paid = (await EventsAsync(provider, order)).OfType<PaymentSucceeded>().Single();

        await Handler(provider).HandleAsync(paid);
        await Handler(provider).HandleAsync(paid);

        server.RequestsTo("POST", FromCalculation).ShouldHaveSingleItem();
        (await RecordedAsync(provider, order)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task HandleAsync_StripeDown_ThrowsSoThePipelineRetriesWithTheSameIdempotencyKey()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);
        Func<RecordedRequest, (int, string)> stripeTax = server.Respond;
        server.GoDown();

        PipelineDelivery down = await PayAsync(provider, order);

        PipelineFailure failure = down.Failures.ShouldHaveSingleItem();
        (failure.Handler, failure.Parked).ShouldBe(("stripe-tax", false));
        failure.Error.ShouldBeOfType<PaymentGatewayException>().IsTransient.ShouldBeTrue();
        (await RecordedAsync(provider, order)).ShouldBeEmpty();

        server.Respond = stripeTax;
        clock.Advance(Duration.FromMinutes(1));
        (await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync()).Failures.ShouldBeEmpty();

        IReadOnlyList<RecordedRequest> attempts = server.RequestsTo("POST", FromCalculation);
        attempts.Count.ShouldBe(2);
        attempts.Select(a => a.IdempotencyKey).Distinct().ShouldHaveSingleItem();
        (await RecordedAsync(provider, order)).ShouldHaveSingleItem().Transaction.ShouldBe("tax_1");
    }

    [Fact]
    public async Task HandleAsync_CalculationExpired_ParksThePaymentAtOnceNamingTheOrderAndWhatToDo()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);
        server.ExpiredCalculations.Add("taxcalc_1NaS");

        PipelineDelivery delivery = await PayAsync(provider, order);

        delivery.Failures.ShouldBeEmpty("the handler parks the event itself: retrying cannot help");
        server.RequestsTo("POST", FromCalculation).ShouldHaveSingleItem();
        ParkedEvent parked = (await provider.GetRequiredService<FunnelPipeline>().ListParkedAsync()).ShouldHaveSingleItem();
        (parked.Handler, parked.EventType).ShouldBe(("stripe-tax", EventTypes.PaymentSucceeded));
        parked.Error.ShouldSatisfyAllConditions(
            e => e.ShouldContain(order.Id.ToString()),
            e => e.ShouldContain("taxcalc_1NaS"),
            e => e.ShouldContain("has expired"),
            e => e.ShouldContain("Stripe Dashboard"),
            e => e.ShouldContain("retry this parked event"));
        (await RecordedAsync(provider, order)).ShouldBeEmpty();
    }

    [Fact]
    public async Task HandleAsync_WholeOrderRefunded_ReversesTheTransactionInFull()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);
        await PayAsync(provider, order);

        await provider.GetRequiredService<OrderService>().RefundAsync(order.Id, order.Total);
        await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        RefundIssued refund = (await EventsAsync(provider, order)).OfType<RefundIssued>().Single();
        RecordedRequest sent = server.RequestsTo("POST", Reversal).ShouldHaveSingleItem();
        sent.Parameters.ShouldSatisfyAllConditions(
            p => p["mode"].ShouldBe("full"),
            p => p["original_transaction"].ShouldBe("tax_1"),
            p => p["reference"].ShouldBe(refund.Id.ToString()),
            p => p.ContainsKey("flat_amount").ShouldBeFalse());
        sent.IdempotencyKey.ShouldBe(StripeTaxTransactionsHandler.ReversalKey(refund.Id));
    }

    [Fact]
    public async Task HandleAsync_PartialThenRemainingRefund_ReversesEachAsANegativeTaxInclusiveFlatAmount()
    {
        using ServiceProvider provider = Services();
        Order order = await PlaceAsync(provider);
        await PayAsync(provider, order);
        Money part = Money.FromMajor(100m, Currency.USD);

        await provider.GetRequiredService<OrderService>().RefundAsync(order.Id, part);
        await provider.GetRequiredService<OrderService>().RefundAsync(order.Id, order.Total - part);
        await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        RefundIssued[] refunds = [.. (await EventsAsync(provider, order)).OfType<RefundIssued>()];
        await Handler(provider).HandleAsync(refunds[0]); // replayed: Stripe answers from the idempotency key

        IReadOnlyList<RecordedRequest> sent = server.RequestsTo("POST", Reversal);
        sent.Count.ShouldBe(3);
        sent.Select(r => (r.Parameters["mode"], r.Parameters["flat_amount"], r.Parameters["original_transaction"], r.Parameters["reference"]))
            .ShouldBe(
            [
                ("partial", "-10000", "tax_1", refunds[0].Id.ToString()),
                ("partial", "-47051", "tax_1", refunds[1].Id.ToString()),
                ("partial", "-10000", "tax_1", refunds[0].Id.ToString()),
            ]);
        sent[2].IdempotencyKey.ShouldBe(sent[0].IdempotencyKey);
        (await provider.GetRequiredService<FunnelPipeline>().ListParkedAsync()).ShouldBeEmpty("the replay got Stripe's first answer, not a duplicate reference");
    }

    [Fact]
    public async Task HandleAsync_OrderTaxedByTheVatCalculator_CallsNoStripeTax()
    {
        using ServiceProvider provider = Services(vat: true);
        Checkout checkout = await provider.GetRequiredService<OrderService>().StartCheckoutAsync(LeadId.New(),
            Cart(new BuyerTaxDetails { Evidence = new() { BillingCountry = "FR", IpCountry = "FR" } }), DateTimeZone.Utc);
        Order order = (await provider.GetRequiredService<OrderService>().PlaceOrderAsync(checkout, null)).Order!;
        order.Tax.ShouldNotBeNull().ProviderCalculationId.ShouldBeNull();

        await PayAsync(provider, order);
        await provider.GetRequiredService<OrderService>().RefundAsync(order.Id, order.Total);
        (await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync()).Failures.ShouldBeEmpty();

        server.Requests.ShouldBeEmpty();
        (await provider.GetRequiredService<FunnelPipeline>().ListParkedAsync()).ShouldBeEmpty();
    }

    private static async Task<Order> PlaceAsync(ServiceProvider provider)
    {
        OrderService orders = provider.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(LeadId.New(), Cart(new BuyerTaxDetails { Evidence = NewYork }), DateTimeZone.Utc);
        return (await orders.PlaceOrderAsync(checkout, null)).Order.ShouldNotBeNull();
    }

    private static async Task<PipelineDelivery> PayAsync(ServiceProvider provider, Order order)
    {
        await provider.GetRequiredService<OrderService>().RecordPaymentAsync(order.Id, order.Total);
        return await provider.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
    }

    private static StripeTaxTransactionsHandler Handler(ServiceProvider provider) => provider.GetRequiredService<StripeTaxTransactionsHandler>();

    private static async Task<IEnumerable<FunnelEvent>> EventsAsync(ServiceProvider provider, Order order) =>
        (await provider.GetRequiredService<IFunnelEventLog>().ReadLeadAsync(order.Lead, 1000)).Select(e => e.Event);

    private static async Task<StripeTaxTransactionRecorded[]> RecordedAsync(ServiceProvider provider, Order order) =>
        [.. (await EventsAsync(provider, order)).OfType<StripeTaxTransactionRecorded>()];

    private ServiceProvider Services(bool vat = false)
    {
        IServiceCollection services = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddSingleton(new Catalogue
            {
                Currency = Currency.USD,
                Products = [new Product { Key = "course", Name = "Course" }, new Product { Key = "ebook", Name = "E-book", Kind = ProductKind.EBook }],
                Offers =
                [
                    new Offer { Id = "course", Name = "Course", Price = Money.FromMajor(497m, Currency.USD), Products = ["course"] },
                    new Offer { Id = "ebook", Name = "E-book", Price = Money.FromMajor(27m, Currency.USD), Products = ["ebook"] },
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
            .AddFunnelStripeTax();
        if (vat)
        {
            services.RemoveAll<ITaxCalculator>();
            services.AddFunnelTax(o => o.SellerCountry = "IE");
        }

        return services.BuildServiceProvider();
    }

    private static Cart Cart(BuyerTaxDetails buyer) => new()
    {
        Lines = [new CartLine("course", 1, null), new CartLine("ebook", 1, null)],
        Buyer = buyer,
    };

    private sealed class NoAccess : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
