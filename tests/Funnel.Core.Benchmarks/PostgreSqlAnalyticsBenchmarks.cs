using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Funnel.Analytics;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Storage.PostgreSql;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Tests.Analytics;
using Funnel.TestSupport;
using Npgsql;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// The E-Book Masterclass funnel (page view → opt-in to the quick-start guide → sales page → order, 7-day window)
/// over 10,000,000 events in the PostgreSQL event log: Funnel.Analytics loading the question's events (from the
/// analytics segments, or from the rows with one binary COPY) and answering in memory, against PostgreSQL answering the
/// same question in SQL. The answers are checked equal
/// before anything is measured.
/// </summary>
/// <remarks>
/// <para>
/// The log is seeded once per process, with binary COPY and the event log's JSON, on a private durable cluster
/// (fsync on, 128 MB shared buffers), in time order as a live log grows, then vacuumed and analysed; seeding is not
/// measured. About 1.9 million leads: each views 1–4 pages (with a channel), 12% opt in (85% of them to the
/// quick-start guide) and get eight nurture emails (sent, delivered, some opened and clicked), 10% of those visit the
/// sales page and 10% of visitors order: roughly 10% conversion per step.
/// </para>
/// <para>
/// <c>Library_LoadAndAnswer</c> is <see cref="FunnelPostgreSqlAnalytics.LoadFunnelAsync"/> reading the analytics
/// segments (written once in setup, timed and printed, not measured) and the log's rows after them, building the store,
/// plus <see cref="FunnelAnalyzer.Analyze(AnalyticsEventStore, FunnelQuery, CancellationToken)"/>;
/// <c>Library_LoadAndAnswerWithMoney</c> the same with <see cref="FunnelQuery.IncludeMoney"/> (orders from the period's
/// start on, with amounts). <c>Library_LoadRowsAndAnswer</c> loads without segments: the COPY of the ~3.4 million step
/// rows from the log (PostgreSQL scans the whole table), payloads only for opt-ins, whose step matches a subject.
/// <c>Library_AnswerOnly</c> is the analysis on a store loaded in setup. <c>PostgreSql_Sql</c> is one SQL statement:
/// every page view in the period is a start, each next step takes the earliest matching event at or after the
/// previous one and at most 7 days after the start, counted per lead, with <c>work_mem</c> raised to 256 MB.
/// </para>
/// <para>
/// Setup asserts that the answers from segments, from rows and from SQL are equal, and that the money from segments
/// equals the money from rows; it also prints the plan and the time of a COPY of the log's last 100,000 rows, what a
/// load pays for events not yet in segments. Figures are in docs/performance.md.
/// </para>
/// </remarks>
[Config(typeof(Configuration))]
public class PostgreSqlAnalyticsBenchmarks
{
    /// <summary>The events in the log: 10,000,000, or <c>FUNNEL_BENCH_EVENTS</c> when set (for a quick look).</summary>
    private static readonly int TotalEvents = int.Parse(Environment.GetEnvironmentVariable("FUNNEL_BENCH_EVENTS") ?? "10000000", CultureInfo.InvariantCulture);
    private static readonly Instant Origin = Instant.FromUtc(2026, 1, 5, 0, 0);
    private static readonly Interval Entered = new(Origin, Origin + Duration.FromDays(60));
    private static readonly FunnelQuery Query = new()
    {
        Funnel = FunnelBuilder.Create("ebook-masterclass", "The E-Book Masterclass").WithDefaultStages()
            .AddStep("visit", "Website visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed))
            .AddStep("opt-in", "Quick-start guide", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "quick-start-guide"))
            .AddStep("sales-page", "Sales page", DefaultStages.Decision.Key, StepKind.Custom, EventMatch.For(EventTypes.SalesPageVisited))
            .AddStep("order", "Order", DefaultStages.Action.Key, StepKind.Custom, EventMatch.For(EventTypes.OrderPlaced))
            .Build(),
        Window = Duration.FromDays(7),
    };

    private static readonly FunnelQuery MoneyQuery = Query with { IncludeMoney = true };
    private static readonly Lazy<Task<Fixture>> Shared = new(Fixture.CreateAsync);
    private Fixture _fixture = null!;

    [GlobalSetup]
    public void Setup() => _fixture = Shared.Value.GetAwaiter().GetResult();

