using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Commerce;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>
/// Several app instances on one database, each with its own service provider or data source (its own pool): the
/// webhook inbox, the retry claim and the seat count hold across them, driven through the real <see cref="WebhookProcessor"/>
/// with Stripe's verifier where the brief is "one payment, one grant".
/// </summary>
public sealed class CommerceCrossInstanceTests : IAsyncLifetime
{
    private const string Secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH";
    private static readonly Instant Now = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly Money Price = Money.FromMajor(497m, Currency.USD);

    private readonly CommerceInstances _instances = new(4);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();

    [Fact]
    public async Task ProcessAsync_OneStripeEventAtTwoInstancesAtOnce_StoredOnceAppliedOnceGrantedOnce()
    {
        CountingGrantor grantor = new();
        await using ServiceProvider web1 = Instance(grantor);
        await using ServiceProvider web2 = Instance(grantor);
        Order order = await PlaceOrderAsync(web1);
        string body = PaymentSucceeded("evt_pi_1", order.Id, "pi_1");
        WebhookProcessor[] processors = [web1.GetRequiredService<WebhookProcessor>(), web2.GetRequiredService<WebhookProcessor>()];

        WebhookResult[] results = await Race.RunAsync(16, i => processors[i % 2].ProcessAsync(
            Encoding.UTF8.GetBytes(body), new Dictionary<string, string> { ["Stripe-Signature"] = Signature(body) }));

        results.Count(r => r.Outcome == WebhookOutcome.Processed).ShouldBe(1);
        results.Count(r => r.Outcome == WebhookOutcome.Duplicate).ShouldBe(15);
        grantor.Grants.ShouldBe(1);
        Order paid = (await web2.GetRequiredService<IOrderStore>().FindAsync(order.Id)).ShouldNotBeNull();
        (paid.Status, paid.Paid).ShouldBe((OrderStatus.Paid, Price));
        paid.Installments.ShouldHaveSingleItem().PaymentId.ShouldBe("pi_1");
        StoredWebhookEvent stored = (await web1.GetRequiredService<IWebhookEventStore>().FindAsync("evt_pi_1")).ShouldNotBeNull();
        (stored.Status, stored.Attempts).ShouldBe((WebhookEventStatus.Processed, 1));
        (await _instances.First.ScalarAsync("SELECT count(*) FROM funnel.webhook_events")).ShouldBe(1L);
    }

