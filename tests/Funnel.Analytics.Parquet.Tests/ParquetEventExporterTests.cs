using System.Globalization;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;
using Parquet;
using Parquet.Schema;
using static Funnel.Analytics.Parquet.Tests.ExportTestSupport;

namespace Funnel.Analytics.Parquet.Tests;

public sealed class ParquetEventExporterTests : IDisposable
{
    private static readonly Instant Day1 = Instant.FromUtc(2026, 12, 5, 0, 0);
    private readonly TempFolder _temp = new();

    private string Root => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task ExportAsync_EventsOverThreeDays_OneFolderPerUtcDayWithItsRows()
    {
        FunnelEvent[] events =
        [
            .. Enumerable.Range(0, 5).Select(i => View(i, Day1 + Duration.FromHours(i))),
            .. Enumerable.Range(0, 3).Select(i => View(i, Day1 + Duration.FromDays(1) + Duration.FromMinutes(i))),
            View(9, Day1 + Duration.FromDays(2) + Duration.FromHours(23) + Duration.FromMinutes(59)),
        ];

        ParquetExportResult result = await Exporter(Root).ExportAsync(await LogOf(events));

        result.Events.ShouldBe(9);
        result.Position.ShouldBe(9);
        result.Days.ShouldBe([new LocalDate(2026, 12, 5), new LocalDate(2026, 12, 6), new LocalDate(2026, 12, 7)]);
        result.Files.ShouldBe([
            "day=2026-12-05/part-0000000000000000000-00000.parquet",
            "day=2026-12-06/part-0000000000000000000-00000.parquet",
            "day=2026-12-07/part-0000000000000000000-00000.parquet"]);
        CountsPerDay(Root).ShouldBe(new Dictionary<string, long> { ["2026-12-05"] = 5, ["2026-12-06"] = 3, ["2026-12-07"] = 1 });
    }

    [Fact]
    public async Task ExportAsync_RunTwiceWithNewEventsBetween_ExportsEachEventOnce()
    {
        InMemoryFunnelEventLog log = await LogOf(Enumerable.Range(0, 10).Select(i => View(i, Day1 + Duration.FromHours(i * 5))));
        ParquetEventExporter exporter = Exporter(Root, o => o.ReadBatchSize = 3);

        ParquetExportResult first = await exporter.ExportAsync(log);
        await log.AppendAsync([.. Enumerable.Range(10, 4).Select(i => View(i, Day1 + Duration.FromHours(i * 5)))]);
        ParquetExportResult second = await exporter.ExportAsync(log);
        ParquetExportResult third = await exporter.ExportAsync(log);

        (first.Events, first.Position).ShouldBe((10L, 10L));
        (second.Events, second.Position).ShouldBe((4L, 14L));
        (third.Events, third.Position, third.Files.Length).ShouldBe((0L, 14L, 0));
        Count(Root).ShouldBe(14);
        Query($"SELECT COUNT(DISTINCT event_id), MIN(position), MAX(position) FROM {Files(Root)}")[0]
            .ShouldBe([14L, 1L, 14L]);
    }

