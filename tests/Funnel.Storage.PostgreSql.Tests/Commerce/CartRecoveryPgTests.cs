using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Commerce;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Commerce;

/// <summary>Two apps (two service providers, two connection pools) on one PostgreSQL database emit each abandonment once.</summary>
public sealed class CartRecoveryPgTests : IAsyncLifetime
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);

    private readonly PgTestDatabases _databases = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _databases.DropAllAsync();

    [Fact]
    public async Task TwoApps_OneDatabase_EmitEachAbandonmentOnce()
    {
        string connectionString = await _databases.CreateMigratedAsync();
        var clock = new FakeClock(T0 + Duration.FromHours(2));
        await using ServiceProvider first = App(connectionString, clock);
        await using ServiceProvider second = App(connectionString, clock);
        ICheckoutStore store = first.GetRequiredService<ICheckoutStore>();
        store.ShouldBeOfType<PgCheckoutStore>();
        LeadId[] leads = [.. Enumerable.Range(0, 30).Select(_ => LeadId.New())];
        foreach (LeadId lead in leads)
        {
            (await store.TryAddAsync(new TrackedCheckout
            {
                Lead = lead, Offer = new OfferId("masterclass-basic"), Checkout = EventId.New(), StartedAt = T0, DueAt = T0 + Duration.FromHours(1),
            })).ShouldBeTrue();
        }

        int[] emitted = await Task.WhenAll(
            Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).GetRequiredService<CheckoutAbandonment>().EmitDueAsync())));

        emitted.Sum().ShouldBe(30);
        IReadOnlyList<LoggedEvent> log = await second.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 1_000);
        CheckoutAbandoned[] abandoned = [.. log.Select(l => l.Event).OfType<CheckoutAbandoned>()];
        abandoned.Select(a => a.LeadId.Value).Order().ShouldBe(leads.Select(l => l.Value).Order());
        (await store.FindAsync(leads[0], new OfferId("masterclass-basic"))).ShouldNotBeNull().Status.ShouldBe(CheckoutStatus.Abandoned);
    }

    private static ServiceProvider App(string connectionString, IClock clock)
    {
        ServiceCollection services = new();
        services.AddSingleton(clock);
        services.AddFunnelCartRecovery(o => o.BatchSize = 4).AddFunnelPostgreSql(connectionString);
        return services.BuildServiceProvider();
    }
}
