using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>The Funnel.Core stores across a restart, in DI, and at the edges the specifications leave open.</summary>
public sealed class CoreStoreLifetimeTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 12, 4, 15, 52);

    [Fact]
    public async Task Reopen_AfterWritesToEveryStore_EverythingReadsBack()
    {
        string path = SqliteTestDatabase.NewPath();
        LeadProfile ann = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = T0 };
        FunnelEvent[] events = [.. Enumerable.Range(0, 50).Select(i => View(ann.Id, i))];
        SegmentMember member = new() { Segment = "engaged", Lead = ann.Id, IsMember = true, ChangedAt = T0 };
        ParkedEvent parked = new()
        {
            Handler = "scoring", Position = 3, EventId = events[2].Id, EventType = EventTypes.PageViewed, Attempts = 8,
            Error = "IOException: disk", ParkedAt = T0,
        };
        using (SqliteDatabase first = SqliteTestDatabase.Open(path))
        {
            SqliteLeadStore leads = new(first);
            await leads.TryAddAsync(ann);
            (await leads.TryUpdateAsync(ann, ann with { Score = 3, Tags = ann.Tags.Add("vip") })).ShouldBeTrue();
            await new SqliteSegmentMembershipStore(first).TryAddAsync(member);
            await new SqliteFunnelEventLog(first, CoreTestDatabases.Serializer).AppendAsync(events);
            SqliteEventSubscriptionStore subscriptions = new(first);
            await subscriptions.TryAddAsync(new EventSubscription { Name = "scoring" });
            await subscriptions.TryUpdateAsync(
                new EventSubscription { Name = "scoring" }, new EventSubscription { Name = "scoring", Position = 50 });
            await new SqliteParkedEventStore(first).TryAddAsync(parked);
        }

        using SqliteDatabase second = SqliteTestDatabase.Open(path);
        SqliteFunnelEventLog log = new(second, CoreTestDatabases.Serializer);

        LeadProfile read = (await new SqliteLeadStore(second).FindByEmailAsync(ann.Email)).ShouldNotBeNull();
        (read.Id, read.Score, read.Version, read.Tags.Single()).ShouldBe((ann.Id, 3.0, 1L, "vip"));
        (await new SqliteSegmentMembershipStore(second).FindAsync("engaged", ann.Id)).ShouldBe(member);
        (await log.ReadAsync(0, 100)).Select(static e => e.Event.Id).ShouldBe(events.Select(static e => e.Id));
        (await log.ReadLeadAsync(ann.Id, 100)).Count.ShouldBe(50);
        (await new SqliteEventSubscriptionStore(second).FindAsync("scoring")).ShouldNotBeNull().Position.ShouldBe(50);
        (await new SqliteParkedEventStore(second).ListAsync(10)).ShouldHaveSingleItem().ShouldBe(parked);
        (await log.AppendAsync([View(ann.Id, 99)])).ShouldBe(1);
        (await log.ReadAsync(50, 10)).ShouldHaveSingleItem().Position.ShouldBe(51);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddFunnelSqlite_BeforeOrAfterAddFunnel_ResolvesTheSqliteCoreStores(bool sqliteFirst)
    {
        string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
        ServiceCollection services = new();
        if (sqliteFirst)
        {
            services.AddFunnelSqlite(connectionString).AddFunnel(static o => o.DefaultCurrency = "EUR");
        }
        else
        {
            services.AddFunnel(static o => o.DefaultCurrency = "EUR").AddFunnelSqlite(connectionString);
        }

        await using ServiceProvider provider = services.BuildServiceProvider(validateScopes: true);

        provider.GetRequiredService<ILeadStore>().ShouldBeOfType<SqliteLeadStore>();
        provider.GetRequiredService<ISegmentMembershipStore>().ShouldBeOfType<SqliteSegmentMembershipStore>();
        provider.GetRequiredService<IEventSubscriptionStore>().ShouldBeOfType<SqliteEventSubscriptionStore>();
        provider.GetRequiredService<IParkedEventStore>().ShouldBeOfType<SqliteParkedEventStore>();
        SqliteFunnelEventLog log =
            provider.GetRequiredService<IFunnelEventLog>().ShouldBeOfType<SqliteFunnelEventLog>();
        provider.GetServices<ILeadStore>().ShouldHaveSingleItem();
        provider.GetServices<IFunnelEventLog>().ShouldHaveSingleItem();
        (await log.AppendAsync([View(LeadId.New(), 1)])).ShouldBe(1);
        provider.GetRequiredService<FunnelPipeline>().ShouldNotBeNull();
    }

    [Fact]
    public async Task OptInsThenPipeline_OnSqlite_KeepLeadsEventsAndHandlerPositionsAcrossARestart()
    {
        string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
        LeadMagnet guide = new() { Key = "guide", Title = "Quick-start guide", Kind = LeadMagnetKind.Guide };
        string[] emails = [.. Enumerable.Range(0, 20).Select(
            static i => "lead" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@example.com")];
        long head;
        await using (ServiceProvider first = App(connectionString))
        {
            LeadCapture capture = first.GetRequiredService<LeadCapture>();
            OptInResult[] results = await Task.WhenAll(emails.Select(email => Task.Run(() => capture.OptInAsync(
                new OptInRequest
                {
                    Email = email, Magnet = guide, Attribution = Attribution.FromUtm("facebook", "cpc"), Tags = ["vip"],
                }))));
            results.ShouldAllBe(static r => r.IsNewLead);
            PipelineDelivery delivery = await first.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
            delivery.Failures.ShouldBeEmpty();
            delivery.Delivered.ShouldBeGreaterThan(0);
            head = (await first.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 10_000))[^1].Position;
        }

        await using ServiceProvider second = App(connectionString);
        FunnelPipeline pipeline = second.GetRequiredService<FunnelPipeline>();

        foreach (string email in emails)
        {
            ILeadStore leads = second.GetRequiredService<ILeadStore>();
            LeadProfile lead = (await leads.FindByEmailAsync(EmailAddress.Parse(email))).ShouldNotBeNull();
            (lead.Tags.Single(), lead.FirstTouch.Channel, lead.Magnets.Single())
                .ShouldBe(("vip", "facebook", guide.Key));
            (await second.GetRequiredService<IFunnelEventLog>().ReadLeadAsync(lead.Id, 100))
                .ShouldContain(static e => e.Event is OptedIn);
        }

        (await pipeline.GetStatusAsync()).ShouldAllBe(s => s.Position >= head && s.LastError == null);
        (await pipeline.DeliverAllAsync()).Delivered.ShouldBe(0, "every handler's position was kept");
    }

    [Fact]
    public async Task TryAddAsync_IdOfAnotherLead_ThrowsWithoutWritingAndTheStoreGoesOn()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();
        SqliteLeadStore store = new(database);
        LeadProfile ann = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = T0 };
        await store.TryAddAsync(ann);

        InvalidOperationException e = await Should.ThrowAsync<InvalidOperationException>(
            () => store.TryAddAsync(ann with { Email = EmailAddress.Parse("bob@example.com") }));

        e.Message.ShouldContain("ann@example.com");
        LeadProfile bob = ann with { Id = LeadId.New(), Email = EmailAddress.Parse("bob@example.com") };
        (await store.TryAddAsync(bob)).ShouldBeTrue();
        (await store.FindManyAsync([bob.Id, LeadId.New(), ann.Id, bob.Id])).Select(static l => l.Id)
            .ShouldBe([bob.Id, ann.Id]);
    }

    [Fact]
    public async Task AppendAsync_AnUnregisteredEventType_ThrowsAndAppendsNothingOfTheBatch()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();
        SqliteFunnelEventLog log = new(database, CoreTestDatabases.Serializer);

        await Should.ThrowAsync<ArgumentException>(
            () => log.AppendAsync([View(LeadId.New(), 1), new NotRegistered { OccurredAt = T0 }]));

        (await log.ReadAsync(0, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReadLeadAsync_ManyLeads_UsesTheLeadIndex()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();

        string plan = await database.ReadAsync(
            static s => string.Join(
                " | ",
                s.Query(
                    "EXPLAIN QUERY PLAN SELECT position, payload FROM events "
                    + "WHERE lead_id = $lead ORDER BY position LIMIT $max",
                    static r => r.GetString(3),
                    ("$lead", Guid.Empty),
                    ("$max", 10))),
            CancellationToken.None);

        plan.ShouldContain("USING INDEX events_lead");
        plan.ShouldNotContain("TEMP B-TREE");
    }

    [Fact]
    public async Task FindMembersAsync_ABatchOfAThousandLeads_ReturnsTheMembersInTheOrderGivenThroughAnIndex()
    {
        using SqliteDatabase database = SqliteTestDatabase.Create();
        ISegmentMembershipStore store = new SqliteSegmentMembershipStore(database);
        LeadId[] leads = [.. Enumerable.Range(0, 1_000).Select(static i => new LeadId(new Guid(1_000 - i, 2, 0, new byte[8])))];
        for (int i = 0; i < leads.Length; i++)
        {
            await store.TryAddAsync(new SegmentMember { Segment = "s", Lead = leads[i], IsMember = i % 3 == 0, ChangedAt = T0 });
        }

        System.Collections.Immutable.ImmutableArray<LeadId> members = await store.FindMembersAsync("s", [.. leads, .. leads]);

        members.ShouldBe([.. leads.Where(static (_, i) => i % 3 == 0)]);
        string plan = await database.ReadAsync(
            static s => string.Join(
                " | ",
                s.Query(
                    "EXPLAIN QUERY PLAN " + SqliteSegmentMembershipStore.FindMembersSql,
                    static r => r.GetString(3),
                    ("$segment", "s"),
                    ("$leads", "[]"))),
            CancellationToken.None);
        plan.ShouldContain("SEARCH segment_members", Case.Sensitive, plan);
        plan.ShouldNotContain("SCAN segment_members", Case.Sensitive, plan);
    }

    private static ServiceProvider App(string connectionString) => new ServiceCollection()
        .AddFunnel()
        .AddSingleton<IClock>(new NodaTime.Testing.FakeClock(T0))
        .AddFunnelSqlite(connectionString)
        .BuildServiceProvider(validateScopes: true);

    private static PageViewed View(LeadId lead, int n) =>
        new()
        {
            LeadId = lead,
            OccurredAt = T0 + Duration.FromSeconds(n),
            Page = "/p/" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

    private sealed record NotRegistered : FunnelEvent
    {
        public override string EventType => "not_registered";
    }
}
