using System.Globalization;
using BenchmarkDotNet.Attributes;
using DuckDB.NET.Data;
using Funnel.Analytics;
using Funnel.Definitions;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// A 4-step ordered funnel with a 7-day window over 10,000,000 events of 1,000,000 leads: Funnel.Analytics against
/// DuckDB asking the same question in the same run. The answers are checked equal in <see cref="Setup"/>.
/// </summary>
/// <remarks>
/// The steps have distinct event types, so "each event serves one step" holds by construction, and the SQL below has
/// exactly our non-strict semantics: every step-0 event is a start, each next step takes the earliest matching event
/// at or after the previous one and at most 7 days (inclusive) after the start, and a lead reaches step k when any
/// start gets that far. Both sides read the same raw rows (GUID lead id, time, event type), in time order as an event log arrives.
/// DuckDB is asked twice: over the raw table with the plain query, and over its best layout (leads numbered at load,
/// integer type codes, rows grouped by lead) with its best query (<see cref="QueryDuckBest"/>).
/// </remarks>
[MemoryDiagnoser]
public class AnalyticsFunnelBenchmarks
{
    private const int Leads = 1_000_000;
    private const int EventsPerLead = 10;
    private static readonly string[] Types = ["visit", "opt_in", "sales_page", "purchase", "email_sent", "email_opened", "page_viewed", "checkout_started"];
    private static readonly Duration Window = Duration.FromDays(7);

    private Guid[] leadIds = [];
    private int[] eventLead = [];
    private long[] eventTicks = [];
    private byte[] eventType = [];
    private AnalyticsEventStore store = null!;
    private FunnelQuery query = null!;
    private DuckDBConnection duck = null!;

    [GlobalSetup]
    public void Setup()
    {
        Generate();
        query = new FunnelQuery { Funnel = Definition(), Window = Window };
        store = Load();
        duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        LoadDuck("events");

        long[] ours = [.. FunnelAnalyzer.Analyze(store, query).Steps.Select(s => s.Reached)];
        long[] theirs = QueryDuck("events");
        LoadDuckBest("best");
        long[] theirBest = QueryDuckBest("best");
        if (!ours.SequenceEqual(theirs) || !ours.SequenceEqual(theirBest))
        {
            throw new InvalidOperationException($"The answers differ: Funnel.Analytics [{string.Join(", ", ours)}], DuckDB [{string.Join(", ", theirs)}], DuckDB best [{string.Join(", ", theirBest)}].");
        }

        Console.WriteLine($"// Both answer [{string.Join(", ", ours)}] for {eventLead.Length:N0} events of {Leads:N0} leads; store: {store.BytesPerEvent} bytes per event.");
        SetupIncremental();
    }

    [GlobalCleanup]
    public void Cleanup() => duck.Dispose();

    /// <summary>Our analysis on one thread over the grouped layout: the per-core figure.</summary>
    [Benchmark]
    public long Ours_AnalyseOnly_OneThread() => FunnelAnalyzer.Analyze(store, query with { MaxDegreeOfParallelism = 1 }).Steps[^1].Reached;

    /// <summary>Our analysis on all cores over the grouped layout.</summary>
    [Benchmark]
    public long Ours_AnalyseOnly_AllCores() => FunnelAnalyzer.Analyze(store, query).Steps[^1].Reached;

    /// <summary>End to end: encode the raw rows into our layout, then analyse.</summary>
    [Benchmark]
    public long Ours_LoadAndAnalyse() => FunnelAnalyzer.Analyze(Load(), query).Steps[^1].Reached;

    /// <summary>DuckDB answering the same question over its already loaded table.</summary>
    [Benchmark(Baseline = true)]
    public long DuckDb_QueryOnly() => QueryDuck("events")[^1];

    /// <summary>End to end: append the raw rows into a DuckDB table, then query.</summary>
    [Benchmark]
    public long DuckDb_LoadAndQuery()
    {
        LoadDuck("fresh");
        long result = QueryDuck("fresh")[^1];
        using DuckDBCommand drop = duck.CreateCommand();
        drop.CommandText = "DROP TABLE fresh";
        drop.ExecuteNonQuery();
        return result;
    }

    /// <summary>DuckDB's best query over its best layout, already loaded.</summary>
    [Benchmark]
    public long DuckDb_BestLayout_QueryOnly() => QueryDuckBest("best")[^1];