    [Fact]
    public async Task ExportAsync_CancelledPartWay_NextExportWritesEveryEventOnceAndLeavesNoTemporaryFile()
    {
        InMemoryFunnelEventLog log = await LogOf(Enumerable.Range(0, 50).Select(i => View(i, Day1 + Duration.FromHours(i))));
        using var cts = new CancellationTokenSource();
        var failing = new CancellingLog(log, cts, afterReads: 3);

        await Should.ThrowAsync<OperationCanceledException>(() => Exporter(Root, o => o.ReadBatchSize = 5).ExportAsync(failing, cts.Token));
        ParquetExportResult result = await Exporter(Root, o => o.ReadBatchSize = 7).ExportAsync(log);

        result.Events.ShouldBe(50);
        Count(Root).ShouldBe(50);
        Entries(Root).ShouldNotContain(e => e.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportAsync_FilesOfAnExportThatDidNotRecordItsPosition_AreReplacedNotDuplicated()
    {
        InMemoryFunnelEventLog log = await LogOf(Enumerable.Range(0, 6).Select(i => View(i, Day1 + Duration.FromHours(i))));
        await Exporter(Root).ExportAsync(log);
        await log.AppendAsync([View(7, Day1 + Duration.FromDays(1)), View(8, Day1 + Duration.FromDays(2))]);
        await Exporter(Root).ExportAsync(log);

        // A crash after the renames, before the position was recorded: the second export's files are there, its
        // position is not.
        File.WriteAllText(Path.Combine(Root, "_funnel_export.position"), "6");
        ParquetExportResult again = await Exporter(Root).ExportAsync(log);

        again.Events.ShouldBe(2);
        Count(Root).ShouldBe(8);
        Query($"SELECT COUNT(DISTINCT event_id) FROM {Files(Root)}")[0][0].ShouldBe(8L);
    }

    [Fact]
    public async Task ExportAsync_PositionFileDeleted_ExportsEverythingAgainOnce()
    {
        InMemoryFunnelEventLog log = await LogOf(Enumerable.Range(0, 4).Select(i => View(i, Day1 + Duration.FromDays(i))));
        await Exporter(Root).ExportAsync(log);
        await log.AppendAsync([View(9, Day1)]);
        await Exporter(Root).ExportAsync(log);

        File.Delete(Path.Combine(Root, "_funnel_export.position"));
        ParquetExportResult again = await Exporter(Root).ExportAsync(log);

        (again.Events, again.Position).ShouldBe((5L, 5L));
        Count(Root).ShouldBe(5);
        Directory.GetFiles(Path.Combine(Root, "day=2026-12-05")).Length.ShouldBe(1);
    }

    [Fact]
    public async Task ExportAsync_EventOfAnUnregisteredType_KeepsItsTypeLeadAndJson()
    {
        string json = $$"""{"type":"quiz_completed","v":2,"id":"{{EventId.New()}}","occurredAt":"2026-12-05T10:00:00Z","leadId":"{{Lead(4)}}","score":7}""";
        FunnelEvent unknown = Serializer.Deserialize(json).ShouldBeOfType<UnknownEvent>();

        await Exporter(Root).ExportAsync(await LogOf([unknown]));

        Query($"SELECT type, lead_id, payload FROM {Files(Root)}").ShouldBe([["quiz_completed", Lead(4).ToString(), json]]);
    }

    [Fact]
    public async Task ExportAsync_EmptyLog_WritesNoFileAndKeepsPositionZero()
    {
        ParquetExportResult result = await Exporter(Root).ExportAsync(new InMemoryFunnelEventLog());

        result.ShouldBe(result with { Events = 0, Position = 0 });
        result.Days.ShouldBeEmpty();
        result.Files.ShouldBeEmpty();
        Entries(Root).ShouldBeEmpty();
    }

    [Fact]
    public async Task ExportAsync_EventWithoutLead_HasNullLeadAndItsMoney()
    {
        var spend = new AdSpendRecorded
        {
            OccurredAt = Day1,
            Amount = Money.FromMinorUnits(12_345, Currency.EUR),
            Attribution = new Attribution { Channel = "facebook", Campaign = "launch" },
        };

        await Exporter(Root).ExportAsync(await LogOf([spend, View(1, Day1)]));

        Query($"SELECT type, lead_id, channel, campaign, amount_minor, currency FROM {Files(Root)} ORDER BY position")
            .ShouldBe([
                ["ad_spend_recorded", null, "facebook", "launch", 12_345L, "EUR"],
                ["page_viewed", Lead(1).ToString(), null, null, null, null]]);
    }

    [Fact]
    public async Task ExportAsync_VeryLongStrings_AreKeptWhole()
    {
        string page = "/" + new string('p', 300_000);
        string title = string.Concat(Enumerable.Repeat("Ünïcödé ✓ \"quoted\" 'single' \n", 20_000));
        string campaign = new('c', 100_000);
        var view = new PageViewed
        {
            LeadId = Lead(1),
            OccurredAt = Day1,
            Page = page,
            Title = title,
            Attribution = new Attribution { Campaign = campaign },
            Properties = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("long", new string('x', 200_000)),
        };

        await Exporter(Root).ExportAsync(await LogOf([view]));

        object?[] row = Query($"SELECT subject, campaign, payload FROM {Files(Root)}")[0];
        row[0].ShouldBe(page);
        row[1].ShouldBe(campaign);
        var back = (PageViewed)Serializer.Deserialize((string)row[2]!);
        back.Title.ShouldBe(title);
        back.Properties["long"].Length.ShouldBe(200_000);
    }

    [Fact]
    public async Task ExportAsync_EventsAroundADaylightSavingChange_ArePartitionedByUtcDay()
    {
        // Europe/Berlin leaves summer time at 01:00 UTC on 25 October 2026: 00:30 and 01:30 UTC are 02:30 CEST and
        // 02:30 CET, one local day, and 23:30 UTC on the 24th is already the 25th in Berlin. The partition is the UTC date.
        Instant[] times =
        [
            Instant.FromUtc(2026, 10, 24, 23, 30),
            Instant.FromUtc(2026, 10, 25, 0, 30),
            Instant.FromUtc(2026, 10, 25, 1, 30),
            Instant.FromUtc(2026, 10, 25, 23, 59, 59),
            Instant.FromUtc(2026, 10, 26, 0, 0),
        ];

        await Exporter(Root).ExportAsync(await LogOf(times.Select((t, i) => View(i, t))));

        CountsPerDay(Root).ShouldBe(new Dictionary<string, long> { ["2026-10-24"] = 1, ["2026-10-25"] = 3, ["2026-10-26"] = 1 });
        Query($"SELECT COUNT(*) FROM {Files(Root)} WHERE CAST(day AS VARCHAR) <> strftime(occurred_at AT TIME ZONE 'UTC', '%Y-%m-%d')")[0][0]
            .ShouldBe(0L);
    }

    [Fact]
    public async Task ExportAsync_PayloadColumn_DeserializesToTheSameEvents()
    {
        FunnelEvent[] events =
        [
            View(1, Day1 + Duration.FromTicks(1234567)),
            new OptedIn { LeadId = Lead(1), OccurredAt = Day1 + Duration.FromMinutes(1), Magnet = "guide", Attribution = Attribution.FromUtm("Google", "cpc", "spring") },
            new OrderPlaced { LeadId = Lead(1), OccurredAt = Day1 + Duration.FromDays(1), Order = OrderId.New(), Offer = "course", Total = Money.FromMinorUnits(4900, Currency.USD) },
            new LifecycleStageChanged { LeadId = Lead(2), OccurredAt = Day1, From = LifecycleStage.Lead, To = LifecycleStage.Customer },
            new AdSpendRecorded { OccurredAt = Day1, Amount = Money.FromMinorUnits(1, Currency.JPY) },
        ];

        await Exporter(Root).ExportAsync(await LogOf(events));

        Dictionary<string, string> payloads = Query($"SELECT event_id, payload FROM {Files(Root)}")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!, StringComparer.Ordinal);
        foreach (FunnelEvent original in events)
        {
            FunnelEvent back = Serializer.Deserialize(payloads[original.Id.ToString()]);
            back.GetType().ShouldBe(original.GetType());
            back.Id.ShouldBe(original.Id);
            back.OccurredAt.ShouldBe(original.OccurredAt);
            Serializer.Serialize(back).ShouldBe(Serializer.Serialize(original));
        }
    }

    [Fact]
    public async Task ExportAsync_FileReadWithParquetNet_HasTheDocumentedSchemaAndRowGroups()
    {
        FunnelEvent[] events = [.. Enumerable.Range(0, 25).Select(i => View(i, Day1 + Duration.FromMinutes(i)))];

        ParquetExportResult result = await Exporter(Root, o => o.RowGroupSize = 10).ExportAsync(await LogOf(events));

        await using ParquetReader reader = await ParquetReader.CreateAsync(Path.Combine(Root, result.Files[0]));
        reader.Schema.DataFields.Select(f => f.Name).ShouldBe([
            "event_id", "position", "type", "subject", "occurred_at", "lead_id", "channel", "campaign", "source", "medium",
            "content", "term", "referrer", "amount_minor", "currency", "payload"]);
        reader.Schema.DataFields.Where(f => !f.IsNullable).Select(f => f.Name).ShouldBe(["event_id", "type", "occurred_at", "payload"]);
        var occurredAt = reader.Schema.FindDataField("occurred_at").ShouldBeOfType<DateTimeDataField>();
        (occurredAt.DateTimeFormat, occurredAt.IsAdjustedToUTC, occurredAt.Unit).ShouldBe((DateTimeFormat.Timestamp, true, DateTimeTimeUnit.Micros));
        reader.Schema.FindDataField("amount_minor").ClrType.ShouldBe(typeof(long));
        reader.RowGroupCount.ShouldBe(3);
        reader.RowGroups.Select(g => g.RowCount).ShouldBe([10L, 10L, 5L]);
        reader.CustomMetadata.ShouldContainKeyAndValue("funnel.day", "2026-12-05");

        using ParquetRowGroupReader group = reader.OpenRowGroupReader(0);
        var times = new DateTime[10];
        await group.ReadAsync(reader.Schema.FindDataField("occurred_at"), times.AsMemory());
        times.ShouldBe([.. events.Take(10).Select(e => e.OccurredAt.ToDateTimeUtc())]);
    }

    [Fact]
    public async Task ExportAsync_DaysInterleavedBeyondMaxOpenDays_WritesFurtherFilesAndEveryRowOnce()
    {
        FunnelEvent[] events = [.. Enumerable.Range(0, 30).Select(i => View(i, Day1 + Duration.FromDays(i % 3) + Duration.FromMinutes(i)))];

        ParquetExportResult result = await Exporter(Root, o => o.MaxOpenDays = 1).ExportAsync(await LogOf(events));

        result.Files.Length.ShouldBe(30);
        result.Files[1].ShouldBe("day=2026-12-05/part-0000000000000000000-00001.parquet");
        CountsPerDay(Root).ShouldBe(new Dictionary<string, long> { ["2026-12-05"] = 10, ["2026-12-06"] = 10, ["2026-12-07"] = 10 });
    }

    [Fact]
    public async Task ExportAsync_LateEventForAnExportedDay_IsAddedToThatDay()
    {
        InMemoryFunnelEventLog log = await LogOf([View(1, Day1), View(2, Day1 + Duration.FromDays(1))]);
        await Exporter(Root).ExportAsync(log);
        await log.AppendAsync([View(3, Day1 + Duration.FromHours(3))]);

        ParquetExportResult late = await Exporter(Root).ExportAsync(log);

        late.Files.ShouldBe(["day=2026-12-05/part-0000000000000000002-00000.parquet"]);
        CountsPerDay(Root).ShouldBe(new Dictionary<string, long> { ["2026-12-05"] = 2, ["2026-12-06"] = 1 });
    }

    [Fact]
    public async Task ExportAsync_ExportAlreadyRunningInTheFolder_Throws()
    {
        using var held = new FileStream(Path.Combine(Root, "_funnel_export.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        InvalidOperationException e = await Should.ThrowAsync<InvalidOperationException>(
            () => Exporter(Root).ExportAsync(new InMemoryFunnelEventLog()));

        e.Message.ShouldContain("Another export");
    }

    [Fact]
    public async Task ExportAsync_UnregisteredEventType_ThrowsNamingTheType()
    {
        var serializer = new FunnelEventSerializer(new FunnelEventTypesBuilder().Add(typeof(PageViewed)).Build());
        var exporter = new ParquetEventExporter(serializer, new ParquetExportOptions { Directory = Root });

        ArgumentException e = await Should.ThrowAsync<ArgumentException>(
            async () => await exporter.ExportAsync(await LogOf([new OptedIn { LeadId = Lead(1), OccurredAt = Day1, Magnet = "m" }])));

        e.Message.ShouldContain(typeof(OptedIn).FullName!);
        Entries(Root).ShouldNotContain(p => p.EndsWith(".parquet", StringComparison.Ordinal) || p.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportSnapshotAsync_RunTwice_ReplacesTheDaysItTouchesAndLeavesOthers()
    {
        FunnelEvent[] all = [.. Enumerable.Range(0, 12).Select(i => View(i, Day1 + Duration.FromDays(i % 3) + Duration.FromMinutes(i)))];
        ParquetEventExporter exporter = Exporter(Root);

        ParquetExportResult first = await exporter.ExportSnapshotAsync(Stream(all));
        ParquetExportResult again = await exporter.ExportSnapshotAsync(Stream(all));
        ParquetExportResult oneDay = await exporter.ExportSnapshotAsync(Stream([.. all.Where(e => e.OccurredAt < Day1 + Duration.FromDays(1)).Take(2)]));

        (first.Events, first.Position).ShouldBe((12L, (long?)null));
        again.Events.ShouldBe(12);
        oneDay.Days.ShouldBe([new LocalDate(2026, 12, 5)]);
        CountsPerDay(Root).ShouldBe(new Dictionary<string, long> { ["2026-12-05"] = 2, ["2026-12-06"] = 4, ["2026-12-07"] = 4 });
        Query($"SELECT COUNT(*) FROM {Files(Root)} WHERE position IS NOT NULL")[0][0].ShouldBe(0L);
        Directory.GetFiles(Path.Combine(Root, "day=2026-12-05")).Length.ShouldBe(1);
    }

    [Fact]
    public async Task ExportSnapshotAsync_EmptyStream_WritesNothing()
    {
        ParquetExportResult result = await Exporter(Root).ExportSnapshotAsync(Stream([]));

        result.Events.ShouldBe(0);
        Entries(Root).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("", 100, 100, 1, "ParquetExportOptions.Directory")]
    [InlineData("x", 0, 100, 1, "ParquetExportOptions.RowGroupSize")]
    [InlineData("x", 100, 0, 1, "ParquetExportOptions.ReadBatchSize")]
    [InlineData("x", 100, 100, 0, "ParquetExportOptions.MaxOpenDays")]
    public void Constructor_InvalidOptions_ThrowsNamingTheField(string directory, int rowGroup, int batch, int days, string field)
    {
        var options = new ParquetExportOptions { Directory = directory, RowGroupSize = rowGroup, ReadBatchSize = batch, MaxOpenDays = days };

        ArgumentException e = Should.Throw<ArgumentException>(() => new ParquetEventExporter(Serializer, options));

        e.Message.ShouldContain(field + ":");
        e.ParamName.ShouldBe("options");
    }

    /// <summary>Reads an inner log and cancels a token after a number of reads, as a stop signal part-way would.</summary>
    private sealed class CancellingLog(IFunnelEventLog inner, CancellationTokenSource cts, int afterReads) : IFunnelEventLog
    {
        private int _reads;

        public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) =>
            inner.AppendAsync(events, cancellationToken);

        public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default)
        {
            if (++_reads > afterReads)
            {
                cts.Cancel();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return inner.ReadAsync(after, max, cancellationToken);
        }

        public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
            inner.ReadLeadAsync(lead, max, cancellationToken);
    }
}