    /// <summary>COPY of the question's rows into a new store, then the analysis.</summary>
    [Benchmark]
    public long Library_LoadAndAnswer() => Task.Run(async () =>
    {
        AnalyticsEventStore store = await _fixture.Analytics.LoadFunnelAsync(Query, Entered).ConfigureAwait(false);
        return FunnelAnalyzer.Analyze(store, Query).Steps[^1].Reached;
    }).GetAwaiter().GetResult();

    /// <summary>The same question with its money (orders and refunds from the period's start on, the period's ad spend), from segments.</summary>
    [Benchmark]
    public long Library_LoadAndAnswerWithMoney() => Task.Run(async () =>
    {
        AnalyticsEventStore store = await _fixture.Analytics.LoadFunnelAsync(MoneyQuery, Entered).ConfigureAwait(false);
        return FunnelAnalyzer.Analyze(store, MoneyQuery).Steps[^1].Money!.Revenue.MinorUnits;
    }).GetAwaiter().GetResult();

    /// <summary>The same without the segments: COPY of every step row from the log, then the analysis.</summary>
    [Benchmark]
    public long Library_LoadRowsAndAnswer() => Task.Run(async () =>
    {
        AnalyticsEventStore store = await _fixture.RowsOnly.LoadFunnelAsync(Query, Entered).ConfigureAwait(false);
        return FunnelAnalyzer.Analyze(store, Query).Steps[^1].Reached;
    }).GetAwaiter().GetResult();

    /// <summary>The analysis alone, on a store loaded in setup.</summary>
    [Benchmark]
    public long Library_AnswerOnly() => FunnelAnalyzer.Analyze(_fixture.Loaded, Query).Steps[^1].Reached;

    /// <summary>PostgreSQL answering the same question in SQL.</summary>
    [Benchmark(Baseline = true)]
    public long PostgreSql_Sql() => Task.Run(() => _fixture.SqlAsync()).GetAwaiter().GetResult()[^1];

    private sealed class Fixture
    {
        private Fixture(PostgresServer server, PgDatabase database, FunnelPostgreSqlAnalytics analytics)
        {
            Server = server;
            Database = database;
            Analytics = analytics;
        }

        public PostgresServer Server { get; }

        public PgDatabase Database { get; }

        public FunnelPostgreSqlAnalytics Analytics { get; }

        public FunnelPostgreSqlAnalytics RowsOnly { get; private init; } = null!;

        public AnalyticsEventStore Loaded { get; private set; } = null!;

        public static async Task<Fixture> CreateAsync()
        {
            PostgresServer server = await PostgresServer.StartAsync(durable: true).ConfigureAwait(false);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            string connectionString = await server.CreateDatabaseAsync().ConfigureAwait(false);
            var database = new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = connectionString });
            await database.EnsureReadyAsync(CancellationToken.None).ConfigureAwait(false);
            var serializer = new FunnelEventSerializer(FunnelEventTypes.FromAssemblies(typeof(PageViewed).Assembly));
            var fixture = new Fixture(server, database, new FunnelPostgreSqlAnalytics(database, serializer))
            {
                RowsOnly = new FunnelPostgreSqlAnalytics(database, serializer) { ReadSegments = false },
            };

            var clock = Stopwatch.StartNew();
            await SeedAsync(database, serializer).ConfigureAwait(false);
            Console.WriteLine($"// Seeded {TotalEvents:N0} events with binary COPY in {clock.Elapsed.TotalSeconds:F0} s; table and indexes: "
                + await ScalarAsync(database, "SELECT pg_size_pretty(pg_total_relation_size('funnel.events'))").ConfigureAwait(false));

            clock.Restart();
            long segmented = await fixture.Analytics.WriteAnalyticsSegmentsAsync().ConfigureAwait(false);
            Console.WriteLine($"// Wrote the analytics segments of {segmented:N0} log rows in {clock.Elapsed.TotalSeconds:F1} s; segments: "
                + await ScalarAsync(database, "SELECT pg_size_pretty(pg_total_relation_size('funnel.analytics_segments'))").ConfigureAwait(false));

