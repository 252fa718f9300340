using Funnel.Advocacy;
using Funnel.Leads;
using Funnel.Onboarding;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Advocacy;

/// <summary>
/// Several app instances on one database: each instance is a <see cref="PgDatabase"/> with a data source (a pool) of
/// its own, and racing writes from all of them give the answers one process would.
/// </summary>
public sealed class AdvocacyInstancesTests : IAsyncLifetime
{
    private const int Instances = 3;
    private const int Racers = 24;
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);

    private readonly PgTestDatabases _databases = new();
    private readonly List<PgDatabase> _instances = [];

    public async Task InitializeAsync()
    {
        string connectionString = await _databases.CreateMigratedAsync();
        for (int i = 0; i < Instances; i++)
        {
            PgDatabase instance = _databases.Track(new(new FunnelPostgreSqlOptions { ConnectionString = connectionString }));
            _instances.Add(instance);
            await instance.EnsureReadyAsync(CancellationToken.None);
        }
    }

    public Task DisposeAsync() => _databases.DropAllAsync();

    [Fact]
    public async Task AffiliateTryAddAsync_RacingEnrolmentsOnSeveralInstances_OneWinnerPerLeadAndPerCode()
    {
        LeadId lead = LeadId.New();

        bool[] sameLead = await RaceAsync(
            db => new PgAffiliateStore(db),
            (store, n) => store.TryAddAsync(Affiliate(n, lead, "lead-" + n)));
        bool[] sameCode = await RaceAsync(
            db => new PgAffiliateStore(db),
            (store, n) => store.TryAddAsync(Affiliate(n, LeadId.New(), "sarah")));

        sameLead.Count(r => r).ShouldBe(1);
        sameCode.Count(r => r).ShouldBe(1);
        (await _instances[0].ScalarAsync("SELECT count(*) FROM funnel.affiliates")).ShouldBe(2L);
    }

    [Fact]
    public async Task ReferrerTryAddAsync_RacingCodesOnSeveralInstances_OneWinner()
    {
        bool[] results = await RaceAsync(
            db => new PgReferrerStore(db),
            (store, _) => store.TryAddAsync(new Referrer
            {
                Lead = LeadId.New(), Email = EmailAddress.Parse("a@example.com"), Code = "friends-of-sarah", Credit = new Money(0, Currency.USD),
            }));

        results.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task EntitlementTryAddAsync_RacingGrantsOnSeveralInstances_GrantedOnce()
    {
        LeadId lead = LeadId.New();
        OrderId order = OrderId.New();

        bool[] results = await RaceAsync(
            db => new PgEntitlementStore(db),
            (store, n) => store.TryAddAsync(new EntitlementRecord { Lead = lead, Product = "masterclass", Order = order, Held = true, ChangedAt = T0 + Duration.FromSeconds(n) }));

        results.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task CourseProgressAddAsync_RacingAddsOnSeveralInstances_AddedOnceAndSeenByAll()
    {
        LeadId lead = LeadId.New();

        (bool Added, System.Collections.Immutable.ImmutableHashSet<string> Completed)[] results = await RaceAsync(
            db => new PgCourseProgressStore(db),
            (store, _) => store.AddAsync(lead, "course", "module-1"));

        results.Count(r => r.Added).ShouldBe(1);
        results.ShouldAllBe(r => r.Completed.Count == 1 && r.Completed.Contains("module-1"));
    }

    [Fact]
    public async Task ReferrerTryUpdateAsync_ReadChangeWriteLoopsOnSeveralInstances_LoseNoCredit()
    {
        const int Rounds = 5;
        LeadId lead = LeadId.New();
        await new PgReferrerStore(_instances[0]).TryAddAsync(new Referrer
        {
            Lead = lead, Email = EmailAddress.Parse("a@example.com"), Code = "r", Credit = new Money(0, Currency.USD),
        });

        int[] conflicts = await RaceAsync(
            db => new PgReferrerStore(db),
            async (store, _) =>
            {
                int lost = 0;
                for (int round = 0; round < Rounds; round++)
                {
                    while (true)
                    {
                        Referrer current = (await store.FindAsync(lead))!;
                        if (await store.TryUpdateAsync(current, current with { Credit = current.Credit + new Money(100, Currency.USD) }))
                        {
                            break;
                        }

                        lost++;
                    }
                }

                return lost;
            });

        Referrer final = (await new PgReferrerStore(_instances[1]).FindAsync(lead))!;
        final.Credit.ShouldBe(new Money(Racers * Rounds * 100, Currency.USD));
        final.Version.ShouldBe(Racers * Rounds);
        conflicts.Sum().ShouldBeGreaterThan(0, "the racers never collided, so the test proved nothing");
    }

    private static Affiliate Affiliate(int n, LeadId lead, string code) =>
        new() { Id = AffiliateId.New(), Lead = lead, Code = code, Status = AffiliateStatus.Pending, AppliedAt = T0 + Duration.FromSeconds(n) };

    /// <summary>Runs <see cref="Racers"/> attempts released together, spread over the instances, each with its own store.</summary>
    private async Task<TResult[]> RaceAsync<TStore, TResult>(Func<PgDatabase, TStore> storeOf, Func<TStore, int, Task<TResult>> attempt)
    {
        TStore[] stores = [.. _instances.Select(storeOf)];
        TaskCompletionSource start = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<TResult>[] tasks = [.. Enumerable.Range(0, Racers).Select(n => Task.Run(async () =>
        {
            await start.Task;
            return await attempt(stores[n % stores.Length], n);
        }))];
        start.SetResult();
        return await Task.WhenAll(tasks);
    }
}
