using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>What the PostgreSQL sequence stores do beyond the shared specifications: registration, stored formats, plans, NOTIFY.</summary>
public sealed class PgSequenceStoreTests : IAsyncDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly Duration Lease = Duration.FromMinutes(5);
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, new byte[8]));
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddFunnelPostgreSql_BeforeOrAfterAddFunnelSequences_ResolvesThePostgreSqlStores(bool postgresFirst)
    {
        ServiceCollection services = new();
        const string Connection = "Host=127.0.0.1;Database=unused";
        if (postgresFirst)
        {
            services.AddFunnelPostgreSql(Connection);
        }

        services.AddFunnelSequences();
        if (!postgresFirst)
        {
            services.AddFunnelPostgreSql(Connection);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<ISendOutbox>().ShouldBeOfType<PgSendOutbox>();
        provider.GetRequiredService<IEnrolmentStore>().ShouldBeOfType<PgEnrolmentStore>();
        provider.GetRequiredService<IBroadcastStore>().ShouldBeOfType<PgBroadcastStore>();
        services.Count(d => d.ServiceType == typeof(ISendOutbox)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IEnrolmentStore)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IBroadcastStore)).ShouldBe(1);
    }

    [Fact]
    public async Task ClaimEventsAsync_EverySequenceEventType_ComesBackAsStored()
    {
        PgSendOutbox outbox = SequenceStoreKit.Outbox(await _schemas.CreateAsync());
        EnrolmentId enrolment = EnrolmentId.New();
        FunnelEvent[] events =
        [
            new EmailSent { LeadId = Lead, OccurredAt = Now, Email = "nurture-1" },
            new EmailFailed { LeadId = Lead, OccurredAt = Now, Email = "nurture-2", Permanent = false, Attempt = 2, Error = "451 try later" },
            new EmailSuppressed { LeadId = Lead, OccurredAt = Now, Email = "nurture-3", Reason = "unsubscribed" },
            new SequenceEnrolled { LeadId = Lead, OccurredAt = Now, Sequence = "nurture", Enrolment = enrolment },
            new SequenceExited { LeadId = Lead, OccurredAt = Now, Sequence = "nurture", Enrolment = enrolment, Goal = "order_placed" },
            new SequenceCompleted { LeadId = Lead, OccurredAt = Now + Duration.FromTicks(1234567) + Duration.FromNanoseconds(89), Sequence = "nurture", Enrolment = enrolment },
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
        PgSendOutbox outbox = SequenceStoreKit.Outbox(await _schemas.CreateAsync());
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
    public async Task FindAsync_FromAnotherPool_ReturnsEveryFieldAsStored()
    {
        PgDatabase first = await _schemas.CreateAsync();
        OutboxEntry entry = Entry("e:1", Now) with
        {
            State = SendState.FailedTransient, Attempts = 2, ClaimedBy = "d9", CompletedAt = Now + Duration.FromMilliseconds(1),
            MessageId = "<e:1@example.com>", Reason = "451 – try later", Outcome = SendState.Sent, StepIndex = 3,
            ScheduledFor = Now - Duration.FromDays(1) + Duration.FromNanoseconds(300),
        };
        Enrolment enrolment = new()
        {
            Id = EnrolmentId.New(), LeadId = Lead, Sequence = "webinar", EnrolledAt = Now, Anchor = Now + Duration.FromDays(3),
            Status = EnrolmentStatus.AwaitingConsent, LastSentAt = Now + Duration.FromNanoseconds(1), EndedAt = Now + Duration.FromDays(9),
            Fields = ImmutableDictionary<string, string>.Empty.Add("confirmation_url", "https://example.com/c?t=1&u=\"x\"").Add("magnet", "guide"),
        };
        await SequenceStoreKit.Outbox(first).TryAddAsync(entry);
        await new PgEnrolmentStore(first).TryAddAsync(enrolment, ReEntryPolicy.AfterEnded);

        await using PgDatabase other = new(new FunnelPostgreSqlOptions { ConnectionString = first.Options.ConnectionString, Schema = first.Schema });
        OutboxEntry storedEntry = (await SequenceStoreKit.Outbox(other).FindAsync("e:1")).ShouldNotBeNull();
        Enrolment storedEnrolment = (await new PgEnrolmentStore(other).FindAsync(enrolment.Id)).ShouldNotBeNull();

        storedEntry.ShouldBe(entry with { Events = [], ScheduledFor = Now - Duration.FromDays(1) }, "instants of the outbox are kept to the microsecond");
        storedEnrolment.Fields.ShouldBe(enrolment.Fields, ignoreOrder: true);
        storedEnrolment.ShouldBe(enrolment with { Fields = storedEnrolment.Fields }, "the document keeps instants to the nanosecond");
    }

    [Fact]
    public async Task TryAddAsync_DueInstantBetweenMicroseconds_StoredRoundedUpSoNeverDueEarly()
    {
        PgSendOutbox outbox = SequenceStoreKit.Outbox(await _schemas.CreateAsync());
        Instant due = Now + Duration.FromNanoseconds(1500);
        await outbox.TryAddAsync(Entry("a", due));

        (await outbox.FindAsync("a")).ShouldNotBeNull().DueAt.ShouldBe(Now + Duration.FromNanoseconds(2000));
        (await outbox.ClaimDueAsync(Now + Duration.FromNanoseconds(1999), 10, Lease, "d1")).ShouldBeEmpty();
        (await outbox.ClaimDueAsync(Now + Duration.FromNanoseconds(2000), 10, Lease, "d1")).ShouldHaveSingleItem().DueAt.ShouldBe(Now + Duration.FromNanoseconds(2000) + Lease);
    }

    [Fact]
    public async Task ListForLeadAsync_AFixedVersion1RowWithAnUnknownField_Reads()
    {
        PgDatabase database = await _schemas.CreateAsync();
        await database.ExecuteAsync(
            $"INSERT INTO {database.Table("enrolments")} (id, lead_id, sequence, status, re_entry, version, document) VALUES "
            + "('0191c1b2-0000-7000-8000-000000000001', '00000007-0000-0000-0000-000000000000', 'guide-nurture', 1, 0, 4, "
            + "'{\"v\":1,\"enrolledAt\":\"2026-03-02T09:00:00Z\",\"lastSentAt\":\"2026-03-08T08:00:00.5Z\","
            + "\"endedAt\":\"2026-03-08T08:00:00.5Z\",\"fields\":{\"magnet\":\"quick-start-guide\"},\"addedLater\":[1,2]}')");

        Enrolment read = (await new PgEnrolmentStore(database).ListForLeadAsync(Lead)).ShouldHaveSingleItem();

        read.Id.ShouldBe(new EnrolmentId(Guid.Parse("0191c1b2-0000-7000-8000-000000000001")));
        (read.Sequence, read.Status, read.Version, read.Anchor).ShouldBe(("guide-nurture", EnrolmentStatus.Completed, 4L, (Instant?)null));
        read.EnrolledAt.ShouldBe(Now);
        read.LastSentAt.ShouldBe(Instant.FromUtc(2026, 3, 8, 8, 0) + Duration.FromMilliseconds(500));
        read.Fields.ShouldBe(ImmutableDictionary<string, string>.Empty.Add("magnet", "quick-start-guide"));
    }

    [Fact]
    public async Task ClaimEventsAsync_AFixedStoredEmailSentRow_Reads()
    {
        PgDatabase database = await _schemas.CreateAsync();
        await database.ExecuteAsync(
            $"INSERT INTO {database.Table("outbox_events")} (id, type, payload) VALUES ('0191c1b2-0000-7000-8000-0000000000e1', 'email_sent', "
            + "'{\"type\":\"email_sent\",\"v\":1,\"id\":\"0191c1b2-0000-7000-8000-0000000000e1\",\"occurredAt\":\"2026-03-02T09:00:00Z\","
            + "\"leadId\":\"00000007-0000-0000-0000-000000000000\",\"email\":\"nurture-1\"}')");

        FunnelEvent read = (await SequenceStoreKit.Outbox(database).ClaimEventsAsync(Now, 10, Lease)).ShouldHaveSingleItem();

        EmailSent sent = read.ShouldBeOfType<EmailSent>();
        (sent.Id, sent.LeadId, sent.OccurredAt, sent.Email).ShouldBe((new EventId(Guid.Parse("0191c1b2-0000-7000-8000-0000000000e1")), Lead, Now, "nurture-1"));
    }

    [Fact]
    public async Task TryAddAsync_AlwaysPolicy_AddsASecondOpenEnrolmentButBlocksAnAfterEndedOne()
    {
        PgEnrolmentStore store = new(await _schemas.CreateAsync());

        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Always)).ShouldBeTrue();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Always)).ShouldBeTrue();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.AfterEnded)).ShouldBeFalse();
        (await store.TryAddAsync(NewEnrolment("confirm"), ReEntryPolicy.Never)).ShouldBeFalse();

        (await store.ListForLeadAsync(Lead)).Length.ShouldBe(2);
    }

    [Fact]
    public async Task TryUpdateManyAsync_OneUpdateWouldReopenASecondEnrolment_ThrowsAndStoresNothingOfTheBatch()
    {
        PgEnrolmentStore store = new(await _schemas.CreateAsync());
        Enrolment ended = NewEnrolment("nurture");
        await store.TryAddAsync(ended, ReEntryPolicy.AfterEnded);
        await store.TryUpdateAsync(ended, ended with { Status = EnrolmentStatus.Exited, EndedAt = Now });
        Enrolment open = NewEnrolment("nurture");
        await store.TryAddAsync(open, ReEntryPolicy.AfterEnded);
        Enrolment exited = (await store.FindAsync(ended.Id)).ShouldNotBeNull();

        (await Should.ThrowAsync<PostgresException>(() => store.TryUpdateManyAsync(
            [(open, open with { LastSentAt = Now }), (exited, exited with { Status = EnrolmentStatus.Active, EndedAt = null })])))
            .SqlState.ShouldBe(PostgresErrorCodes.UniqueViolation);

        (await store.FindAsync(open.Id)).ShouldNotBeNull().Version.ShouldBe(0, "the batch is one statement: its first update is rolled back too");
        (await store.FindAsync(ended.Id)).ShouldNotBeNull().Status.ShouldBe(EnrolmentStatus.Exited);
    }

    [Theory]
    [InlineData("claim", "outbox_due", "due_at")]
    [InlineData("purge", "outbox_completed", "completed_at")]
    [InlineData("events", "outbox_events_available", "available_at")]
    public async Task QueryPlan_HotPathStatements_UseTheirIndexInOrderWithoutASort(string statement, string index, string orderedBy)
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgSendOutbox outbox = SequenceStoreKit.Outbox(database);
        (string sql, object[] parameters) = statement switch
        {
            "claim" => (outbox.ClaimSql, new object[] { DateTime.UnixEpoch, 10, DateTime.UnixEpoch, "d1" }),
            "purge" => (outbox.PurgeSql, [DateTime.UnixEpoch, 10]),
            _ => (outbox.ClaimEventsSql, [DateTime.UnixEpoch, 10, DateTime.UnixEpoch]),
        };

        List<string> plan = [];
        await using (NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None))
        {
            // An empty table is read whole; without that choice, the plan shows whether the index fits the statement.
            await using (NpgsqlCommand off = new("SET enable_seqscan = off; SET enable_bitmapscan = off", connection))
            {
                await off.ExecuteNonQueryAsync();
            }

            await using NpgsqlCommand explain = new("EXPLAIN " + sql, connection);
            foreach (object parameter in parameters)
            {
                explain.Parameters.Add(new NpgsqlParameter { Value = parameter, NpgsqlDbType = parameter is DateTime ? NpgsqlTypes.NpgsqlDbType.TimestampTz : parameter is int ? NpgsqlTypes.NpgsqlDbType.Integer : NpgsqlTypes.NpgsqlDbType.Text });
            }

            await using NpgsqlDataReader reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        string text = string.Join(" | ", plan);
        text.ShouldContain("Index Scan using " + index, Case.Sensitive, text);
        plan.ShouldNotContain(line => line.Contains("Sort Key:", StringComparison.Ordinal) && line.Contains(orderedBy, StringComparison.Ordinal), text);
        text.ShouldContain("LockRows", Case.Sensitive, text);
    }

    [Fact]
    public async Task QueryPlan_BatchStatementsOnAFilledTable_FindTheirRowsThroughTheKeyNotByScanningTheTable()
    {
        // With a join on the batch's keys, the planner hashed the whole table for a batch of 500 once the table held a
        // few thousand rows, so every claim, update and read of a batch cost a scan that grew with the table.
        PgDatabase database = await _schemas.CreateAsync();
        PgSendOutbox outbox = SequenceStoreKit.Outbox(database);
        PgEnrolmentStore enrolments = new(database);
        await outbox.TryAddManyAsync([.. Enumerable.Range(0, 5_000).Select(i => Entry("k" + i, Now - Duration.FromSeconds(i)) with { LeadId = new LeadId(new Guid(i, 1, 0, new byte[8])) })]);
        for (int i = 0; i < 2_000; i++)
        {
            await enrolments.TryAddAsync(new Enrolment { Id = EnrolmentId.New(), LeadId = new LeadId(new Guid(i, 1, 0, new byte[8])), Sequence = "nurture", EnrolledAt = Now }, ReEntryPolicy.Always);
        }

        Guid[] leads = [.. Enumerable.Range(0, 500).Select(i => new Guid(i, 1, 0, new byte[8]))];
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using (NpgsqlCommand analyze = new($"ANALYZE {database.Table("outbox")}; ANALYZE {database.Table("enrolments")}", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        string claim = await ExplainAsync(connection, outbox.ClaimSql, DateTime.UnixEpoch.AddYears(100), 500, DateTime.UnixEpoch.AddYears(100), "d1");
        claim.ShouldContain("outbox_pkey", Case.Sensitive, claim); // an index or bitmap scan of the keys asked for
        claim.ShouldNotContain("Seq Scan on outbox o", Case.Sensitive, claim);
        string list = await ExplainAsync(connection, enrolments.ListSql, leads);
        list.ShouldNotContain("Seq Scan on enrolments", Case.Sensitive, list);

        // The plans are the statements' real ones: a claim of 500 from the filled table claims 500.
        (await outbox.ClaimDueAsync(Now, 500, Lease, "d1")).Length.ShouldBe(500);
        (await enrolments.ListForLeadsAsync([.. leads.Select(static g => new LeadId(g))])).Length.ShouldBe(500);
    }

    [Fact]
    public async Task ListDueAsync_TwoDueWithinOneMicrosecond_ListsThemByTheirExactInstants()
    {
        // due_at keeps microseconds; the documents keep nanoseconds. "b-a" sorts first by key, but is due 800 ns later.
        PgBroadcastStore store = new(await _schemas.CreateAsync());
        await store.TryAddAsync(NewBroadcast("b-a", Now + Duration.FromNanoseconds(900)));
        await store.TryAddAsync(NewBroadcast("b-b", Now + Duration.FromNanoseconds(100)));

        (await store.ListDueAsync(Now + Duration.FromNanoseconds(1_000), 10)).Select(static b => b.Key).ShouldBe(["b-b", "b-a"]);
        (await store.ListDueAsync(Now + Duration.FromNanoseconds(500), 10)).Select(static b => b.Key).ShouldBe(["b-b"]);
        (await store.ListDueAsync(Now + Duration.FromNanoseconds(99), 10)).ShouldBeEmpty();
        (await store.FindAsync("b-a")).ShouldNotBeNull().DueAt.ShouldBe(Now + Duration.FromNanoseconds(900));
    }

    [Fact]
    public async Task TryAddAsync_AFullBroadcast_StoresFormat1AsTheSqliteStoreDoes()
    {
        PgDatabase database = await _schemas.CreateAsync();

        (await new PgBroadcastStore(database).TryAddAsync(FullBroadcast() with { Version = 9 })).ShouldBeTrue();

        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using NpgsqlCommand command = new(
            $"SELECT status, due_at = @due, version, document = @expected::jsonb FROM {database.Table("broadcasts")} WHERE key = 'webinar-promo'",
            connection);
        command.Parameters.Add(new NpgsqlParameter("due", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (Now + Lease).ToDateTimeUtc() });
        command.Parameters.Add(new NpgsqlParameter("expected", NpgsqlTypes.NpgsqlDbType.Text) { Value = FullBroadcastJson });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        (reader.GetInt16(0), reader.GetBoolean(1), reader.GetInt64(2), reader.GetBoolean(3)).ShouldBe(((short)1, true, 0L, true));
    }

    [Fact]
    public async Task FindAsync_AFixedVersion1BroadcastRowWithAnUnknownField_Reads()
    {
        PgDatabase database = await _schemas.CreateAsync();
        await using (NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None))
        {
            await using NpgsqlCommand insert = new(
                $"INSERT INTO {database.Table("broadcasts")} (key, status, due_at, version, document) "
                + "VALUES ('webinar-promo', 1, '2026-03-02T09:05:00Z', 3, @document::jsonb)",
                connection);
            insert.Parameters.Add(new NpgsqlParameter("document", NpgsqlTypes.NpgsqlDbType.Text)
            {
                Value = FullBroadcastJson.Replace("\"v\":1,", "\"v\":1,\"addedLater\":[1,2],", StringComparison.Ordinal),
            });
            await insert.ExecuteNonQueryAsync();
        }

        Broadcast read = (await new PgBroadcastStore(database).FindAsync("webinar-promo")).ShouldNotBeNull();

        read.ShouldBeEquivalentTo(FullBroadcast() with { Version = 3 });
    }

    [Fact]
    public async Task QueryPlan_BroadcastDueList_UsesBroadcastsDueInOrderWithoutASort()
    {
        PgDatabase database = await _schemas.CreateAsync();
        PgBroadcastStore store = new(database);
        await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
        await using (NpgsqlCommand off = new("SET enable_seqscan = off; SET enable_bitmapscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using NpgsqlCommand explain = new("EXPLAIN " + store.DueSql, connection);
        explain.Parameters.Add(new NpgsqlParameter("now", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = DateTime.UnixEpoch });
        explain.Parameters.Add(new NpgsqlParameter("max", NpgsqlTypes.NpgsqlDbType.Integer) { Value = 10 });
        List<string> plan = [];
        await using (NpgsqlDataReader reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        string text = string.Join(" | ", plan);
        text.ShouldContain("Index Scan using broadcasts_due", Case.Sensitive, text);
        text.ShouldNotContain("Sort Key:", Case.Sensitive, text);
    }

    private static async Task<string> ExplainAsync(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        await using NpgsqlCommand explain = new("EXPLAIN " + sql, connection);
        foreach (object parameter in parameters)
        {
            explain.Parameters.Add(parameter is DateTime at
                ? new NpgsqlParameter { Value = at, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz }
                : new NpgsqlParameter { Value = parameter });
        }

        List<string> plan = [];
        await using NpgsqlDataReader reader = await explain.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(0));
        }

        return string.Join(" | ", plan);
    }

    [Fact]
    public async Task TryAddManyAndTryUpdateManyAsync_AnEntryDueNow_NotifyTheSchemasSendsChannelOncePerStatement()
    {
        PgDatabase database = await _schemas.CreateAsync();
        FakeClock clock = new(Now);
        PgSendOutbox outbox = SequenceStoreKit.Outbox(database, clock);
        await using NpgsqlConnection listener = await database.OpenAsync(CancellationToken.None);
        List<string> received = [];
        listener.Notification += (_, e) => received.Add(e.Payload);
        string channel = database.Schema + "_sends";
        await using (NpgsqlCommand listen = new($"LISTEN {channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        // Each step is followed by a marker; notifications arrive in commit order, so the payloads tell which step notified.
        async Task<string> StepAsync(string marker, Func<Task> step)
        {
            await step();
            await database.ExecuteAsync($"NOTIFY {channel}, '{marker}'");
            while (!received.Contains(marker))
            {
                (await listener.WaitAsync(TimeSpan.FromSeconds(10))).ShouldBeTrue(marker);
            }

            string seen = string.Join(",", received);
            received.Clear();
            return seen;
        }

        (await StepAsync("future", () => outbox.TryAddManyAsync([Entry("later", Now + Duration.FromMinutes(1))]))).ShouldBe("future");
        (await StepAsync("due", () => outbox.TryAddManyAsync([Entry("a", Now), Entry("b", Now - Duration.FromMinutes(1)), Entry("c", Now + Duration.FromDays(1))]))).ShouldBe(",due");
        (await StepAsync("again", () => outbox.TryAddManyAsync([Entry("a", Now)]))).ShouldBe("again", "nothing was added");
        ImmutableArray<OutboxEntry> claimed = await outbox.ClaimDueAsync(Now, 10, Lease, "d1");
        claimed.Length.ShouldBe(2);
        (await StepAsync("sent", () => outbox.TryUpdateManyAsync([.. claimed.Select(e => (e, e with { State = SendState.Sent, CompletedAt = Now }))]))).ShouldBe("sent");
        OutboxEntry later = (await outbox.FindAsync("later")).ShouldNotBeNull();
        (await StepAsync("retry", () => outbox.TryUpdateAsync(later, later with { State = SendState.FailedTransient, DueAt = Now }))).ShouldBe(",retry");
    }

    /// <summary>The stored document of <see cref="FullBroadcast"/>, format 1, as the SQLite store writes it.</summary>
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

    private static Broadcast NewBroadcast(string key, Instant due) => new()
    {
        Definition = new BroadcastDefinition { Key = key, Segment = "newsletter", Subject = "News", TextBody = "Hi {{ email }}.", SendAt = due },
        Status = BroadcastStatus.Scheduled,
        CreatedAt = Now,
        DueAt = due,
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
