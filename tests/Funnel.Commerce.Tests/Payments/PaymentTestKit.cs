using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Samples.EbookMasterclass;
using Funnel.Tests.Offers;
using NodaTime;

namespace Funnel.Tests.Payments;

/// <summary>An order store that throws while <see cref="Down"/> is set, as a database that is down would.</summary>
internal sealed class FlakyOrderStore : IOrderStore
{
    public InMemoryOrderStore Inner { get; } = new();

    public bool Down { get; set; }

    /// <summary>Gets or sets a source cancelled on the next read, as a caller that gives up mid-request would.</summary>
    public CancellationTokenSource? CancelOnRead { get; set; }

    public Task<Order?> FindAsync(OrderId id, CancellationToken cancellationToken = default)
    {
        if (CancelOnRead is { } source)
        {
            CancelOnRead = null;
            source.Cancel();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return Down ? throw new TimeoutException("The order database is down.") : Inner.FindAsync(id, cancellationToken);
    }

    public Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken = default) =>
        Down ? throw new TimeoutException("The order database is down.") : Inner.TryAddAsync(order, cancellationToken);

    public Task<bool> TryUpdateAsync(Order current, Order replacement, CancellationToken cancellationToken = default) =>
        Down ? throw new TimeoutException("The order database is down.") : Inner.TryUpdateAsync(current, replacement, cancellationToken);
}

/// <summary>The Masterclass order service wired to the in-memory test-mode gateway and a webhook processor.</summary>
internal sealed class PaymentTestKit
{
    public PaymentTestKit(DunningPolicy? policy = null)
    {
        Kit = new OfferTestKit();
        Service = new OrderService(Kit.Prices, OfferPathCatalogue.Path, Orders, Grantor, Kit.Coupons, Kit.Seats, Kit.Deadlines, Kit.Clock, Log);
        Gateway = new InMemoryPaymentGateway(Kit.Clock);
        Payments = new PaymentService(Service, Kit.Prices, Gateway, policy ?? DunningPolicy.Default, Kit.Clock);
        Webhooks = new WebhookProcessor(Gateway.Verifier, EventStore, Payments, Kit.Clock);
    }

    public OfferTestKit Kit { get; }

    public FlakyOrderStore Orders { get; } = new();

    public Funnel.Pipeline.InMemoryFunnelEventLog Log { get; } = new();

    public RecordingGrantor Grantor { get; } = new();

    public OrderService Service { get; }

    public InMemoryPaymentGateway Gateway { get; }

    public PaymentService Payments { get; }

    public InMemoryWebhookEventStore EventStore { get; } = new();

    public WebhookProcessor Webhooks { get; }

    /// <summary>Gets every funnel event the services recorded in the log, for the report.</summary>
    public IReadOnlyList<FunnelEvent> Events => Log.Snapshot();

    public async Task<Order> PlaceAsync(int lead, string? plan)
    {
        Checkout checkout = await Service.StartCheckoutAsync(OfferTestKit.Lead(lead), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic, 1, plan)] }, OfferTestKit.NewYork);
        OrderResult placed = await Service.PlaceOrderAsync(checkout, paymentMethod: null);
        return placed.Order!;
    }

    public async Task<PaymentAttempt> PayAsync(OrderId order, string card = InMemoryPaymentGateway.SucceedingCard)
    {
        PaymentAttempt attempt = await Payments.PayAsync(order, card);
        return attempt;
    }

    public async Task<ImmutableArray<WebhookResult>> DeliverAsync(IEnumerable<WebhookRequest> requests)
    {
        var results = ImmutableArray.CreateBuilder<WebhookResult>();
        foreach (WebhookRequest request in requests)
        {
            WebhookResult result = await Webhooks.ProcessAsync(request.Body, request.Headers);
            results.Add(result);
        }

        return results.ToImmutable();
    }

    public async Task<Order> OrderAsync(OrderId id) => (await Orders.Inner.FindAsync(id))!;
}