    /// <summary>End to end for DuckDB's best: append the raw rows, number the leads and group the rows by lead, then query.</summary>
    [Benchmark]
    public long DuckDb_BestLayout_LoadAndQuery()
    {
        LoadDuckBest("fresh_best");
        long result = QueryDuckBest("fresh_best")[^1];
        using DuckDBCommand drop = duck.CreateCommand();
        drop.CommandText = "DROP TABLE fresh_best";
        drop.ExecuteNonQuery();
        return result;
    }

    /// <summary>
    /// Appends the raw rows with the event type as its code (0–7, the funnel's steps first), then lets DuckDB number
    /// the leads 0…n−1 and store the rows ordered by lead and time: the layout closest to ours.
    /// </summary>
    private void LoadDuckBest(string table)
    {
        using (DuckDBCommand create = duck.CreateCommand())
        {
            create.CommandText = $"CREATE TEMP TABLE {table}_raw (lead UUID, ts BIGINT, type UTINYINT)";
            create.ExecuteNonQuery();
        }

        using (DuckDBAppender appender = duck.CreateAppender($"{table}_raw"))
        {
            for (int i = 0; i < eventLead.Length; i++)
            {
                appender.CreateRow().AppendValue(leadIds[eventLead[i]]).AppendValue(eventTicks[i]).AppendValue(eventType[i]).EndRow();
            }
        }

        using DuckDBCommand number = duck.CreateCommand();
        number.CommandText = $"""
            CREATE TABLE {table} AS
            WITH ids AS (SELECT lead, (row_number() OVER () - 1)::INTEGER AS n FROM (SELECT DISTINCT lead FROM {table}_raw))
            SELECT ids.n AS lead, r.ts, r.type FROM {table}_raw r JOIN ids USING (lead) ORDER BY ids.n, r.ts;
            DROP TABLE {table}_raw;
            """;
        number.ExecuteNonQuery();
    }

