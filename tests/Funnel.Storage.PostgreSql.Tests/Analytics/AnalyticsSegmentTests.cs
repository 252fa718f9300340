using System.Collections.Immutable;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using NodaTime;
using static Funnel.Storage.PostgreSql.Tests.Analytics.FunnelPostgreSqlAnalyticsTests;

namespace Funnel.Storage.PostgreSql.Tests.Analytics;

/// <summary>
/// The analytics segments against the real cluster: loads that read segments and then the log's newer rows answer
/// exactly as loads of the rows alone and as the same events loaded in memory; the writer keeps every lead event in
/// exactly one segment across batches, concurrent writers and concurrent appends.
/// </summary>
public sealed class AnalyticsSegmentTests : IAsyncLifetime, IAsyncDisposable
{
    private readonly PgTestDatabases _databases = new();
    private PgDatabase _database = null!;
    private ImmutableArray<FunnelEvent> _log = [];

    public async Task InitializeAsync()
    {
        _database = await _databases.CreateAsync();
        _log = RandomLog(seed: 23, leads: 1_500);
    }

    public ValueTask DisposeAsync() => new(_databases.DropAllAsync());

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public static TheoryData<string> Questions() => [.. QuestionsByName.Keys];

    [Theory]
    [MemberData(nameof(Questions))]
    public async Task LoadFunnelAsync_HalfTheLogSegmented_AnswersAsTheRowsAndAsInMemory(string name)
    {
        (FunnelQuery query, Interval entered, AnalyticsStoreOptions? options) = QuestionsByName[name];
        await WriteAsync(_log[..(_log.Length / 2)]);
        (await Writer(batchRows: 700, segmentEvents: 300).WriteAsync(CancellationToken.None)).ShouldBe(_log.Length / 2);
        await WriteAsync(_log[(_log.Length / 2)..]);

        AnalyticsEventStore segmented = await new FunnelPostgreSqlAnalytics(_database, Serializer).LoadFunnelAsync(query, entered, options);
        AnalyticsEventStore rows = await new FunnelPostgreSqlAnalytics(_database, Serializer) { ReadSegments = false }.LoadFunnelAsync(query, entered, options);
        AnalyticsEventStore expected = AnalyticsEventStore.Load(_log.Where(e => Needed(query, entered, e)), options);

        segmented.EventCount.ShouldBe(expected.EventCount);
        segmented.LeadCount.ShouldBe(expected.LeadCount);
        Answer(FunnelAnalyzer.Analyze(segmented, query)).ShouldBe(Answer(FunnelAnalyzer.Analyze(expected, query)));
        Answer(FunnelAnalyzer.Analyze(segmented, query)).ShouldBe(Answer(FunnelAnalyzer.Analyze(rows, query)));
    }

    [Theory]
    [MemberData(nameof(Questions))]
    public async Task LoadFunnelAsync_SegmentedRowsGone_AnswersFromTheSegmentsWhenTheyHoldWhatTheQuestionNeeds(string name)
    {
        // The segments are a copy: with the segmented rows deleted from the log (which Funnel never does), a question
        // the segments can answer still gets the whole answer, which proves the load read them; one they cannot
        // answer (captured properties) reads the rows, which are gone.
        (FunnelQuery query, Interval entered, AnalyticsStoreOptions? options) = QuestionsByName[name];
        await WriteAsync(_log);
        await Writer(batchRows: 1_000, segmentEvents: 2_000).WriteAsync(CancellationToken.None);
        await _database.ExecuteAsync("DELETE FROM funnel.events");
        bool segmentable = AnalyticsCopyPlan.ForQuery(query, entered, options).Segmentable;

        AnalyticsEventStore loaded = await new FunnelPostgreSqlAnalytics(_database, Serializer).LoadFunnelAsync(query, entered, options);

        segmentable.ShouldBe(name != "property breakdown");
        if (segmentable)
        {
            AnalyticsEventStore expected = AnalyticsEventStore.Load(_log.Where(e => Needed(query, entered, e)), options);
            Answer(FunnelAnalyzer.Analyze(loaded, query)).ShouldBe(Answer(FunnelAnalyzer.Analyze(expected, query)));
        }
        else
        {
            loaded.EventCount.ShouldBe(0);
        }
    }

    [Fact]
    public async Task WriteAsync_SmallBatchesAndSegments_KeepsEveryLeadEventOnceInPositionOrder()
    {
        await WriteAsync(_log);

        long read = await Writer(batchRows: 997, segmentEvents: 250).WriteAsync(CancellationToken.None);
        long again = await Writer(batchRows: 997, segmentEvents: 250).WriteAsync(CancellationToken.None);

        read.ShouldBe(_log.Length);
        again.ShouldBe(0);
        await ShouldHoldEveryLeadEventOnceAsync(segmentEvents: 250);
    }

