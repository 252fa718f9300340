using BenchmarkDotNet.Attributes;
using Funnel.Events;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// Reading and writing stored events: every read of the event log (the pipeline, the dashboard's pages, exports)
/// deserialises each event it returns, so this is the floor under all of them.
/// </summary>
/// <remarks>Three shapes: a page view with its attribution (the most common event), an opt-in, and an order with money.</remarks>
[MemoryDiagnoser]
public class EventSerializerBenchmarks
{
    private readonly FunnelEventSerializer serializer = new(FunnelEventTypes.FromAssemblies(typeof(PageViewed).Assembly));
    private FunnelEvent[] events = [];
    private string[] json = [];

    [GlobalSetup]
    public void Setup()
    {
        LeadId lead = LeadId.New();
        Instant at = Instant.FromUtc(2026, 12, 7, 15, 4, 5) + Duration.FromMilliseconds(125);
        events =
        [
            new PageViewed
            {
                LeadId = lead, OccurredAt = at, Page = "/blog/write-an-ebook-in-30-days", Title = "Write an ebook in 30 days",
                Attribution = new Attribution { Channel = "facebook", Campaign = "quick-start-guide-launch", Source = "Facebook", Medium = "cpc" },
            },
            new OptedIn { LeadId = lead, OccurredAt = at, Magnet = "quick-start-guide" },
            new OrderPlaced { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = new OfferId("masterclass-basic"), Total = Money.FromMajor(497m, Currency.USD) },
        ];
        json = [.. events.Select(serializer.Serialize)];
    }

    /// <summary>Reads the three events back from their stored JSON text.</summary>
    /// <returns>The last event read.</returns>
    [Benchmark(OperationsPerInvoke = 3)]
    public FunnelEvent DeserializeThree()
    {
        FunnelEvent last = null!;
        foreach (string text in json)
        {
            last = serializer.Deserialize(text);
        }

        return last;
    }

    /// <summary>Writes the three events as JSON text.</summary>
    /// <returns>The last text written.</returns>
    [Benchmark(OperationsPerInvoke = 3)]
    public string SerializeThree()
    {
        string last = "";
        foreach (FunnelEvent e in events)
        {
            last = serializer.Serialize(e);
        }

        return last;
    }
}