    /// <summary>
    /// The fastest of the queries we tried on the best layout (a chain of window functions per lead was 5× slower):
    /// the join chain without its GROUP BYs, since any chain of matching events implies the greedy one (take the
    /// earliest event of each step and the rest still fit), and distinct leads counted as bits over 0…n−1.
    /// </summary>
    private long[] QueryDuckBest(string table)
    {
        string w = Window.BclCompatibleTicks.ToString(CultureInfo.InvariantCulture);
        string count = $"bit_count(bitstring_agg(lead, 0, {Leads - 1}))";
        using DuckDBCommand command = duck.CreateCommand();
        command.CommandText = $"""
            WITH s0 AS (SELECT lead, ts AS t0 FROM {table} WHERE type = 0),
            s1 AS (SELECT s0.lead, s0.t0, e.ts AS t1 FROM s0 JOIN {table} e
                   ON e.lead = s0.lead AND e.type = 1 AND e.ts >= s0.t0 AND e.ts <= s0.t0 + {w}),
            s2 AS (SELECT s1.lead, s1.t0, e.ts AS t2 FROM s1 JOIN {table} e
                   ON e.lead = s1.lead AND e.type = 2 AND e.ts >= s1.t1 AND e.ts <= s1.t0 + {w}),
            s3 AS (SELECT s2.lead FROM s2 JOIN {table} e
                   ON e.lead = s2.lead AND e.type = 3 AND e.ts >= s2.t2 AND e.ts <= s2.t0 + {w})
            SELECT (SELECT {count} FROM s0), (SELECT {count} FROM s1), (SELECT {count} FROM s2), (SELECT {count} FROM s3)
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return [reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)];
    }

    private static FunnelDefinition Definition()
    {
        FunnelBuilder builder = FunnelBuilder.Create("bench", "Benchmark funnel").WithDefaultStages();
        for (int k = 0; k < 4; k++)
        {
            builder = builder.AddStep("s" + k, Types[k], DefaultStages.Awareness.Key, StepKind.Custom, EventMatch.For(Types[k]));
        }

        return builder.Build();
    }

    private void Generate()
    {
        var random = new Random(42);
        leadIds = new Guid[Leads];
        int total = Leads * EventsPerLead;
        eventLead = new int[total];
        eventTicks = new long[total];
        eventType = new byte[total];
        long start = Instant.FromUtc(2026, 1, 1, 0, 0).ToUnixTimeTicks();
        long day = Duration.FromDays(1).BclCompatibleTicks;

        // Later steps are rarer, as in a real funnel; noise types fill the rest.
        int[] weights = [30, 12, 6, 3, 20, 15, 10, 4];
        int weightSum = weights.Sum();
        Span<byte> bytes = stackalloc byte[16];
        for (int l = 0; l < Leads; l++)
        {
            random.NextBytes(bytes);
            leadIds[l] = new Guid(bytes);
            long first = start + random.NextInt64(60 * day);
            for (int i = 0; i < EventsPerLead; i++)
            {
                int p = (l * EventsPerLead) + i;
                eventLead[p] = l;
                eventTicks[p] = first + random.NextInt64(14 * day);
                int roll = random.Next(weightSum);
                int type = 0;
                while (roll >= weights[type])
                {
                    roll -= weights[type];
                    type++;
                }

                eventType[p] = (byte)type;
            }
        }

        // An event log arrives in time order, interleaving the leads.
        int[] order = [.. Enumerable.Range(0, total).OrderBy(i => eventTicks[i])];
        eventLead = [.. order.Select(i => eventLead[i])];
        eventTicks = [.. order.Select(i => eventTicks[i])];
        eventType = [.. order.Select(i => eventType[i])];
    }

    private AnalyticsEventStore Load()
    {
        var builder = new AnalyticsEventStoreBuilder(capacity: eventLead.Length);
        for (int i = 0; i < eventLead.Length; i++)
        {
            builder.Add(new LeadId(leadIds[eventLead[i]]), Instant.FromUnixTimeTicks(eventTicks[i]), Types[eventType[i]]);
        }

        return builder.Build();
    }

    private void LoadDuck(string table)
    {
        using (DuckDBCommand create = duck.CreateCommand())
        {
            create.CommandText = $"CREATE TABLE {table} (lead UUID, ts BIGINT, type VARCHAR)";
            create.ExecuteNonQuery();
        }

        using DuckDBAppender appender = duck.CreateAppender(table);
        for (int i = 0; i < eventLead.Length; i++)
        {
            appender.CreateRow().AppendValue(leadIds[eventLead[i]]).AppendValue(eventTicks[i]).AppendValue(Types[eventType[i]]).EndRow();
        }
    }

    private long[] QueryDuck(string table)
    {
        string w = Window.BclCompatibleTicks.ToString(CultureInfo.InvariantCulture);
        using DuckDBCommand command = duck.CreateCommand();
        command.CommandText = $"""
            WITH s0 AS (SELECT lead, ts AS t0 FROM {table} WHERE type = 'visit'),
            s1 AS (SELECT s0.lead, s0.t0, MIN(e.ts) AS t1 FROM s0 JOIN {table} e
                   ON e.lead = s0.lead AND e.type = 'opt_in' AND e.ts >= s0.t0 AND e.ts <= s0.t0 + {w} GROUP BY s0.lead, s0.t0),
            s2 AS (SELECT s1.lead, s1.t0, MIN(e.ts) AS t2 FROM s1 JOIN {table} e
                   ON e.lead = s1.lead AND e.type = 'sales_page' AND e.ts >= s1.t1 AND e.ts <= s1.t0 + {w} GROUP BY s1.lead, s1.t0),
            s3 AS (SELECT s2.lead FROM s2 JOIN {table} e
                   ON e.lead = s2.lead AND e.type = 'purchase' AND e.ts >= s2.t2 AND e.ts <= s2.t0 + {w})
            SELECT (SELECT COUNT(DISTINCT lead) FROM s0), (SELECT COUNT(DISTINCT lead) FROM s1),
                   (SELECT COUNT(DISTINCT lead) FROM s2), (SELECT COUNT(DISTINCT lead) FROM s3)
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return [reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)];
    }

    // Appending without a rebuild (#21): 1,000,000 events after the base, 70% of existing leads and 30% of new ones.
    private const int Appended = 1_000_000;
    private Guid[] appendLead = [];
    private long[] appendTicks = [];
    private byte[] appendType = [];
    private IncrementalAnalyticsStore appendTarget = null!;
    private IncrementalAnalyticsStore appended = null!;
    private AnalyticsEventStore rebuilt = null!;

    /// <summary>Appends the 1,000,000 events to the 10,000,000-event base: events per second = 1,000,000 / time.</summary>
    [Benchmark]
    public int Incremental_Append1M()
    {
        Fill(appendTarget);
        return appendTarget.AppendedCount;
    }

    /// <summary>The appends, then the first funnel over base + appends, which first groups the appends by lead.</summary>
    [Benchmark]
    public long Incremental_Append1MThenAnalyse()
    {
        Fill(appendTarget);
        return FunnelAnalyzer.Analyze(appendTarget, query).Steps[^1].Reached;
    }

    [IterationSetup(Targets = [nameof(Incremental_Append1M), nameof(Incremental_Append1MThenAnalyse)])]
    public void FreshAppendTarget() => appendTarget = new IncrementalAnalyticsStore(store);

    /// <summary>Wraps the 10,000,000-event base for appending (its lead map): paid once, not per append.</summary>
    [Benchmark]
    public int Incremental_Wrap() => new IncrementalAnalyticsStore(store).LeadCount;

    /// <summary>The 4-step funnel over the base plus the 1,000,000 appended events, on all cores.</summary>
    [Benchmark]
    public long Incremental_AnalyseBasePlusAppended() => FunnelAnalyzer.Analyze(appended, query).Steps[^1].Reached;

    /// <summary>The same funnel over a store rebuilt from all 11,000,000 events, on all cores (analysis only).</summary>
    [Benchmark]
    public long Incremental_AnalyseRebuiltStore() => FunnelAnalyzer.Analyze(rebuilt, query).Steps[^1].Reached;

    /// <summary>What a dashboard pays without the incremental store: rebuild from all 11,000,000 events, then analyse.</summary>
    [Benchmark]
    public long Incremental_RebuildAndAnalyse() => FunnelAnalyzer.Analyze(LoadAll(), query).Steps[^1].Reached;

    /// <summary>Merges the 1,000,000 appended events into a new 11,000,000-event base store.</summary>
    [Benchmark]
    public int Incremental_Compact() => appendTarget.Compact().EventCount;

    [IterationSetup(Target = nameof(Incremental_Compact))]
    public void FreshAppendedTarget()
    {
        FreshAppendTarget();
        Incremental_Append1M();
    }

    private void SetupIncremental()
    {
        var random = new Random(7);
        appendLead = new Guid[Appended];
        appendTicks = new long[Appended];
        appendType = new byte[Appended];
        long after = eventTicks[^1] + 1;
        long day = Duration.FromDays(1).BclCompatibleTicks;
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < Appended; i++)
        {
            if (random.Next(10) < 7)
            {
                appendLead[i] = leadIds[random.Next(Leads)];
            }
            else
            {
                random.NextBytes(bytes);
                appendLead[i] = new Guid(bytes);
            }

            appendTicks[i] = after + random.NextInt64(14 * day);
            appendType[i] = (byte)random.Next(Types.Length);
        }

        // Appends arrive in time order, as from a live event stream.
        int[] order = [.. Enumerable.Range(0, Appended).OrderBy(i => appendTicks[i])];
        appendLead = [.. order.Select(i => appendLead[i])];
        appendTicks = [.. order.Select(i => appendTicks[i])];
        appendType = [.. order.Select(i => appendType[i])];

        FreshAppendTarget();
        Incremental_Append1M();
        appended = appendTarget;
        rebuilt = LoadAll();
        long[] incremental = [.. FunnelAnalyzer.Analyze(appended, query).Steps.Select(s => s.Reached)];
        long[] full = [.. FunnelAnalyzer.Analyze(rebuilt, query).Steps.Select(s => s.Reached)];
        var other = new IncrementalAnalyticsStore(store);
        Fill(other);
        long[] compacted = [.. FunnelAnalyzer.Analyze(other.Compact(), query).Steps.Select(s => s.Reached)];
        if (!incremental.SequenceEqual(full) || !compacted.SequenceEqual(full) || appended.EventCount != rebuilt.EventCount || appended.LeadCount != rebuilt.LeadCount)
        {
            throw new InvalidOperationException($"The answers differ: base + appended [{string.Join(", ", incremental)}], compacted [{string.Join(", ", compacted)}], rebuilt [{string.Join(", ", full)}].");
        }

        Console.WriteLine($"// Base + {Appended:N0} appended and a rebuild of {rebuilt.EventCount:N0} events of {rebuilt.LeadCount:N0} leads both answer [{string.Join(", ", full)}].");
    }

    private void Fill(IncrementalAnalyticsStore target)
    {
        for (int i = 0; i < Appended; i++)
        {
            target.Append(new LeadId(appendLead[i]), Instant.FromUnixTimeTicks(appendTicks[i]), Types[appendType[i]]);
        }
    }

    private AnalyticsEventStore LoadAll()
    {
        var builder = new AnalyticsEventStoreBuilder(capacity: eventLead.Length + Appended);
        for (int i = 0; i < eventLead.Length; i++)
        {
            builder.Add(new LeadId(leadIds[eventLead[i]]), Instant.FromUnixTimeTicks(eventTicks[i]), Types[eventType[i]]);
        }

        for (int i = 0; i < Appended; i++)
        {
            builder.Add(new LeadId(appendLead[i]), Instant.FromUnixTimeTicks(appendTicks[i]), Types[appendType[i]]);
        }

        return builder.Build();
    }
}
