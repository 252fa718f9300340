using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Storage.PostgreSql.Commerce;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>Subscriptions in PostgreSQL shared by app instances: DI order, and two renewal jobs running at once.</summary>
public sealed class SubscriptionPgTests : IAsyncLifetime
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 1, 31, 9, 0);
    private static readonly OfferId Pro = new("membership-pro");

    private static readonly Catalogue Catalogue = new()
    {
        Currency = Currency.USD,
        Products = [new Product { Key = "community", Name = "Creator Community", Kind = ProductKind.CommunityAccess }],
        Offers =
        [
            new Offer
            {
                Id = Pro, Name = "Membership Pro", Price = new Money(9_000, Currency.USD), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
        ],
    };

    private readonly CommerceInstances _instances = new(1);

    public Task InitializeAsync() => _instances.InitializeAsync();

    public Task DisposeAsync() => _instances.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddFunnelPostgreSql_BeforeOrAfterAddFunnelSubscriptions_RegistersThePostgreSqlStore(bool postgresFirst)
    {
        ServiceCollection services = new();
        if (postgresFirst)
        {
            services.AddFunnelPostgreSql(_instances.ConnectionString);
        }

        services.AddFunnelSubscriptions();
        if (!postgresFirst)
        {
            services.AddFunnelPostgreSql(_instances.ConnectionString);
        }

        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISubscriptionStore>().ShouldBeOfType<PgSubscriptionStore>();
        services.Count(d => d.ServiceType == typeof(ISubscriptionStore)).ShouldBe(1);
    }

    [Fact]
    public async Task TwoInstances_RenewalJobsAtOnce_RenewEachSubscriptionOnce()
    {
        FakeClock clock = new(T0);
        InMemoryPaymentGateway gateway = new(clock);
        await using ServiceProvider a = App(clock, gateway);
        await using ServiceProvider b = App(clock, gateway);
        SubscriptionService first = a.GetRequiredService<SubscriptionService>();
        SubscriptionService second = b.GetRequiredService<SubscriptionService>();
        LeadId[] leads = [.. Enumerable.Range(0, 12).Select(_ => LeadId.New())];
        foreach (LeadId lead in leads)
        {
            SubscriptionResult started = await first.StartAsync(new SubscriptionRequest
            {
                Lead = lead, Offer = Pro, BuyerZone = DateTimeZoneProviders.Tzdb["America/New_York"], PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
            });
            started.Subscription.ShouldNotBeNull();
        }

        clock.Advance(Duration.FromDays(29));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).ProcessDueAsync())));

        ISubscriptionStore store = b.GetRequiredService<ISubscriptionStore>();
        foreach (LeadId lead in leads)
        {
            Subscription renewed = (await store.ListByLeadAsync(lead)).ShouldHaveSingleItem();
            (renewed.Status, renewed.PeriodsPaid, renewed.CurrentPeriodEnd > clock.GetCurrentInstant()).ShouldBe((SubscriptionStatus.Active, 2, true));
        }

        IReadOnlyList<LoggedEvent> logged = await a.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1_000);
        logged.Select(l => l.Event).OfType<SubscriptionRenewed>().Count().ShouldBe(leads.Length);
        (await store.FindDueAsync(clock.GetCurrentInstant(), 100)).ShouldBeEmpty();
    }

    private ServiceProvider App(IClock clock, IPaymentGateway gateway)
    {
        ServiceCollection services = new();
        services.AddSingleton(clock);
        services.AddSingleton(Catalogue);
        services.AddSingleton(gateway);
        services.AddSingleton<IEntitlementGrantor, NoGrants>();
        services.AddFunnelSubscriptions().AddFunnelPostgreSql(_instances.ConnectionString);
        return services.BuildServiceProvider();
    }

    private sealed class NoGrants : IEntitlementGrantor
    {
        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