    [Fact]
    public async Task WriteAsync_ManySmallRuns_MergesSegmentsGeometricallyAndClosesFullOnes()
    {
        // 80 runs of 60 rows each: a type gets a few new events per run. Extending one segment per run would copy an
        // event once per later run; merging like a binary counter keeps few open segments and few copies.
        int runs = 0;
        for (int at = 0; at < 4_800; at += 60)
        {
            await WriteAsync(_log[at..(at + 60)]);
            await Writer(batchRows: 1_000, segmentEvents: 400).WriteAsync(CancellationToken.None);
            runs++;
        }

        long open = (long)(await _database.ScalarAsync("SELECT max(n) FROM (SELECT count(*) AS n FROM funnel.analytics_segments WHERE event_count < 400 GROUP BY type) o"))!;
        long closed = (long)(await _database.ScalarAsync("SELECT count(*) FROM funnel.analytics_segments WHERE event_count = 400"))!;

        open.ShouldBeLessThanOrEqualTo(9, "open segments halve in size at least from one to the next");
        closed.ShouldBeGreaterThan(0);
        runs.ShouldBe(80);
        _log = _log[..4_800];
        await ShouldHoldEveryLeadEventOnceAsync(segmentEvents: 400);
    }

    [Fact]
    public async Task WriteAsync_WhileThreeWritersAppendAndTwoInstancesWrite_KeepsEveryLeadEventOnce()
    {
        var log = new PgFunnelEventLog(_database, Serializer);
        FunnelEvent[][] chunks = [.. _log.Chunk(40)];
        int next = -1;
        using var done = new CancellationTokenSource();
        async Task AppendAsync()
        {
            for (int i = Interlocked.Increment(ref next); i < chunks.Length; i = Interlocked.Increment(ref next))
            {
                await log.AppendAsync(chunks[i]);
            }
        }

        async Task SegmentAsync()
        {
            while (!done.IsCancellationRequested)
            {
                await Writer(batchRows: 300, segmentEvents: 500).WriteAsync(CancellationToken.None);
                await Task.Delay(5);
            }
        }

        Task[] writers = [SegmentAsync(), SegmentAsync()];
        await Task.WhenAll(AppendAsync(), AppendAsync(), AppendAsync());
        await done.CancelAsync();
        await Task.WhenAll(writers);
        await Writer(batchRows: 300, segmentEvents: 500).WriteAsync(CancellationToken.None);

        await ShouldHoldEveryLeadEventOnceAsync(segmentEvents: 500);
    }

    [Fact]
    public async Task WriteAsync_PayloadOfAnUnknownType_KeepsTheRowWithoutAttributesAndSubjectQuestionsReadTheRows()
    {
        await WriteAsync(_log);
        var lead = Guid.CreateVersion7();
        await _database.ExecuteAsync(
            "INSERT INTO funnel.events (id, type, lead_id, partition_key, occurred_at, payload) VALUES "
            + $"(gen_random_uuid(), 'page_viewed', '{lead}', 0, '{PgValues.ToDateTime(Origin + Duration.FromDays(12)):O}', '{{\"type\":\"page_viewed\",\"v\":99,\"id\":\"{Guid.NewGuid()}\",\"leadId\":\"{lead}\",\"occurredAt\":\"2026-03-14T00:00:00Z\"}}')");
        (FunnelQuery plain, Interval entered, _) = QuestionsByName["plain"];
        (FunnelQuery subjects, Interval window, _) = QuestionsByName["subjects and exclusion"];

        await Writer(batchRows: 100_000, segmentEvents: 100_000).WriteAsync(CancellationToken.None);

        (await _database.ScalarAsync("SELECT bool_and(attributes) FROM funnel.analytics_segments WHERE type = 'page_viewed'")).ShouldBe(false);
        (await _database.ScalarAsync("SELECT bool_and(attributes) FROM funnel.analytics_segments WHERE type <> 'page_viewed'")).ShouldBe(true);
        var segmented = new FunnelPostgreSqlAnalytics(_database, Serializer);
        var rows = new FunnelPostgreSqlAnalytics(_database, Serializer) { ReadSegments = false };
        AnalyticsEventStore plainSegmented = await segmented.LoadFunnelAsync(plain, entered);
        plainSegmented.EventCount.ShouldBe((await rows.LoadFunnelAsync(plain, entered)).EventCount);
        plainSegmented.EventCount.ShouldBe(_log.Count(e => Needed(plain, entered, e)) + 1, "lead, time and type of the unknown payload still count");
        Answer(FunnelAnalyzer.Analyze(await segmented.LoadFunnelAsync(subjects, window), subjects))
            .ShouldBe(Answer(FunnelAnalyzer.Analyze(await rows.LoadFunnelAsync(subjects, window), subjects)));
    }

