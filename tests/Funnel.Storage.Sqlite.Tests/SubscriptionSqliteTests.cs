using Funnel.Storage.Sqlite.Commerce;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>What the SQLite subscription store promises beyond the shared contract: durability across a restart, indexed lists, DI.</summary>
public sealed class SubscriptionSqliteTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 3, 2, 9, 0);

    [Fact]
    public async Task Reopen_NewProviderOnTheSameFile_FindsListsAndRenewsTheSubscription()
    {
        string path = SqliteTestDatabase.NewPath();
        Subscription s = New(LeadId.New(), T0 - Duration.FromMinutes(1));
        await using (ServiceProvider first = App(path))
        {
            ISubscriptionStore store = first.GetRequiredService<ISubscriptionStore>();
            (await store.TryAddAsync(s)).ShouldBeTrue();
            Subscription stored = (await store.FindAsync(s.Id))!;
            (await store.TryUpdateAsync(stored, stored with { FailedAttempts = 1, AppliedPayments = ["pi_1"] })).ShouldBeTrue();
        }

        await using ServiceProvider second = App(path);
        ISubscriptionStore reopened = second.GetRequiredService<ISubscriptionStore>();

        Subscription found = (await reopened.FindAsync(s.Id)).ShouldNotBeNull();
        (found.Version, found.FailedAttempts, found.AppliedPayments.Single(), found.Price).ShouldBe((1L, 1, "pi_1", s.Price));
        (await reopened.ListByLeadAsync(s.Lead)).ShouldHaveSingleItem().Id.ShouldBe(s.Id);
        (await reopened.FindDueAsync(T0, 10)).ShouldHaveSingleItem().Id.ShouldBe(s.Id);
        (await reopened.TryUpdateAsync(found with { Version = 0 }, found with { Cycle = 9 })).ShouldBeFalse();
        (await reopened.TryUpdateAsync(found, found with { Cycle = 2 })).ShouldBeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddFunnelSqlite_BeforeOrAfterAddFunnelSubscriptions_RegistersTheSqliteStore(bool sqliteFirst)
    {
        ServiceCollection services = new();
        string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
        if (sqliteFirst)
        {
            services.AddFunnelSqlite(connectionString);
        }

        services.AddFunnelSubscriptions();
        if (!sqliteFirst)
        {
            services.AddFunnelSqlite(connectionString);
        }

        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<ISubscriptionStore>().ShouldBeOfType<SqliteSubscriptionStore>();
        services.Count(d => d.ServiceType == typeof(ISubscriptionStore)).ShouldBe(1);
    }

    [Theory]
    [InlineData(SqliteSubscriptionStore.Due, "subscriptions_due")]
    [InlineData(SqliteSubscriptionStore.ByLead, "subscriptions_lead")]
    public async Task QueryPlan_Lists_SearchTheirIndexWithoutAScanOrSort(string sql, string index)
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();
        (string, object?)[] args = [("$now", 1L), ("$lead", Guid.Empty), ("$max", 10L)];

        List<string> plan = await database.ReadAsync(
            s => s.Query("EXPLAIN QUERY PLAN " + sql, static r => r.GetString(3), [.. args.Where(a => sql.Contains(a.Item1, StringComparison.Ordinal))]),
            CancellationToken.None);

        string shown = string.Join(" | ", plan);
        plan.ShouldContain(step => step.StartsWith("SEARCH ", StringComparison.Ordinal) && step.Contains("USING INDEX " + index, StringComparison.Ordinal), shown);
        plan.ShouldNotContain(step => step.StartsWith("SCAN ", StringComparison.Ordinal) || step.Contains("TEMP B-TREE", StringComparison.Ordinal), shown);
    }

    private static ServiceProvider App(string path)
    {
        ServiceCollection services = new();
        services.AddFunnelSubscriptions().AddFunnelSqlite($"Data Source={path}");
        return services.BuildServiceProvider();
    }

    private static Subscription New(LeadId lead, Instant periodEnd) => new()
    {
        Id = SubscriptionId.New(),
        Lead = lead,
        Offer = new OfferId("membership"),
        Status = SubscriptionStatus.Active,
        Price = new Money(4_900, Currency.GBP),
        Interval = BillingInterval.Month,
        TimeZoneId = "Europe/London",
        StartedAt = periodEnd - Duration.FromDays(31),
        BillingAnchor = periodEnd - Duration.FromDays(31),
        Cycle = 1,
        CurrentPeriodStart = periodEnd - Duration.FromDays(31),
        CurrentPeriodEnd = periodEnd,
        PeriodsPaid = 1,
        Credit = new Money(0, Currency.GBP),
        AccessGrantedFor = new OfferId("membership"),
    };
}