    [Fact]
    public async Task RetryFailedAsync_TwoInstancesRetryingAtOnce_EachEventAppliedByOneOfThem()
    {
        CountingGrantor grantor = new();
        await using ServiceProvider web1 = Instance(grantor);
        await using ServiceProvider web2 = Instance(grantor);
        IWebhookEventStore store = web1.GetRequiredService<IWebhookEventStore>();
        List<Order> orders = [];
        for (int i = 0; i < 12; i++)
        {
            Order order = await PlaceOrderAsync(web1);
            orders.Add(order);
            (await store.TryAddAsync(FailedPayment("evt_" + i, order.Id, "pi_" + i, Now - Duration.FromMinutes(i)))).ShouldBeTrue();
        }

        WebhookProcessor[] processors = [web1.GetRequiredService<WebhookProcessor>(), web2.GetRequiredService<WebhookProcessor>()];

        ImmutableArray<WebhookResult>[] rounds = await Race.RunAsync(6, async i =>
        {
            ImmutableArray<WebhookResult>.Builder all = ImmutableArray.CreateBuilder<WebhookResult>();
            while (await processors[i % 2].RetryFailedAsync(max: 2) is { IsEmpty: false } retried)
            {
                all.AddRange(retried);
            }

            return all.ToImmutable();
        });

        WebhookResult[] results = [.. rounds.SelectMany(r => r)];
        results.ShouldAllBe(r => r.Outcome == WebhookOutcome.Processed);
        results.Select(r => r.EventId).Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(0, 12).Select(i => "evt_" + i).Order(StringComparer.Ordinal));
        grantor.Grants.ShouldBe(12);
        IOrderStore stored = web2.GetRequiredService<IOrderStore>();
        foreach (Order order in orders)
        {
            (await stored.FindAsync(order.Id)).ShouldNotBeNull().Status.ShouldBe(OrderStatus.Paid);
        }
    }

    [Fact]
    public async Task ClaimRetriesAsync_FourInstancesClaimingInRounds_NoEventHeldTwiceAndAllComeBackAfterTheLease()
    {
        PgWebhookEventStore[] stores = _instances.Each(static d => new PgWebhookEventStore(d));
        for (int i = 0; i < 300; i++)
        {
            await stores[i % 4].TryAddAsync(Failed("evt_" + i.ToString("D3", CultureInfo.InvariantCulture), Now - Duration.FromSeconds(i)));
        }

        foreach (Instant now in new[] { Now, Now + Lease })
        {
            string[] claimed = await ClaimAllAsync(stores, now);

            claimed.Length.ShouldBe(300, $"at {now} every event is claimed");
            claimed.Distinct(StringComparer.Ordinal).Count().ShouldBe(300, $"at {now} no event is claimed twice within a lease");
        }

        (await stores[0].ClaimRetriesAsync(Now + Lease + Lease - Duration.FromNanoseconds(1), Now, 300, Lease, "late"))
            .ShouldBeEmpty("a claim lasts to the nanosecond of its end");
        StoredWebhookEvent any = (await stores[1].FindAsync("evt_042")).ShouldNotBeNull();
        (any.Version, any.ClaimedUntil).ShouldBe((2L, (Instant?)(Now + Lease + Lease)));
    }

    [Fact]
    public async Task ClaimRetriesAsync_ClaimerKilledWhileHoldingRows_OthersSkipThemThenClaimThemOnceItsGone()
    {
        PgWebhookEventStore store = new(_instances.All[1]);
        for (int i = 0; i < 20; i++)
        {
            await store.TryAddAsync(Failed("evt_" + i.ToString("D2", CultureInfo.InvariantCulture), Now - Duration.FromSeconds(i)));
        }

        // An instance in the middle of a claim: its transaction holds the five oldest events.
        await using NpgsqlDataSource other = NpgsqlDataSource.Create(_instances.ConnectionString + ";Pooling=false");
        NpgsqlConnection crashing = await other.OpenConnectionAsync();
        await using NpgsqlTransaction held = await crashing.BeginTransactionAsync();
        await using (NpgsqlCommand lockRows = new(
            "SELECT event_id FROM funnel.webhook_events ORDER BY received_at LIMIT 5 FOR UPDATE", crashing, held))
        {
            await lockRows.ExecuteNonQueryAsync();
        }

        int pid = crashing.ProcessID;

        ImmutableArray<StoredWebhookEvent> first = await store.ClaimRetriesAsync(Now, Now, 100, Lease, "web-2");

        first.Length.ShouldBe(15, "the rows a live claim holds are skipped, not waited for");
        (await _instances.First.ScalarAsync($"SELECT pg_terminate_backend({pid}, 5000)")).ShouldBe(true);
        ImmutableArray<StoredWebhookEvent> second = await store.ClaimRetriesAsync(Now, Now, 100, Lease, "web-2");
        second.Select(e => e.EventId).ShouldBe(["evt_19", "evt_18", "evt_17", "evt_16", "evt_15"]);
        await Should.ThrowAsync<Exception>(async () => await held.CommitAsync());
        await crashing.DisposeAsync();
    }

    [Fact]
    public async Task TryReserveAsync_HundredLeadsOnFourInstancesForTenSeats_ExactlyTenHoldAndTenRowsExist()
    {
        FakeClock clock = new(Now);
        PgSeatInventory[] seats = _instances.Each(d => new PgSeatInventory(d, clock));
        SeatLimit ten = new() { Capacity = 10, HoldFor = Duration.FromMinutes(15) };

        SeatReservation?[] held = await Race.RunAsync(100, i => seats[i % 4].TryReserveAsync("vip", LeadId.New(), ten));

        held.Count(h => h is not null).ShouldBe(10);
        (await _instances.First.ScalarAsync("SELECT count(*) FROM funnel.seat_holds WHERE offer = 'vip'")).ShouldBe(10L);
        bool[] confirmed = await Race.RunAsync(20, i => seats[i % 4].ConfirmAsync(held.First(h => h is not null)!.Value));
        confirmed.Count(c => c).ShouldBe(1);
    }

    private static async Task<string[]> ClaimAllAsync(PgWebhookEventStore[] stores, Instant now)
    {
        ConcurrentBag<string> claimed = [];
        await Race.RunAsync(8, async i =>
        {
            while (await stores[i % stores.Length].ClaimRetriesAsync(now, now, 7, Lease, "web-" + i) is { IsEmpty: false } batch)
            {
                batch.ShouldAllBe(e => e.ClaimedBy == "web-" + i && e.ClaimedUntil == now + Lease);
                foreach (StoredWebhookEvent e in batch)
                {
                    claimed.Add(e.EventId);
                }
            }

            return true;
        });
        return [.. claimed];
    }

    private ServiceProvider Instance(CountingGrantor grantor) => new ServiceCollection()
        .AddSingleton<IClock>(new FakeClock(Now))
        .AddSingleton(new Catalogue
        {
            Currency = Currency.USD,
            Products = [new Product { Key = "course", Name = "Course" }],
            Offers = [new Offer { Id = "course", Name = "Course", Price = Price, Products = ["course"] }],
        })
        .AddSingleton(new OfferPath { Entry = "course" })
        .AddSingleton<IEntitlementGrantor>(grantor)
        .AddFunnelCommerce()
        .AddFunnelStripe(o =>
        {
            o.ApiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
            o.WebhookSecrets.Add(Secret);
            o.ApiBase = new Uri("http://127.0.0.1:9");
            o.MaxNetworkRetries = 0;
        })
        .AddFunnelPostgreSql(_instances.ConnectionString)
        .BuildServiceProvider();

    private static async Task<Order> PlaceOrderAsync(ServiceProvider instance)
    {
        OrderService orders = instance.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(LeadId.New(), new Cart { Lines = [new CartLine("course")] }, DateTimeZone.Utc);
        return (await orders.PlaceOrderAsync(checkout, null)).Order.ShouldNotBeNull();
    }

    private static string PaymentSucceeded(string eventId, OrderId order, string paymentIntent) =>
        """
        {"id":"EVENT","object":"event","created":CREATED,"type":"payment_intent.succeeded","data":{"object":
        {"id":"INTENT","object":"payment_intent","amount_received":49700,"currency":"usd","metadata":{"funnel_order":"ORDER"}}}}
        """.Replace("EVENT", eventId, StringComparison.Ordinal)
            .Replace("CREATED", Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("INTENT", paymentIntent, StringComparison.Ordinal)
            .Replace("ORDER", order.ToString(), StringComparison.Ordinal);

    private static string Signature(string body)
    {
        long t = Now.ToUnixTimeSeconds();
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t.ToString(CultureInfo.InvariantCulture) + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    private static StoredWebhookEvent FailedPayment(string eventId, OrderId order, string paymentIntent, Instant receivedAt) => new()
    {
        EventId = eventId,
        EventType = "payment_intent.succeeded",
        ReceivedAt = receivedAt,
        Status = WebhookEventStatus.Failed,
        Attempts = 1,
        Error = "the database was restarting",
        Notification = new PaymentNotification
        {
            EventId = eventId,
            Kind = PaymentNotificationKind.PaymentSucceeded,
            Order = order,
            OccurredAt = receivedAt,
            PaymentId = paymentIntent,
            Amount = Price,
        },
    };

    private static StoredWebhookEvent Failed(string eventId, Instant receivedAt) =>
        FailedPayment(eventId, OrderId.New(), "pi_" + eventId, receivedAt) with { EventType = "charge.refunded" };

    private sealed class CountingGrantor : IEntitlementGrantor
    {
        private int _grants;

        public int Grants => Volatile.Read(ref _grants);

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _grants);
            return Task.CompletedTask;
        }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
