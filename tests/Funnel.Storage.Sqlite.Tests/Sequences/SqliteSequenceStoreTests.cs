using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Storage.Sqlite.Sequences;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>What the SQLite sequence stores do beyond the shared specifications: registration, stored formats, indexes.</summary>
public sealed class SqliteSequenceStoreTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));
    private readonly SqliteDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddFunnelSqlite_BeforeOrAfterAddFunnelSequences_ResolvesTheSqliteStores(bool sqliteFirst)
    {
        ServiceCollection services = new();
        string connection = "Data Source=" + SqliteTestDatabase.NewPath();
        if (sqliteFirst)
        {
            services.AddFunnelSqlite(connection);
        }

        services.AddFunnelSequences();
        if (!sqliteFirst)
        {
            services.AddFunnelSqlite(connection);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<ISendOutbox>().ShouldBeOfType<SqliteSendOutbox>();
        provider.GetRequiredService<IEnrolmentStore>().ShouldBeOfType<SqliteEnrolmentStore>();
        provider.GetRequiredService<IBroadcastStore>().ShouldBeOfType<SqliteBroadcastStore>();
        services.Count(d => d.ServiceType == typeof(ISendOutbox)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IEnrolmentStore)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IBroadcastStore)).ShouldBe(1);
    }

    [Fact]
    public async Task ClaimEventsAsync_EverySequenceEventType_ComesBackAsStored()
    {
        SqliteSendOutbox outbox = new(_databases.Create(), SequenceStoreKit.Serializer);
        EnrolmentId enrolment = EnrolmentId.New();
        FunnelEvent[] events =
        [
            new EmailSent { LeadId = Lead, OccurredAt = Now, Email = "nurture-1" },
            new EmailFailed { LeadId = Lead, OccurredAt = Now, Email = "nurture-2", Permanent = false, Attempt = 2, Error = "451 try later" },
            new EmailSuppressed { LeadId = Lead, OccurredAt = Now, Email = "nurture-3", Reason = "unsubscribed" },
            new SequenceEnrolled { LeadId = Lead, OccurredAt = Now, Sequence = "nurture", Enrolment = enrolment },
            new SequenceExited { LeadId = Lead, OccurredAt = Now, Sequence = "nurture", Enrolment = enrolment, Goal = "order_placed" },
            new SequenceCompleted { LeadId = Lead, OccurredAt = Now + Duration.FromTicks(1234567), Sequence = "nurture", Enrolment = enrolment },
        ];
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();

        (await outbox.TryUpdateAsync(claimed, claimed with { State = SendState.Sent, Events = [.. events] })).ShouldBeTrue();

        ImmutableArray<FunnelEvent> read = await outbox.ClaimEventsAsync(Now, 10, Lease);
        read.Select(e => e.GetType()).ShouldBe(events.Select(e => e.GetType()));
        read.Select(SequenceStoreKit.Serializer.Serialize).ShouldBe(events.Select(SequenceStoreKit.Serializer.Serialize));
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementKeepsTheCurrentEvents_DoesNotRecordThemAgain()
    {
        SqliteSendOutbox outbox = new(_databases.Create(), SequenceStoreKit.Serializer);
        await outbox.TryAddAsync(Entry("a", Now));
        OutboxEntry claimed = (await outbox.ClaimDueAsync(Now, 1, Lease, "d1")).ShouldHaveSingleItem();
        OutboxEntry outcome = claimed with { Outcome = SendState.Sent, Events = [new EmailSent { LeadId = Lead, OccurredAt = Now, Email = "a" }] };
        (await outbox.TryUpdateAsync(claimed, outcome)).ShouldBeTrue();
        OutboxEntry recorded = outcome with { Version = claimed.Version + 1 };
        FunnelEvent handed = (await outbox.ClaimEventsAsync(Now, 10, Lease)).ShouldHaveSingleItem();
        await outbox.AcknowledgeEventsAsync([handed.Id]);

        (await outbox.TryUpdateAsync(recorded, recorded with { State = SendState.Sent, CompletedAt = Now })).ShouldBeTrue();

        (await outbox.ClaimEventsAsync(Now + Lease, 10, Lease)).ShouldBeEmpty();
        OutboxEntry stored = (await outbox.FindAsync("a")).ShouldNotBeNull();
        (stored.State, stored.Outcome, stored.Version, stored.Events.IsEmpty).ShouldBe((SendState.Sent, (SendState?)SendState.Sent, 3L, true));
    }

    [Fact]
    public async Task FindAsync_AfterTheFileIsReopened_ReturnsEveryFieldAsStored()
    {
        string path = SqliteTestDatabase.NewPath();
        SqliteDatabase first = _databases.Open(path);
        OutboxEntry entry = Entry("e:1", Now) with
        {
            State = SendState.FailedTransient, Attempts = 2, ClaimedBy = "d9", CompletedAt = Now + Duration.FromMilliseconds(1),
            MessageId = "<e:1@example.com>", Reason = "451 – try later", Outcome = SendState.Sent, StepIndex = 3,
            ScheduledFor = Now - Duration.FromDays(1),
        };
        Enrolment enrolment = new()
        {
            Id = EnrolmentId.New(), LeadId = Lead, Sequence = "webinar", EnrolledAt = Now, Anchor = Now + Duration.FromDays(3),
            Status = EnrolmentStatus.AwaitingConsent, LastSentAt = Now + Duration.FromNanoseconds(1), EndedAt = Now + Duration.FromDays(9),
            Fields = ImmutableDictionary<string, string>.Empty.Add("confirmation_url", "https://example.com/c?t=1&u=\"x\"").Add("magnet", "guide"),
        };
        await new SqliteSendOutbox(first, SequenceStoreKit.Serializer).TryAddAsync(entry);
        await new SqliteEnrolmentStore(first).TryAddAsync(enrolment, ReEntryPolicy.AfterEnded);
        first.Dispose();

        SqliteDatabase reopened = _databases.Open(path);
        OutboxEntry storedEntry = (await new SqliteSendOutbox(reopened, SequenceStoreKit.Serializer).FindAsync("e:1")).ShouldNotBeNull();
        Enrolment storedEnrolment = (await new SqliteEnrolmentStore(reopened).FindAsync(enrolment.Id)).ShouldNotBeNull();

        storedEntry.ShouldBe(entry with { Events = [] });
        storedEnrolment.Fields.ShouldBe(enrolment.Fields, ignoreOrder: true);
        storedEnrolment.ShouldBe(enrolment with { Fields = storedEnrolment.Fields });
    }

    [Fact]
    public async Task ListForLeadAsync_AFixedVersion1RowWithAnUnknownField_Reads()
    {
        SqliteDatabase database = _databases.Create();
        await database.WriteAsync(
            static s => s.Execute(
                "INSERT INTO enrolments (id, lead_id, sequence, status, re_entry, version, document) VALUES "
                + "('0191c1b2-0000-7000-8000-000000000001', '00000007-0000-0000-0000-000000000000', 'guide-nurture', 1, 0, 4, "
                + "'{\"v\":1,\"enrolledAt\":\"2026-03-02T09:00:00Z\",\"lastSentAt\":\"2026-03-08T08:00:00.5Z\","
                + "\"endedAt\":\"2026-03-08T08:00:00.5Z\",\"fields\":{\"magnet\":\"quick-start-guide\"},\"addedLater\":[1,2]}')"),
            CancellationToken.None);

        Enrolment read = (await new SqliteEnrolmentStore(database).ListForLeadAsync(Lead)).ShouldHaveSingleItem();

        read.Id.ShouldBe(new EnrolmentId(Guid.Parse("0191c1b2-0000-7000-8000-000000000001")));
        (read.Sequence, read.Status, read.Version, read.Anchor).ShouldBe(("guide-nurture", EnrolmentStatus.Completed, 4L, (Instant?)null));
        read.EnrolledAt.ShouldBe(Now);
        read.LastSentAt.ShouldBe(Instant.FromUtc(2026, 3, 8, 8, 0) + Duration.FromMilliseconds(500));
        read.Fields.ShouldBe(ImmutableDictionary<string, string>.Empty.Add("magnet", "quick-start-guide"));
    }

    [Fact]
    public async Task TryAddAsync_AFullBroadcast_StoresFormat1WithoutTheVersionOrTheComputedKey()
    {
        SqliteDatabase database = _databases.Create();
        Broadcast full = FullBroadcast() with { Version = 9 };

        (await new SqliteBroadcastStore(database).TryAddAsync(full)).ShouldBeTrue();

        (long status, long dueAt, long version, string document) = await database.ReadAsync(
            static s => s.QueryFirst(
                "SELECT status, due_at, version, document FROM broadcasts WHERE key = 'webinar-promo'",
                static r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3))),
            CancellationToken.None);
        (status, dueAt, version).ShouldBe((1L, SqliteValues.Nanoseconds(Now + Lease), 0L));
        document.ShouldBe(FullBroadcastJson);
    }

    [Fact]
    public async Task FindAsync_AFixedVersion1BroadcastRowWithAnUnknownField_Reads()
    {
        SqliteDatabase database = _databases.Create();
        await database.WriteAsync(
            static s => s.Execute(
                "INSERT INTO broadcasts (key, status, due_at, version, document) VALUES ('webinar-promo', 1, 0, 3, $document)",
                ("$document", FullBroadcastJson.Replace("\"v\":1,", "\"v\":1,\"addedLater\":[1,2],", StringComparison.Ordinal))),
            CancellationToken.None);

        Broadcast read = (await new SqliteBroadcastStore(database).FindAsync("webinar-promo")).ShouldNotBeNull();

        read.ShouldBeEquivalentTo(FullBroadcast() with { Version = 3 });
    }

    [Fact]
    public async Task ClaimEventsAsync_AFixedStoredEmailSentRow_Reads()
    {
        SqliteDatabase database = _databases.Create();
        await database.WriteAsync(
            static s => s.Execute(
                "INSERT INTO outbox_events (id, available_at, type, payload) VALUES ('0191c1b2-0000-7000-8000-0000000000e1', -9223372036854775807, 'email_sent', "
                + "'{\"type\":\"email_sent\",\"v\":1,\"id\":\"0191c1b2-0000-7000-8000-0000000000e1\",\"occurredAt\":\"2026-03-02T09:00:00Z\","
                + "\"leadId\":\"00000007-0000-0000-0000-000000000000\",\"email\":\"nurture-1\"}')"),
            CancellationToken.None);

        FunnelEvent read = (await new SqliteSendOutbox(database, SequenceStoreKit.Serializer).ClaimEventsAsync(Now, 10, Lease)).ShouldHaveSingleItem();

        EmailSent sent = read.ShouldBeOfType<EmailSent>();
        (sent.Id, sent.LeadId, sent.OccurredAt, sent.Email).ShouldBe((new EventId(Guid.Parse("0191c1b2-0000-7000-8000-0000000000e1")), Lead, Now, "nurture-1"));
    }

    [Fact]
    public async Task TryAddAsync_AlwaysPolicy_AddsASecondOpenEnrolmentButBlocksAnAfterEndedOne()
    {
        SqliteEnrolmentStore store = new(_databases.Create());

        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Always)).ShouldBeTrue();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Always)).ShouldBeTrue();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.AfterEnded)).ShouldBeFalse();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Never)).ShouldBeFalse();

        (await store.ListForLeadAsync(Lead)).Length.ShouldBe(2);
    }

    [Fact]
    public async Task TryUpdateManyAsync_OneUpdateWouldReopenASecondEnrolment_ThrowsAndStoresNothingOfTheBatch()
    {
        SqliteEnrolmentStore store = new(_databases.Create());
        Enrolment ended = NewEnrolment("nurture");
        await store.TryAddAsync(ended, ReEntryPolicy.AfterEnded);
        await store.TryUpdateAsync(ended, ended with { Status = EnrolmentStatus.Exited, EndedAt = Now });
        Enrolment open = NewEnrolment("nurture");
        await store.TryAddAsync(open, ReEntryPolicy.AfterEnded);
        Enrolment exited = (await store.FindAsync(ended.Id)).ShouldNotBeNull();

        await Should.ThrowAsync<SqliteException>(() => store.TryUpdateManyAsync(
            [(open, open with { LastSentAt = Now }), (exited, exited with { Status = EnrolmentStatus.Active, EndedAt = null })]));

        (await store.FindAsync(open.Id)).ShouldNotBeNull().Version.ShouldBe(0, "the batch is one transaction: its first update is rolled back too");
        (await store.FindAsync(ended.Id)).ShouldNotBeNull().Status.ShouldBe(EnrolmentStatus.Exited);
    }

    [Theory]
    [InlineData(SqliteSendOutbox.DueSql, "outbox_due")]
    [InlineData(SqliteSendOutbox.PurgeSql, "outbox_completed")]
    [InlineData(SqliteSendOutbox.AvailableEventsSql, "outbox_events_available")]
    [InlineData(SqliteBroadcastStore.DueSql, "broadcasts_due")]
    public async Task QueryPlan_HotPathStatements_UseTheirIndexWithoutASort(string sql, string index)
    {
        SqliteDatabase database = _databases.Create();

        List<string> plan = await database.ReadAsync(
            s => s.Query("EXPLAIN QUERY PLAN " + sql, static r => r.GetString(3), ("$now", 0L), ("$max", 10), ("$before", 0L)),
            CancellationToken.None);

        plan.ShouldContain(p => p.Contains("USING INDEX " + index, StringComparison.Ordinal), string.Join(" | ", plan));
        plan.ShouldNotContain(p => p.Contains("TEMP B-TREE", StringComparison.Ordinal), string.Join(" | ", plan));
    }

    /// <summary>The stored document of <see cref="FullBroadcast"/>, format 1: pinned, so a change of the shape is a decision.</summary>
    private const string FullBroadcastJson =
        "{\"v\":1,\"definition\":{\"key\":\"webinar-promo\",\"segment\":\"newsletter\",\"subject\":\"Webinar tomorrow\","
        + "\"textBody\":\"Join us, {{ first_name }}.\",\"htmlBody\":\"\\u003Cp\\u003EJoin us,"
        + " {{ first_name }}.\\u003C/p\\u003E\",\"localSendAt\":\"2026-03-03T09:00:00\",\"maxSendsPerMinute\":500,"
        + "\"trackClicks\":false,\"fields\":{\"first_name\":\"there\"},\"variants\":[{\"key\":\"control\",\"weight\":1},"
        + "{\"key\":\"short\",\"weight\":3,\"subject\":\"Tomorrow\"}]},\"status\":\"queuing\","
        + "\"createdAt\":\"2026-03-01T09:00:00Z\",\"dueAt\":\"2026-03-02T09:05:00Z\",\"claimedBy\":\"instance-1\","
        + "\"startedAt\":\"2026-03-02T09:00:00Z\",\"cursor\":\"00000007-0000-0000-0000-000000000000\","
        + "\"queued\":1234,\"slots\":[{\"at\":\"2026-03-02T09:00:00Z\",\"queued\":1000},"
        + "{\"at\":\"2026-03-02T09:01:00.000000001Z\",\"queued\":234}]}";

    private static Broadcast FullBroadcast() => new()
    {
        Definition = new BroadcastDefinition
        {
            Key = "webinar-promo",
            Segment = "newsletter",
            Subject = "Webinar tomorrow",
            TextBody = "Join us, {{ first_name }}.",
            HtmlBody = "<p>Join us, {{ first_name }}.</p>",
            LocalSendAt = new LocalDateTime(2026, 3, 3, 9, 0),
            MaxSendsPerMinute = 500,
            TrackClicks = false,
            Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
            Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Weight = 3, Subject = "Tomorrow" }],
        },
        Status = BroadcastStatus.Queuing,
        CreatedAt = Now - Duration.FromDays(1),
        DueAt = Now + Lease,
        StartedAt = Now,
        ClaimedBy = "instance-1",
        Cursor = Lead,
        Queued = 1234,
        Slots = [new BroadcastSlot(Now, 1000), new BroadcastSlot(Now + Duration.FromMinutes(1) + Duration.FromNanoseconds(1), 234)],
    };

    private static Enrolment NewEnrolment(string sequence) =>
        new() { Id = EnrolmentId.New(), LeadId = Lead, Sequence = sequence, EnrolledAt = Now };

    internal static OutboxEntry Entry(string key, Instant due) => new()
    {
        Key = key,
        Enrolment = new EnrolmentId(new Guid(1, 0, 0, new byte[8])),
        LeadId = Lead,
        Sequence = "nurture",
        StepIndex = 0,
        ScheduledFor = due,
        DueAt = due,
    };
}
