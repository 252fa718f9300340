using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Parquet.Tests.ExportTestSupport;

namespace Funnel.Analytics.Parquet.Tests;

/// <summary>A seeded log of funnel traffic: how many leads, over how many days, and the random seed.</summary>
public sealed record TrafficCase(int Seed, int Leads, int Days)
{
    public override string ToString() => $"seed={Seed} leads={Leads} days={Days}";
}

/// <summary>FsCheck generators for exported traffic.</summary>
public static class ExportArbitraries
{
    public static Arbitrary<TrafficCase> Traffic() =>
        (from seed in Gen.Choose(0, int.MaxValue - 1)
         from leads in Gen.Choose(0, 120)
         from days in Gen.Choose(1, 12)
         select new TrafficCase(seed, leads, days)).ToArbitrary();
}

/// <summary>Questions a warehouse asks of the exported files, answered by DuckDB and checked against Funnel's own answers.</summary>
public sealed class WarehouseQueryTests : IDisposable
{
    private static readonly Instant Start = Instant.FromUtc(2026, 10, 20, 0, 0);
    private static readonly Duration Window = Duration.FromDays(3);
    private static readonly string[] Steps = [EventTypes.PageViewed, EventTypes.OptedIn, EventTypes.SalesPageVisited, EventTypes.OrderPlaced];
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Property(MaxTest = 12, Arbitrary = [typeof(ExportArbitraries)])]
    public void FourStepFunnel_DuckDbOverTheFiles_EqualsFunnelAnalyzer(TrafficCase traffic)
    {
        string root = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N"));
        FunnelEvent[] events = Generate(traffic);
        Exporter(root, o => o.RowGroupSize = 97).ExportAsync(LogOf(events).GetAwaiter().GetResult()).GetAwaiter().GetResult();

        var query = new FunnelQuery { Funnel = Definition(), Window = Window };
        long[] ours = [.. FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(events), query).Steps.Select(s => s.Reached)];
        long[] duck = events.Length == 0 ? [0, 0, 0, 0] : DuckFunnel(root);

        duck.ShouldBe(ours, traffic.ToString());
    }

    [Fact]
    public async Task FourStepFunnel_SeededTraffic_ReachesEveryStepAndDuckDbAgrees()
    {
        FunnelEvent[] events = Generate(new TrafficCase(7, 400, 10));
        await Exporter(_temp.Path).ExportAsync(await LogOf(events));

        long[] ours = [.. FunnelAnalyzer.Analyze(AnalyticsEventStore.Load(events), new FunnelQuery { Funnel = Definition(), Window = Window })
            .Steps.Select(s => s.Reached)];

        ours[^1].ShouldBeGreaterThan(0, "the traffic should convert somewhere, or the comparison proves little");
        DuckFunnel(_temp.Path).ShouldBe(ours);
    }

    [Fact]
    public async Task MoneyColumns_SummedByDuckDb_EqualTheEventsTotals()
    {
        FunnelEvent[] events = Generate(new TrafficCase(11, 300, 6));
        await Exporter(_temp.Path).ExportAsync(await LogOf(events));

        Dictionary<string, long> expected = events
            .Select(e => (e.EventType, Money: e switch
            {
                OrderPlaced o => o.Total,
                RefundIssued r => r.Amount,
                AdSpendRecorded s => s.Amount,
                _ => (Money?)null,
            }))
            .Where(x => x.Money is not null)
            .GroupBy(x => $"{x.EventType}/{x.Money!.Value.Currency.Code}", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(x => x.Money!.Value.MinorUnits), StringComparer.Ordinal);
        Dictionary<string, long> duck = Query($"""
            SELECT type || '/' || currency, CAST(SUM(amount_minor) AS BIGINT) FROM {Files(_temp.Path)}
            WHERE amount_minor IS NOT NULL GROUP BY ALL ORDER BY 1
            """).ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

        expected.Keys.ShouldBe(["ad_spend_recorded/EUR", "order_placed/EUR", "refund_issued/EUR"]);
        duck.ShouldBe(expected);
        Query($"SELECT COUNT(*) FROM {Files(_temp.Path)} WHERE type NOT IN ('order_placed', 'refund_issued', 'ad_spend_recorded') AND amount_minor IS NOT NULL")[0][0]
            .ShouldBe(0L);
    }

    [Fact]
    public async Task Channels_CountedByDuckDb_EqualTheEventsAttribution()
    {
        FunnelEvent[] events = Generate(new TrafficCase(3, 200, 4));
        await Exporter(_temp.Path).ExportAsync(await LogOf(events));

        var expected = events.GroupBy(e => e.Attribution.Channel ?? "(none)", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new object?[] { g.Key, (long)g.Count() }).ToList();

        Query($"SELECT COALESCE(channel, '(none)'), COUNT(*) FROM {Files(_temp.Path)} GROUP BY ALL ORDER BY 1").ShouldBe(expected);
    }

    private static FunnelDefinition Definition()
    {
        FunnelBuilder builder = FunnelBuilder.Create("export", "Export check").WithDefaultStages();
        for (int k = 0; k < Steps.Length; k++)
        {
            builder = builder.AddStep("s" + k, Steps[k], DefaultStages.Awareness.Key, StepKind.Custom, EventMatch.For(Steps[k]));
        }

        return builder.Build();
    }

    /// <summary>The ordered funnel in SQL (the non-strict semantics, as tests/Funnel.Core.Benchmarks asks DuckDB).</summary>
    private static long[] DuckFunnel(string root)
    {
        string f = Files(root);
        string w = $"INTERVAL {Window.TotalSeconds.ToString(CultureInfo.InvariantCulture)} SECOND";
        object?[] row = Query($"""
            WITH ev AS (SELECT lead_id AS lead, occurred_at AS ts, type FROM {f} WHERE lead_id IS NOT NULL),
            s0 AS (SELECT lead, ts AS t0 FROM ev WHERE type = '{Steps[0]}'),
            s1 AS (SELECT s0.lead, s0.t0, MIN(e.ts) AS t1 FROM s0 JOIN ev e
                   ON e.lead = s0.lead AND e.type = '{Steps[1]}' AND e.ts >= s0.t0 AND e.ts <= s0.t0 + {w} GROUP BY s0.lead, s0.t0),
            s2 AS (SELECT s1.lead, s1.t0, MIN(e.ts) AS t2 FROM s1 JOIN ev e
                   ON e.lead = s1.lead AND e.type = '{Steps[2]}' AND e.ts >= s1.t1 AND e.ts <= s1.t0 + {w} GROUP BY s1.lead, s1.t0),
            s3 AS (SELECT s2.lead FROM s2 JOIN ev e
                   ON e.lead = s2.lead AND e.type = '{Steps[3]}' AND e.ts >= s2.t2 AND e.ts <= s2.t0 + {w})
            SELECT (SELECT COUNT(DISTINCT lead) FROM s0), (SELECT COUNT(DISTINCT lead) FROM s1),
                   (SELECT COUNT(DISTINCT lead) FROM s2), (SELECT COUNT(DISTINCT lead) FROM s3)
            """)[0];
        return [.. row.Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture))];
    }

    /// <summary>Visits, opt-ins, sales pages, orders, refunds and ad spend, in the log's (time) order.</summary>
    private static FunnelEvent[] Generate(TrafficCase traffic)
    {
        var random = new Random(traffic.Seed);
        string?[] channels = [null, "facebook", "google", "email"];
        var events = new List<FunnelEvent>();
        for (int l = 1; l <= traffic.Leads; l++)
        {
            LeadId lead = Lead(l);
            var attribution = new Attribution { Channel = channels[random.Next(channels.Length)], Campaign = random.Next(2) == 0 ? null : "launch" };
            Instant t = Start + Duration.FromSeconds(random.NextInt64(traffic.Days * 86_400L));
            int touches = random.Next(1, 9);
            for (int i = 0; i < touches; i++)
            {
                t += Duration.FromSeconds(random.NextInt64(2 * 86_400L));
                FunnelEvent e = random.Next(8) switch
                {
                    0 or 1 or 2 => new PageViewed { LeadId = lead, OccurredAt = t, Page = "/p" + random.Next(5) },
                    3 or 4 => new OptedIn { LeadId = lead, OccurredAt = t, Magnet = "guide" },
                    5 => new SalesPageVisited { LeadId = lead, OccurredAt = t, Offer = "course" },
                    6 => new OrderPlaced { LeadId = lead, OccurredAt = t, Order = OrderId.New(), Offer = "course", Total = Money.FromMinorUnits(random.Next(1, 50_000), Currency.EUR) },
                    _ => new RefundIssued { LeadId = lead, OccurredAt = t, Order = OrderId.New(), Amount = Money.FromMinorUnits(random.Next(1, 5_000), Currency.EUR) },
                };
                events.Add(e with { Attribution = attribution });
            }
        }

        for (int d = 0; d < traffic.Days; d++)
        {
            events.Add(new AdSpendRecorded
            {
                OccurredAt = Start + Duration.FromDays(d) + Duration.FromHours(23),
                Amount = Money.FromMinorUnits(random.Next(100, 100_000), Currency.EUR),
                Attribution = new Attribution { Channel = "facebook" },
            });
        }

        return [.. events.OrderBy(e => e.OccurredAt)];
    }
}
