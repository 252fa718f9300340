using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Storage.Sqlite.Core;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>
/// The stored-format contract of the Funnel.Core tables: rows as version 0.1 writes them, checked in as literals and
/// inserted with raw SQL, must read back as these records in every later version. Never edit a literal: when a shape
/// changes, add a literal for the new shape and keep the old one reading.
/// </summary>
public sealed class CoreStoredFormatTests : IDisposable
{
    private const string AnnId = "0193f5a0-1111-7000-8000-000000000001";

    /// <summary>A lead profile document of shape 1 with every optional field set.</summary>
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

    /// <summary>2026-12-04T15:52:00Z as the <c>occurred_at</c> column stores it (Unix nanoseconds).</summary>
    private const long OccurredAtNanoseconds = 1_796_399_520_000_000_000;

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

    private readonly SqliteDatabase _database = SqliteTestDatabase.Create();

    [Fact]
    public async Task FindAsync_StoredProfileOfShape1_ReadsEveryField()
    {
        await InsertLeadAsync(ProfileV1);
        SqliteLeadStore store = new(_database);

        LeadProfile byId = (await store.FindAsync(Ann.Id)).ShouldNotBeNull();
        LeadProfile byEmail = (await store.FindByEmailAsync(Ann.Email)).ShouldNotBeNull();

        ShouldEqual(byId, Ann);
        ShouldEqual(byEmail, Ann);
        byId.ConsentStatus.ShouldBe(ConsentStatus.Withdrawn);
    }

    [Fact]
    public async Task FindAsync_StoredProfileWithUnknownFields_IgnoresThem()
    {
        string later = ProfileV1[..^1] + ""","loyaltyTier":"gold","consent2":{"purpose":"sms"}}""";
        await InsertLeadAsync(later);

        LeadProfile read = (await new SqliteLeadStore(_database).FindAsync(Ann.Id)).ShouldNotBeNull();

        ShouldEqual(read, Ann);
    }

    [Fact]
    public async Task FindAsync_StoredProfileWithOnlyRequiredFields_TakesTheDefaults()
    {
        await InsertLeadAsync(
            """{"v":1,"id":"0193f5a0-1111-7000-8000-000000000001","email":"ann@example.com","createdAt":"2026-12-04T15:52:00Z"}""");

        LeadProfile read = (await new SqliteLeadStore(_database).FindAsync(Ann.Id)).ShouldNotBeNull();

        ShouldEqual(read, new LeadProfile { Id = Ann.Id, Email = Ann.Email, CreatedAt = Ann.CreatedAt, Version = 7 });
    }

    [Fact]
    public async Task TryAddAsync_FullProfile_RoundTripsEveryField()
    {
        SqliteLeadStore store = new(_database);

        (await store.TryAddAsync(Ann)).ShouldBeTrue();

        ShouldEqual((await store.FindAsync(Ann.Id)).ShouldNotBeNull(), Ann with { Version = 0 });
        string stored = await _database.ReadAsync(
            static s => (string)s.Scalar("SELECT profile FROM leads")!, CancellationToken.None);
        stored.ShouldStartWith("""{"v":1,""");
        stored.ShouldNotContain("version", Case.Insensitive);
    }