    [Fact]
    public async Task AddFunnelPostgreSql_AnalyticsSegmentInterval_HostWritesTheSegmentsAsTheLogGrows()
    {
        await WriteAsync(_log[..1_000]);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddFunnelAnalytics();
        builder.Services.AddFunnelPostgreSql(o =>
        {
            o.ConnectionString = _database.Options.ConnectionString;
            o.AnalyticsSegmentInterval = TimeSpan.FromSeconds(1);
        });
        using IHost host = builder.Build();
        await host.StartAsync();

        await UntilSegmentedAsync(1_000);
        await WriteAsync(_log[1_000..]);
        await UntilSegmentedAsync(_log.Length);
        await host.StopAsync();

        await ShouldHoldEveryLeadEventOnceAsync(AnalyticsSegmentWriter.SegmentEvents);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(2 * 86_400)]
    public async Task AddFunnelPostgreSql_IntervalOutsideASecondToADay_FailsAtStartNamingTheOption(double seconds)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddFunnelPostgreSql(o =>
        {
            o.ConnectionString = _database.Options.ConnectionString;
            o.AnalyticsSegmentInterval = TimeSpan.FromSeconds(seconds);
        });
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain("AnalyticsSegmentInterval");
        error.Message.ShouldContain("at least one second");
    }

    private AnalyticsSegmentWriter Writer(int batchRows, int segmentEvents) => new(_database, Serializer, batchRows, segmentEvents);

    private async Task WriteAsync(IEnumerable<FunnelEvent> events)
    {
        await using NpgsqlConnection connection = await _database.OpenAsync(CancellationToken.None);
        await EventLogCopy.WriteAsync(connection, _database.Schema, events, Serializer);
    }

    private async Task UntilSegmentedAsync(int rows)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((long)(await _database.ScalarAsync("SELECT count(*) FROM funnel.events WHERE position <= (SELECT position FROM funnel.analytics_progress)"))! < rows)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the host must write the segments within a minute");
            await Task.Delay(100);
        }
    }

    /// <summary>Every lead event and ad spend of the log is in exactly one segment of its type, with its lead, time, attributes, amount, variant and linked visitor, in position order.</summary>
    private async Task ShouldHoldEveryLeadEventOnceAsync(int segmentEvents)
    {
        var held = new List<string>();
        await using NpgsqlConnection connection = await _database.OpenAsync(CancellationToken.None);
        await using (NpgsqlCommand command = new("SELECT type, first_position, last_position, event_count, data FROM funnel.analytics_segments ORDER BY type, first_position", connection))
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync())
        {
            string? type = null;
            long lastPosition = 0;
            var strings = new Dictionary<string, string>();
            while (await reader.ReadAsync())
            {
                AnalyticsSegment segment = AnalyticsSegment.Decode(reader.GetFieldValue<byte[]>(4), strings);
                segment.Count.ShouldBe(reader.GetInt32(3));
                segment.Count.ShouldBeInRange(1, segmentEvents);
                if (reader.GetString(0) != type)
                {
                    type = reader.GetString(0);
                    lastPosition = 0;
                }

                reader.GetInt64(1).ShouldBeGreaterThan(lastPosition, "a type's segments follow each other in the log");
                reader.GetInt64(2).ShouldBeGreaterThanOrEqualTo(reader.GetInt64(1));
                lastPosition = reader.GetInt64(2);
                for (int i = 0; i < segment.Count; i++)
                {
                    held.Add($"{type} {segment.Leads[i]} {segment.Ticks[i]} {segment.Subjects[i]} {segment.Channels[i]} {segment.Campaigns[i]} {segment.AmountAt(i)} {segment.Variants[i]} {segment.Visitors[i]}");
                }
            }
        }

        string[] expected = [.. _log.Select(e => e switch
        {
            OrderPlaced o => $"{e.EventType} {o.LeadId.Value} {e.OccurredAt.ToUnixTimeTicks()} {o.Subject} {e.Attribution.Channel} {e.Attribution.Campaign} {o.Total}  {Guid.Empty}",
            RefundIssued r => $"{e.EventType} {r.LeadId.Value} {e.OccurredAt.ToUnixTimeTicks()} {r.Subject} {e.Attribution.Channel} {e.Attribution.Campaign} {r.Amount}  {Guid.Empty}",
            ExperimentExposed x => $"{e.EventType} {x.LeadId.Value} {e.OccurredAt.ToUnixTimeTicks()} {x.Subject} {e.Attribution.Channel} {e.Attribution.Campaign}  {x.Variant} {Guid.Empty}",
            IdentityLinked k => $"{e.EventType} {k.LeadId.Value} {e.OccurredAt.ToUnixTimeTicks()} {k.Subject} {e.Attribution.Channel} {e.Attribution.Campaign}   {k.VisitorId.Value}",
            LeadEvent l => $"{e.EventType} {l.LeadId.Value} {e.OccurredAt.ToUnixTimeTicks()} {l.Subject} {e.Attribution.Channel} {e.Attribution.Campaign}   {Guid.Empty}",
            AdSpendRecorded a => $"{e.EventType} {Guid.Empty} {e.OccurredAt.ToUnixTimeTicks()}  {e.Attribution.Channel} {e.Attribution.Campaign} {a.Amount}  {Guid.Empty}",
            _ => null,
        }).OfType<string>()];
        expected.ShouldContain(e => e.StartsWith("refund_issued", StringComparison.Ordinal));
        expected.ShouldContain(e => e.StartsWith("ad_spend_recorded", StringComparison.Ordinal));
        expected.ShouldContain(e => e.StartsWith("identity_linked", StringComparison.Ordinal));
        held.Count.ShouldBe(expected.Length);
        held.Order(StringComparer.Ordinal).ShouldBe(expected.Order(StringComparer.Ordinal));
    }
}