            // What a load pays for the log's rows after the segments: here, as if the last 100,000 were not copied yet.
            long tail = (long)(await ScalarAsync(database, "SELECT max(position) FROM funnel.events").ConfigureAwait(false) is { Length: > 0 } max
                ? long.Parse(max, CultureInfo.InvariantCulture) : 0) - 100_000;
            string tailSql = AnalyticsCopyPlan.ForQuery(Query, Entered, null).CopySql("funnel.events", tail);
            Console.WriteLine("// Tail plan: " + await ScalarAsync(database, "EXPLAIN " + tailSql[6..tailSql.LastIndexOf(") TO STDOUT", StringComparison.Ordinal)]).ConfigureAwait(false));
            clock.Restart();
            await using (NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await using NpgsqlBinaryExporter export = await connection.BeginBinaryExportAsync(tailSql).ConfigureAwait(false);
                int tailRows = 0;
                while (await export.StartRowAsync().ConfigureAwait(false) >= 0)
                {
                    tailRows++;
                    await export.SkipAsync().ConfigureAwait(false);
                    await export.SkipAsync().ConfigureAwait(false);
                    await export.SkipAsync().ConfigureAwait(false);
                    await export.SkipAsync().ConfigureAwait(false);
                }

                Console.WriteLine($"// Tail COPY of the last 100,000 log rows: {tailRows:N0} step rows in {clock.Elapsed.TotalMilliseconds:F0} ms.");
            }

            clock.Restart();
            AnalyticsEventStore rows = await fixture.RowsOnly.LoadFunnelAsync(Query, Entered).ConfigureAwait(false);
            long[] fromRows = [.. FunnelAnalyzer.Analyze(rows, Query).Steps.Select(s => s.Reached)];
            Console.WriteLine($"// First load from the rows + answer: {clock.Elapsed.TotalSeconds:F1} s.");

            clock.Restart();
            fixture.Loaded = await fixture.Analytics.LoadFunnelAsync(Query, Entered).ConfigureAwait(false);
            long[] ours = [.. FunnelAnalyzer.Analyze(fixture.Loaded, Query).Steps.Select(s => s.Reached)];
            Console.WriteLine($"// First load + answer: {clock.Elapsed.TotalSeconds:F1} s, {fixture.Loaded.EventCount:N0} events of {fixture.Loaded.LeadCount:N0} leads loaded.");
            clock.Restart();
            long[] theirs = await fixture.SqlAsync().ConfigureAwait(false);
            Console.WriteLine($"// First SQL answer: {clock.Elapsed.TotalSeconds:F1} s.");
            if (!ours.SequenceEqual(theirs) || !fromRows.SequenceEqual(theirs) || rows.EventCount != fixture.Loaded.EventCount)
            {
                throw new InvalidOperationException($"The answers differ: Funnel.Analytics from segments [{string.Join(", ", ours)}] ({fixture.Loaded.EventCount:N0} events), "
                    + $"from rows [{string.Join(", ", fromRows)}] ({rows.EventCount:N0} events), SQL [{string.Join(", ", theirs)}].");
            }

            Console.WriteLine($"// Both answer [{string.Join(", ", ours)}].");
            string moneyFromSegments = string.Join("; ", FunnelAnalyzer.Analyze(await fixture.Analytics.LoadFunnelAsync(MoneyQuery, Entered).ConfigureAwait(false), MoneyQuery).Steps.Select(s => s.Money));
            string moneyFromRows = string.Join("; ", FunnelAnalyzer.Analyze(await fixture.RowsOnly.LoadFunnelAsync(MoneyQuery, Entered).ConfigureAwait(false), MoneyQuery).Steps.Select(s => s.Money));
            if (moneyFromSegments != moneyFromRows)
            {
                throw new InvalidOperationException($"The money differs: from segments {moneyFromSegments}, from rows {moneyFromRows}.");
            }

