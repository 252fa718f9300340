using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Tests.Core;

/// <summary>
/// The stored-format contract of the Funnel.Core tables on PostgreSQL: the documents are the JSON the SQLite stores
/// write (the literals of the SQLite <c>CoreStoredFormatTests</c>), compared as <c>jsonb</c>, so rows written by either
/// read back in both. Never edit a literal: when a shape changes, add a literal for the new shape.
/// </summary>
public sealed class CoreStoredFormatTests : IAsyncLifetime, IDisposable
{
    private const string AnnId = "0193f5a0-1111-7000-8000-000000000001";

    /// <summary>A lead profile document of shape 1 with every optional field set, as SQLite stores it.</summary>
    private const string ProfileV1 = """
        {"v":1,"id":"0193f5a0-1111-7000-8000-000000000001","email":"ann@example.com",
        "createdAt":"2026-12-04T15:52:00Z","stage":"marketing_qualified","score":12.5,"timeZoneId":"Europe/Berlin",
        "tags":["Zeta","alpha","vip"],"customFields":{"country":"DE","first_name":"Ann"},
        "consent":{"purpose":"marketing-email","status":"withdrawn","method":"double_opt_in","source":"quick-start-guide",
        "recordedAt":"2026-12-04T15:52:00Z","confirmedAt":"2026-12-04T16:01:30.25Z","text":"Send me the guide and tips."},
        "pendingConfirmation":{"tokenHash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "expiresAt":"2026-12-06T15:52:00Z"},
        "unsubscribedAt":"2026-12-10T08:00:00Z","bouncedAt":"2026-12-11T08:00:00Z","complainedAt":"2026-12-12T08:00:00Z",
        "firstTouch":{"channel":"facebook","campaign":"launch","source":"Facebook","medium":"cpc","content":"video-a",
        "term":"ebook","referrer":"https://facebook.com/"},
        "lastTouch":{"channel":"email","source":"email"},
        "magnets":["quick-start-guide","checklist"]}
        """;

    /// <summary>An <c>opted_in</c> event as the serializer writes it, with attribution and properties.</summary>
    private const string OptedInV1 = """
        {"type":"opted_in","v":1,"id":"0193f5a0-0000-7000-8000-000000000002","occurredAt":"2026-12-04T15:52:00Z",
        "leadId":"0193f5a0-1111-7000-8000-000000000001","attribution":{"channel":"facebook","campaign":"launch",
        "source":"Facebook"},"properties":{"form":"footer"},"magnet":"quick-start-guide"}
        """;

    private const string SegmentMemberV1 =
        """{"v":1,"segment":"engaged","lead":"0193f5a0-1111-7000-8000-000000000001","isMember":true,"changedAt":"2026-12-04T15:52:00Z"}""";

    private const string SubscriptionV1 =
        """{"v":1,"name":"scoring","position":40,"attempts":2,"retryAt":"2026-12-04T15:53:00Z","lastError":"IOException: disk"}""";

    private const string LeasedSubscriptionV1 =
        """{"v":1,"name":"scoring#2/4","position":40,"attempts":0,"leaseOwner":"web-1","leaseUntil":"2026-12-04T15:53:00.123456789Z"}""";

    private const string ParkedV1 =
        """{"v":1,"handler":"scoring","position":40,"eventId":"0193f5a0-0000-7000-8000-000000000002","eventType":"opted_in","attempts":8,"error":"IOException: disk","parkedAt":"2026-12-04T15:59:00Z"}""";