    [Fact]
    public async Task TryAddAsync_ProfileWithLeftTopics_StoresAndReadsThem()
    {
        SqliteLeadStore store = new(_database);
        LeadProfile left = Ann with { UnsubscribedTopics = ImmutableSortedSet.Create(StringComparer.Ordinal, "webinars", "newsletter") };

        (await store.TryAddAsync(left)).ShouldBeTrue();

        ShouldEqual((await store.FindAsync(Ann.Id)).ShouldNotBeNull(), left with { Version = 0 });
        string stored = await _database.ReadAsync(static s => (string)s.Scalar("SELECT profile FROM leads")!, CancellationToken.None);
        stored.ShouldContain(""""unsubscribedTopics":["newsletter","webinars"]"""");
    }

    [Fact]
    public async Task TryAddAsync_ProfileWithSoftBounces_StoresAndReadsTheCount()
    {
        SqliteLeadStore store = new(_database);

        (await store.TryAddAsync(Ann with { SoftBounces = 2 })).ShouldBeTrue();

        (await store.FindAsync(Ann.Id)).ShouldNotBeNull().SoftBounces.ShouldBe(2);
        string stored = await _database.ReadAsync(
            static s => (string)s.Scalar("SELECT profile FROM leads")!, CancellationToken.None);
        stored.ShouldContain("\"softBounces\":2");
    }

    [Fact]
    public async Task ReadAsync_StoredEventRow_ReadsTheEventAtItsPosition()
    {
        await InsertEventAsync(41, "0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, OptedInV1);
        SqliteFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        LoggedEvent logged = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem();
        LoggedEvent byLead = (await log.ReadLeadAsync(AnnOptedIn.LeadId, 10)).ShouldHaveSingleItem();

        logged.Position.ShouldBe(41);
        byLead.Position.ShouldBe(41);
        ShouldEqual(logged.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
        ShouldEqual(byLead.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
    }

    [Fact]
    public async Task ReadAsync_StoredEventWithUnknownFields_IgnoresThem()
    {
        string later = OptedInV1[..^1] + ""","formVariant":"b","consentText":{"de":"Ja"}}""";
        await InsertEventAsync(1, "0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, later);

        LoggedEvent logged = (await new SqliteFunnelEventLog(_database, CoreTestDatabases.Serializer).ReadAsync(0, 10))
            .ShouldHaveSingleItem();

        ShouldEqual(logged.Event.ShouldBeOfType<OptedIn>(), AnnOptedIn);
    }

    [Fact]
    public async Task AppendAsync_DuplicateThenNewAfterAStoredRow_NewTakesTheNextPosition()
    {
        await InsertEventAsync(41, "0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, OptedInV1);
        SqliteFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        (await log.AppendAsync([AnnOptedIn, AnnOptedIn with { Id = EventId.New() }])).ShouldBe(1);

        (await log.ReadAsync(41, 10)).ShouldHaveSingleItem().Position.ShouldBe(42);
    }

    [Fact]
    public async Task AppendAsync_AnEvent_StoresTheSerializersJsonAndItsColumns()
    {
        SqliteFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        await log.AppendAsync([AnnOptedIn]);

        var row = await _database.ReadAsync(
            static s => s.QueryFirst(
                "SELECT position, id, type, lead_id, occurred_at, payload FROM events",
                static r => (
                    r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5))),
            CancellationToken.None);
        row.ShouldBe((1L, "0193f5a0-0000-7000-8000-000000000002", "opted_in", AnnId, OccurredAtNanoseconds,
            CoreTestDatabases.Serializer.Serialize(AnnOptedIn)));
    }

    [Fact]
    public async Task ReadAsync_StoredEventOfAnUnknownType_ReadsAsUnknownAndAppendsBackUnchanged()
    {
        const string quiz = """
            {"type":"quiz_completed","v":3,"id":"0193f5a0-0000-7000-8000-000000000009","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","score":9}
            """;
        await InsertEventAsync(5, "0193f5a0-0000-7000-8000-000000000009", "quiz_completed", AnnId, quiz);
        SqliteFunnelEventLog log = new(_database, CoreTestDatabases.Serializer);

        UnknownEvent unknown = (await log.ReadAsync(0, 10)).ShouldHaveSingleItem().Event.ShouldBeOfType<UnknownEvent>();
        using SqliteDatabase other = SqliteTestDatabase.Create();
        SqliteFunnelEventLog copy = new(other, CoreTestDatabases.Serializer);
        (await copy.AppendAsync([unknown])).ShouldBe(1);

        (unknown.Type, unknown.Version, unknown.Json).ShouldBe(("quiz_completed", 3, quiz));
        string payload = await other.ReadAsync(
            static s => (string)s.Scalar("SELECT payload FROM events")!, CancellationToken.None);
        payload.ShouldBe(quiz);
        (await copy.ReadLeadAsync(LeadId.Parse(AnnId), 10)).ShouldHaveSingleItem().Event.Id.ShouldBe(unknown.Id);
    }

    [Fact]
    public async Task FindAsync_StoredSegmentMemberSubscriptionAndParkedEvent_ReadBack()
    {
        await _database.WriteAsync(
            static s => s.Execute(
                """
                INSERT INTO segment_members (segment, lead_id, is_member, version, document) VALUES ('engaged',
                  '0193f5a0-1111-7000-8000-000000000001', 1, 3,
                  '{"v":1,"segment":"engaged","lead":"0193f5a0-1111-7000-8000-000000000001","isMember":true,"changedAt":"2026-12-04T15:52:00Z","later":1}');
                INSERT INTO event_subscriptions (name, version, document) VALUES ('scoring', 12,
                  '{"v":1,"name":"scoring","position":40,"attempts":2,"retryAt":"2026-12-04T15:53:00Z","lastError":"IOException: disk"}');
                INSERT INTO parked_events (position, handler, version, document) VALUES (40, 'scoring', 0,
                  '{"v":1,"handler":"scoring","position":40,"eventId":"0193f5a0-0000-7000-8000-000000000002","eventType":"opted_in","attempts":8,"error":"IOException: disk","parkedAt":"2026-12-04T15:59:00Z"}');
                """),
            CancellationToken.None);

        SegmentMember member =
            (await new SqliteSegmentMembershipStore(_database).FindAsync("engaged", Ann.Id)).ShouldNotBeNull();
        EventSubscription subscription =
            (await new SqliteEventSubscriptionStore(_database).FindAsync("scoring")).ShouldNotBeNull();
        ParkedEvent parked = (await new SqliteParkedEventStore(_database).ListAsync(10)).ShouldHaveSingleItem();

        member.ShouldBe(new SegmentMember
        {
            Segment = "engaged", Lead = Ann.Id, IsMember = true, ChangedAt = Instant.FromUtc(2026, 12, 4, 15, 52),
            Version = 3,
        });
        subscription.ShouldBe(new EventSubscription
        {
            Name = "scoring", Position = 40, Attempts = 2, RetryAt = Instant.FromUtc(2026, 12, 4, 15, 53),
            LastError = "IOException: disk", Version = 12,
        });
        parked.ShouldBe(new ParkedEvent
        {
            Handler = "scoring", Position = 40, EventId = AnnOptedIn.Id, EventType = "opted_in", Attempts = 8,
            Error = "IOException: disk", ParkedAt = Instant.FromUtc(2026, 12, 4, 15, 59),
        });
    }

    public void Dispose() => _database.Dispose();

    /// <summary>Compares profiles: collections by content and ordinal comparer, the rest by record equality.</summary>
    internal static void ShouldEqual(LeadProfile actual, LeadProfile expected)
    {
        actual.Tags.ShouldBe(expected.Tags);
        actual.Tags.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        actual.CustomFields.ShouldBe(expected.CustomFields);
        actual.CustomFields.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        actual.Magnets.ShouldBe(expected.Magnets);
        actual.UnsubscribedTopics.ShouldBe(expected.UnsubscribedTopics);
        actual.UnsubscribedTopics.KeyComparer.ShouldBeSameAs(StringComparer.Ordinal);
        (actual with { Tags = expected.Tags, CustomFields = expected.CustomFields, Magnets = expected.Magnets, UnsubscribedTopics = expected.UnsubscribedTopics })
            .ShouldBe(expected);
    }

    private static void ShouldEqual(OptedIn actual, OptedIn expected)
    {
        actual.Properties.ShouldBe(expected.Properties);
        (actual with { Properties = expected.Properties }).ShouldBe(expected);
    }

    private Task<int> InsertLeadAsync(string profile) => _database.WriteAsync(
        s => s.Execute(
            "INSERT INTO leads (id, email, version, profile) VALUES ($id, 'ann@example.com', 7, $profile)",
            ("$id", AnnId),
            ("$profile", profile)),
        CancellationToken.None);

    private Task<int> InsertEventAsync(long position, string id, string type, string lead, string payload) =>
        _database.WriteAsync(
            s => s.Execute(
                "INSERT INTO events (position, id, type, lead_id, occurred_at, payload) "
                + "VALUES ($p, $id, $type, $lead, $at, $payload)",
                ("$p", position),
                ("$id", id),
                ("$type", type),
                ("$lead", lead),
                ("$at", OccurredAtNanoseconds),
                ("$payload", payload)),
            CancellationToken.None);
}