            Console.WriteLine($"// Money from segments and rows alike: {moneyFromSegments}.");
            return fixture;
        }

        /// <summary>The funnel in SQL: starts in the period, then per step the earliest event after the previous one within 7 days of the start.</summary>
        public async Task<long[]> SqlAsync()
        {
            const string Sql = """
                WITH steps AS MATERIALIZED (
                    SELECT lead_id, occurred_at AS t,
                           CASE type WHEN 'page_viewed' THEN 0 WHEN 'opted_in' THEN 1 WHEN 'sales_page_visited' THEN 2 ELSE 3 END AS step
                    FROM funnel.events
                    WHERE lead_id IS NOT NULL AND occurred_at >= $1 AND (
                        (type = 'page_viewed' AND occurred_at < $2)
                        OR (type IN ('sales_page_visited', 'order_placed') AND occurred_at < $2 + $3)
                        OR (type = 'opted_in' AND occurred_at < $2 + $3 AND payload->>'magnet' = 'quick-start-guide'))),
                s0 AS (SELECT lead_id, t AS t0 FROM steps WHERE step = 0),
                s1 AS (SELECT s0.lead_id, s0.t0, min(e.t) AS t1 FROM s0 JOIN steps e
                       ON e.step = 1 AND e.lead_id = s0.lead_id AND e.t >= s0.t0 AND e.t <= s0.t0 + $3 GROUP BY s0.lead_id, s0.t0),
                s2 AS (SELECT s1.lead_id, s1.t0, min(e.t) AS t2 FROM s1 JOIN steps e
                       ON e.step = 2 AND e.lead_id = s1.lead_id AND e.t >= s1.t1 AND e.t <= s1.t0 + $3 GROUP BY s1.lead_id, s1.t0),
                s3 AS (SELECT DISTINCT s2.lead_id FROM s2 JOIN steps e
                       ON e.step = 3 AND e.lead_id = s2.lead_id AND e.t >= s2.t2 AND e.t <= s2.t0 + $3)
                SELECT (SELECT count(DISTINCT lead_id) FROM s0), (SELECT count(DISTINCT lead_id) FROM s1),
                       (SELECT count(DISTINCT lead_id) FROM s2), (SELECT count(*) FROM s3);
                """;
            await using NpgsqlConnection connection = await Database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using NpgsqlBatch batch = new(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SET work_mem = '256MB'"),
                    new NpgsqlBatchCommand(Sql)
                    {
                        Parameters =
                        {
                            new NpgsqlParameter { Value = PgValues.ToDateTime(Entered.Start) },
                            new NpgsqlParameter { Value = PgValues.ToDateTime(Entered.End) },
                            new NpgsqlParameter { Value = Query.Window.ToTimeSpan() },
                        },
                    },
                },
            };
            await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
            await reader.ReadAsync().ConfigureAwait(false);
            return [reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)];
        }

        private static async Task<string> ScalarAsync(PgDatabase database, string sql)
        {
            await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using NpgsqlCommand command = new(sql, connection);
            return Convert.ToString(await command.ExecuteScalarAsync().ConfigureAwait(false), CultureInfo.InvariantCulture) ?? string.Empty;
        }

        /// <summary>Generates the log compactly, sorts it by time, and writes it with one binary COPY.</summary>
        private static async Task SeedAsync(PgDatabase database, FunnelEventSerializer serializer)
        {
            var random = new Random(16);
            var leads = new List<LeadId>(2_000_000);
            var lead = new int[TotalEvents];
            var ticks = new long[TotalEvents];
            var kind = new byte[TotalEvents];
            int count = 0;
            long day = Duration.FromDays(1).BclCompatibleTicks;
            long hour = Duration.FromHours(1).BclCompatibleTicks;
            void Add(int l, long t, Kind k)
            {
                if (count < TotalEvents)
                {
                    lead[count] = l;
                    ticks[count] = t - (t % 10);
                    kind[count++] = (byte)k;
                }
            }

            while (count < TotalEvents)
            {
                int l = leads.Count;
                leads.Add(new LeadId(Guid.CreateVersion7()));
                long t = Origin.ToUnixTimeTicks() + random.NextInt64(90 * day);
                int views = 1 + random.Next(4);
                for (int v = 0; v < views; v++)
                {
                    Add(l, t, Kind.PageViewedFacebook + random.Next(3));
                    t += random.NextInt64(day);
                }

                if (random.NextDouble() >= 0.12)
                {
                    continue;
                }

                t += random.NextInt64(2 * hour);
                Add(l, t, random.NextDouble() < 0.85 ? Kind.OptedInGuide : Kind.OptedInChecklist);
                for (int email = 0; email < 8; email++)
                {
                    long sent = t + (email * 2 * day) + random.NextInt64(hour);
                    Add(l, sent, Kind.EmailSent0 + email);
                    Add(l, sent + 1_000_000, Kind.EmailDelivered0 + email);
                    if (random.Next(2) == 0)
                    {
                        Add(l, sent + random.NextInt64(day), Kind.EmailOpened0 + email);
                    }

                    if (random.Next(7) == 0)
                    {
                        Add(l, sent + day + random.NextInt64(day), Kind.EmailClicked0 + email);
                    }
                }

                if (random.NextDouble() < 0.10)
                {
                    t += random.NextInt64(9 * day);
                    Add(l, t, Kind.SalesPageVisited);
                    if (random.NextDouble() < 0.10)
                    {
                        Add(l, t + random.NextInt64(day), Kind.OrderPlaced);
                    }
                }
            }

            // A live log grows in time order, which interleaves the leads.
            int[] order = [.. Enumerable.Range(0, TotalEvents)];
            Array.Sort((long[])ticks.Clone(), order);
            await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None).ConfigureAwait(false);

            // The secondary indexes are built once after the load (as a bulk load would), not row by row.
            await ExecuteAsync(connection, "ALTER TABLE funnel.events DROP CONSTRAINT events_id_key; DROP INDEX funnel.events_lead").ConfigureAwait(false);
            await using (NpgsqlBinaryImporter import = await connection.BeginBinaryImportAsync(EventLogCopy.Sql(database.Schema)).ConfigureAwait(false))
            {
                // Events are created and serialized on another thread while this one writes the rows.
                var channel = System.Threading.Channels.Channel.CreateBounded<FunnelEvent>(10_000);
                Task produce = Task.Run(async () =>
                {
                    foreach (int i in order)
                    {
                        await channel.Writer.WriteAsync(Create(leads[lead[i]], Instant.FromUnixTimeTicks(ticks[i]), (Kind)kind[i])).ConfigureAwait(false);
                    }

                    channel.Writer.Complete();
                });
                await foreach (FunnelEvent e in channel.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await EventLogCopy.WriteRowAsync(import, e, serializer).ConfigureAwait(false);
                }

                await produce.ConfigureAwait(false);
                await import.CompleteAsync().ConfigureAwait(false);
            }

            await ExecuteAsync(connection, "SET maintenance_work_mem = '512MB'; ALTER TABLE funnel.events ADD CONSTRAINT events_id_key UNIQUE (id); "
                + "CREATE INDEX events_lead ON funnel.events (lead_id, position) WHERE lead_id IS NOT NULL").ConfigureAwait(false);
            await ExecuteAsync(connection, "VACUUM ANALYZE funnel.events").ConfigureAwait(false);
        }

        private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
        {
            await using NpgsqlCommand command = new(sql, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        private static FunnelEvent Create(LeadId lead, Instant at, Kind kind) => kind switch
        {
            >= Kind.PageViewedFacebook and <= Kind.PageViewedOrganic => new PageViewed
            {
                LeadId = lead,
                OccurredAt = at,
                Page = "/ebook",
                Attribution = Attribution.FromUtm(kind switch { Kind.PageViewedFacebook => "facebook", Kind.PageViewedGoogle => "google", _ => "organic" }),
            },
            Kind.OptedInGuide => new OptedIn { LeadId = lead, OccurredAt = at, Magnet = "quick-start-guide" },
            Kind.OptedInChecklist => new OptedIn { LeadId = lead, OccurredAt = at, Magnet = "checklist" },
            Kind.SalesPageVisited => new SalesPageVisited { LeadId = lead, OccurredAt = at, Offer = "ebook-masterclass" },
            Kind.OrderPlaced => new OrderPlaced { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = "ebook-masterclass", Total = Money.FromMinorUnits(4_900, Currency.USD) },
            >= Kind.EmailClicked0 => new EmailClicked { LeadId = lead, OccurredAt = at, Email = Nurture(kind - Kind.EmailClicked0), Url = "https://example.com/masterclass" },
            >= Kind.EmailOpened0 => new EmailOpened { LeadId = lead, OccurredAt = at, Email = Nurture(kind - Kind.EmailOpened0) },
            >= Kind.EmailDelivered0 => new EmailDelivered { LeadId = lead, OccurredAt = at, Email = Nurture(kind - Kind.EmailDelivered0) },
            _ => new EmailSent { LeadId = lead, OccurredAt = at, Email = Nurture(kind - Kind.EmailSent0) },
        };

        private static string Nurture(int step) => "nurture-" + step.ToString(CultureInfo.InvariantCulture);
    }

    private enum Kind
    {
        PageViewedFacebook,
        PageViewedGoogle,
        PageViewedOrganic,
        OptedInGuide,
        OptedInChecklist,
        SalesPageVisited,
        OrderPlaced,
        EmailSent0 = 10,
        EmailDelivered0 = 20,
        EmailOpened0 = 30,
        EmailClicked0 = 40,
    }

    private sealed class Configuration : ManualConfig
    {
        public Configuration() =>
            AddJob(Job.Default
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(60), logOutput: true))
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(3));
    }
}