    private static readonly LeadProfile Ann = new()
    {
        Id = LeadId.Parse(AnnId),
        Email = EmailAddress.Parse("ann@example.com"),
        CreatedAt = Instant.FromUtc(2026, 12, 4, 15, 52),
        Stage = LifecycleStage.MarketingQualified,
        Score = 12.5,
        TimeZoneId = "Europe/Berlin",
        Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, "vip", "alpha", "Zeta"),
        CustomFields = ImmutableSortedDictionary.CreateRange(
            StringComparer.Ordinal, [new("first_name", "Ann"), new KeyValuePair<string, string>("country", "DE")]),
        Consent = new ConsentRecord
        {
            Purpose = "marketing-email",
            Status = ConsentStatus.Withdrawn,
            Method = ConsentMethod.DoubleOptIn,
            Source = "quick-start-guide",
            RecordedAt = Instant.FromUtc(2026, 12, 4, 15, 52),
            ConfirmedAt = Instant.FromUtc(2026, 12, 4, 16, 1, 30) + Duration.FromMilliseconds(250),
            Text = "Send me the guide and tips.",
        },
        PendingConfirmation = new PendingConfirmation(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Instant.FromUtc(2026, 12, 6, 15, 52)),
        UnsubscribedAt = Instant.FromUtc(2026, 12, 10, 8, 0),
        BouncedAt = Instant.FromUtc(2026, 12, 11, 8, 0),
        ComplainedAt = Instant.FromUtc(2026, 12, 12, 8, 0),
        FirstTouch = new Attribution
        {
            Channel = "facebook", Campaign = "launch", Source = "Facebook", Medium = "cpc", Content = "video-a",
            Term = "ebook", Referrer = "https://facebook.com/",
        },
        LastTouch = new Attribution { Channel = "email", Source = "email" },
        Magnets = ["quick-start-guide", "checklist"],
        Version = 7,
    };

    private static readonly OptedIn AnnOptedIn = new()
    {
        Id = new EventId(Guid.Parse("0193f5a0-0000-7000-8000-000000000002")),
        OccurredAt = Instant.FromUtc(2026, 12, 4, 15, 52),
        LeadId = LeadId.Parse(AnnId),
        Attribution = new Attribution { Channel = "facebook", Campaign = "launch", Source = "Facebook" },
        Properties = ImmutableDictionary.CreateRange([new KeyValuePair<string, string>("form", "footer")]),
        Magnet = "quick-start-guide",
    };

    private readonly CoreTestDatabases _databases = new();
    private PgDatabase _database = null!;

    public async Task InitializeAsync() => _database = await _databases.CreateAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _databases.Dispose();

    [Fact]
    public async Task FindAsync_StoredProfileOfShape1_ReadsEveryField()
    {
        await InsertLeadAsync(ProfileV1);
        PgLeadStore store = new(_database);

        LeadProfile byId = (await store.FindAsync(Ann.Id)).ShouldNotBeNull();
        LeadProfile byEmail = (await store.FindByEmailAsync(Ann.Email)).ShouldNotBeNull();
        LeadProfile many = (await store.FindManyAsync([Ann.Id, LeadId.New(), Ann.Id])).ShouldHaveSingleItem();

        ShouldEqual(byId, Ann);
        ShouldEqual(byEmail, Ann);
        ShouldEqual(many, Ann);
        byId.ConsentStatus.ShouldBe(ConsentStatus.Withdrawn);
    }

    [Fact]
    public async Task FindAsync_StoredProfileWithUnknownFields_IgnoresThem()
    {
        await InsertLeadAsync(ProfileV1[..^1] + ""","loyaltyTier":"gold","consent2":{"purpose":"sms"}}""");

        ShouldEqual((await new PgLeadStore(_database).FindAsync(Ann.Id)).ShouldNotBeNull(), Ann);
    }

    [Fact]
    public async Task FindAsync_StoredProfileWithOnlyRequiredFields_TakesTheDefaults()
    {
        await InsertLeadAsync(
            """{"v":1,"id":"0193f5a0-1111-7000-8000-000000000001","email":"ann@example.com","createdAt":"2026-12-04T15:52:00Z"}""");

        LeadProfile read = (await new PgLeadStore(_database).FindAsync(Ann.Id)).ShouldNotBeNull();

        ShouldEqual(read, new LeadProfile { Id = Ann.Id, Email = Ann.Email, CreatedAt = Ann.CreatedAt, Version = 7 });
    }

    [Fact]
    public async Task TryAddAsync_FullProfile_StoresTheDocumentSqliteStores()
    {
        PgLeadStore store = new(_database);

        (await store.TryAddAsync(Ann)).ShouldBeTrue();

        ShouldEqual((await store.FindAsync(Ann.Id)).ShouldNotBeNull(), Ann with { Version = 0 });
        // Written today with the earlier confirmation links (issue 17), which a V1 document without them reads as none.
        string written = ProfileV1.Replace("\"expiresAt\":\"2026-12-06T15:52:00Z\"}", "\"expiresAt\":\"2026-12-06T15:52:00Z\",\"earlier\":[]}", StringComparison.Ordinal);
        written.ShouldNotBe(ProfileV1);
        (await ScalarAsync("SELECT profile = $1::jsonb FROM funnel.leads", written)).ShouldBe(true);
        (await ScalarAsync("SELECT (id::text, email, version)::text FROM funnel.leads")).ShouldBe($"({AnnId},ann@example.com,0)");
    }

    [Fact]
    public async Task ReadAsync_StoredEventRow_ReadsTheEvent()
    {
        await InsertEventAsync("0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, OptedInV1);
        PgFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        LoggedEvent logged = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem();
        LoggedEvent byLead = (await log.ReadLeadAsync(AnnOptedIn.LeadId, 10)).ShouldHaveSingleItem();

        logged.Position.ShouldBe(1);
        byLead.Position.ShouldBe(1);
        ShouldEqual(logged.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
        ShouldEqual(byLead.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
    }

    [Fact]
    public async Task ReadAsync_StoredEventWithUnknownFields_IgnoresThem()
    {
        await InsertEventAsync("0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, OptedInV1[..^1] + ""","formVariant":"b","consentText":{"de":"Ja"}}""");

        LoggedEvent logged = (await new PgFunnelEventLog(_database, CoreTestDatabases.Serializer).ReadAsync(0, 10)).ShouldHaveSingleItem();

        ShouldEqual(logged.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
    }

    [Fact]
    public async Task AppendAsync_AnEvent_StoresTheSerializersJsonAndItsColumns()
    {
        PgFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        (await log.AppendAsync([AnnOptedIn])).ShouldBe(1);

        (await ScalarAsync(
            "SELECT (position, id::text, type, lead_id::text, partition_key, occurred_at = '2026-12-04T15:52:00Z')::text FROM funnel.events"))
            .ShouldBe($"(1,0193f5a0-0000-7000-8000-000000000002,opted_in,{AnnId},{LogPartition.KeyOf(Ann.Id)},t)");
        (await ScalarAsync("SELECT payload = $1::jsonb FROM funnel.events", OptedInV1)).ShouldBe(true);
        (await ScalarAsync("SELECT payload = $1::jsonb FROM funnel.events", CoreTestDatabases.Serializer.Serialize(AnnOptedIn))).ShouldBe(true);
    }

    [Fact]
    public async Task AppendAsync_DuplicatesInAndAcrossBatches_SpendNoPosition()
    {
        PgFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);
        OptedIn second = AnnOptedIn with { Id = EventId.New() };

        (await log.AppendAsync([AnnOptedIn, AnnOptedIn])).ShouldBe(1);
        (await log.AppendAsync([AnnOptedIn, second])).ShouldBe(1);

        (await log.ReadAsync(0, 10)).Select(e => (e.Position, e.Event.Id)).ShouldBe([(1L, AnnOptedIn.Id), (2L, second.Id)]);
    }

    [Fact]
    public async Task ReadAsync_StoredEventOfAnUnknownType_ReadsAsUnknownAndAppendsBackAsTheSameJsonAndLead()
    {
        const string quiz = """
            {"type":"quiz_completed","v":3,"id":"0193f5a0-0000-7000-8000-000000000009","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","score":9}
            """;
        await InsertEventAsync("0193f5a0-0000-7000-8000-000000000009", "quiz_completed", AnnId, quiz);
        PgFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        UnknownEvent unknown = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem().Event.ShouldBeOfType<UnknownEvent>();
        PgDatabase other = await _databases.CreateAsync();
        PgFunnelEventLog copy = new(other, CoreTestDatabases.Serializer);
        (await copy.AppendAsync([unknown])).ShouldBe(1);

        (unknown.Type, unknown.Version, unknown.Id.Value).ShouldBe(("quiz_completed", 3, Guid.Parse("0193f5a0-0000-7000-8000-000000000009")));
        (await ScalarAsync(other, "SELECT payload = $1::jsonb FROM funnel.events", quiz)).ShouldBe(true);
        (await ScalarAsync(other, "SELECT (lead_id::text, partition_key)::text FROM funnel.events"))
            .ShouldBe($"({AnnId},{LogPartition.KeyOf(Ann.Id)})");
        (await copy.ReadLeadAsync(Ann.Id, 10)).ShouldHaveSingleItem().Event.Id.ShouldBe(unknown.Id);
        LogPartition annsPartition = new(LogPartition.KeyOf(Ann.Id) % 4, 4);
        (await copy.ReadPartitionAsync(0, 10, annsPartition)).ShouldHaveSingleItem().Event.Id.ShouldBe(unknown.Id);
    }

    [Fact]
    public async Task FindAsync_StoredSegmentMemberSubscriptionsAndParkedEvent_ReadBack()
    {
        await InsertAsync(
            "INSERT INTO funnel.segment_members (segment, lead_id, is_member, version, document) VALUES ('engaged', $2, true, 3, $1::jsonb)",
            SegmentMemberV1[..^1] + ""","later":1}""",
            Guid.Parse(AnnId));
        await InsertAsync("INSERT INTO funnel.event_subscriptions (name, version, document) VALUES ('scoring', 12, $1::jsonb)", SubscriptionV1);
        await InsertAsync("INSERT INTO funnel.event_subscriptions (name, version, document) VALUES ('scoring#2/4', 5, $1::jsonb)", LeasedSubscriptionV1);
        await InsertAsync("INSERT INTO funnel.parked_events (position, handler, version, document) VALUES (40, 'scoring', 0, $1::jsonb)", ParkedV1);

        SegmentMember member = (await new PgSegmentMembershipStore(_database).FindAsync("engaged", Ann.Id)).ShouldNotBeNull();
        IReadOnlyList<EventSubscription> subscriptions = await new PgEventSubscriptionStore(_database).ListAsync();
        ParkedEvent parked = (await new PgParkedEventStore(_database).ListAsync(10)).ShouldHaveSingleItem();

        member.ShouldBe(new SegmentMember
        {
            Segment = "engaged", Lead = Ann.Id, IsMember = true, ChangedAt = Instant.FromUtc(2026, 12, 4, 15, 52), Version = 3,
        });
        subscriptions.ShouldBe(
        [
            new EventSubscription
            {
                Name = "scoring", Position = 40, Attempts = 2, RetryAt = Instant.FromUtc(2026, 12, 4, 15, 53),
                LastError = "IOException: disk", Version = 12,
            },
            new EventSubscription
            {
                Name = "scoring#2/4", Position = 40, LeaseOwner = "web-1",
                LeaseUntil = Instant.FromUtc(2026, 12, 4, 15, 53) + Duration.FromNanoseconds(123_456_789), Version = 5,
            },
        ]);
        parked.ShouldBe(new ParkedEvent
        {
            Handler = "scoring", Position = 40, EventId = AnnOptedIn.Id, EventType = "opted_in", Attempts = 8,
            Error = "IOException: disk", ParkedAt = Instant.FromUtc(2026, 12, 4, 15, 59),
        });
    }

    [Fact]
    public async Task TryAddAsync_SegmentMemberSubscriptionAndParkedEvent_StoreTheDocumentsSqliteStores()
    {
        await new PgSegmentMembershipStore(_database).TryAddAsync(new SegmentMember
        {
            Segment = "engaged", Lead = Ann.Id, IsMember = true, ChangedAt = Instant.FromUtc(2026, 12, 4, 15, 52),
        });
        await new PgEventSubscriptionStore(_database).TryAddAsync(new EventSubscription
        {
            Name = "scoring#2/4", Position = 40, LeaseOwner = "web-1",
            LeaseUntil = Instant.FromUtc(2026, 12, 4, 15, 53) + Duration.FromNanoseconds(123_456_789),
        });
        await new PgParkedEventStore(_database).TryAddAsync(new ParkedEvent
        {
            Handler = "scoring", Position = 40, EventId = AnnOptedIn.Id, EventType = "opted_in", Attempts = 8,
            Error = "IOException: disk", ParkedAt = Instant.FromUtc(2026, 12, 4, 15, 59),
        });

        (await ScalarAsync("SELECT document = $1::jsonb AND is_member FROM funnel.segment_members", SegmentMemberV1)).ShouldBe(true);
        (await ScalarAsync("SELECT document = $1::jsonb FROM funnel.event_subscriptions", LeasedSubscriptionV1)).ShouldBe(true);
        (await ScalarAsync("SELECT document = $1::jsonb FROM funnel.parked_events", ParkedV1)).ShouldBe(true);
    }

    /// <summary>Compares profiles: collections by content and ordinal comparer, the rest by record equality.</summary>
    private static void ShouldEqual(LeadProfile actual, LeadProfile expected)
    {
        actual.Tags.ShouldBe(expected.Tags);
        actual.Tags.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        actual.CustomFields.ShouldBe(expected.CustomFields);
        actual.CustomFields.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        actual.Magnets.ShouldBe(expected.Magnets);
        actual.UnsubscribedTopics.ShouldBe(expected.UnsubscribedTopics);
        actual.UnsubscribedTopics.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        (actual with { Tags = expected.Tags, CustomFields = expected.CustomFields, Magnets = expected.Magnets, UnsubscribedTopics = expected.UnsubscribedTopics }).ShouldBe(expected);
    }

    private static void ShouldEqual(OptedIn actual, OptedIn expected)
    {
        actual.Properties.ShouldBe(expected.Properties);
        (actual with { Properties = expected.Properties }).ShouldBe(expected);
    }

    private Task<object?> ScalarAsync(string sql, params object[] args) => ScalarAsync(_database, sql, args);

    private static async Task<object?> ScalarAsync(PgDatabase database, string sql, params object[] args)
    {
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = new(sql, connection);
        foreach (object arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return await command.ExecuteScalarAsync();
    }

    private Task<object?> InsertAsync(string sql, params object[] args) => ScalarAsync(sql, args);

    private Task<object?> InsertLeadAsync(string profile) =>
        InsertAsync("INSERT INTO funnel.leads (id, email, version, profile) VALUES ($1, 'ann@example.com', 7, $2::jsonb)", Guid.Parse(AnnId), profile);

    private Task<object?> InsertEventAsync(string id, string type, string lead, string payload) =>
        InsertAsync(
            "INSERT INTO funnel.events (id, type, lead_id, partition_key, occurred_at, payload) "
            + "VALUES ($1, $2, $3, $4, '2026-12-04T15:52:00Z', $5::jsonb)",
            Guid.Parse(id),
            type,
            Guid.Parse(lead),
            LogPartition.KeyOf(LeadId.Parse(lead)),
            payload);
}
