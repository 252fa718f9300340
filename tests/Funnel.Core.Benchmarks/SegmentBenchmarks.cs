using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Benchmarks;

/// <summary>
/// Bulk evaluation of a five-clause segment over 1,000,000 leads with realistic event histories (about 13 events
/// per lead over 90 days: blog views, opt-ins, nurture emails sent/opened/clicked, sales page visits, orders).
/// Reported per lead-evaluation (OperationsPerInvoke), so 100 ns is 10 million evaluations per second.
/// </summary>
[MemoryDiagnoser]
public class SegmentBenchmarks
{
    private const int Leads = 1_000_000;
    private static readonly Instant Now = Instant.FromUtc(2026, 6, 1, 0, 0);

    private readonly SegmentEvaluator evaluator = new(new AllRule(
    [
        new EventRule { EventType = EventTypes.OptedIn, Subject = "quick-start-guide", Within = Duration.FromDays(30) },
        new NotRule(new EventRule { EventType = EventTypes.SalesPageVisited }),
        new EmailRule("nurture-3", EmailAction.Opened),
        new EventRule { EventType = EventTypes.PageViewed, Subject = "/blog/*", AtLeast = 2, Within = Duration.FromDays(14) },
        new ConsentRule(ConsentStatus.Granted),
    ]));

    private LeadPopulation population = null!;

    [GlobalSetup]
    public void Setup()
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        population = Generate();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// Population: {population.Count:N0} leads, {population.EventCount:N0} events, {(after - before) / 1_048_576.0:N1} MiB retained");
        Console.WriteLine($"// Members: {evaluator.Evaluate(population, Now).Count:N0}");
    }

    [Benchmark(OperationsPerInvoke = Leads)]
    public int EvaluateFiveClauses() => evaluator.Evaluate(population, Now).Count;

    private static LeadPopulation Generate()
    {
        Random random = new(42);
        LeadPopulationBuilder builder = new();
        string[] posts = [.. Enumerable.Range(0, 300).Select(i => $"/blog/post-{i}")];
        string[] tags = ["vip", "webinar", "coaching", "cold", "buyer"];
        string[] countries = ["US", "DE", "UK", "FR", "IN", "BR", "CA", "AU", "ES", "NL"];
        ConsentStatus[] consent = [ConsentStatus.Granted, ConsentStatus.Granted, ConsentStatus.Granted, ConsentStatus.Pending, ConsentStatus.Withdrawn];
        for (int i = 0; i < Leads; i++)
        {
            LeadProfile profile = new()
            {
                Id = new LeadId(new Guid(i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
                Email = EmailAddress.Parse($"lead{i}@example.com"),
                CreatedAt = Now,
                Stage = (LifecycleStage)random.Next(1, 5),
                Score = random.Next(0, 120),
                Consent = new ConsentRecord { Purpose = "marketing-email", Status = consent[random.Next(consent.Length)], Method = ConsentMethod.SingleOptIn, Source = "quick-start-guide", RecordedAt = Now },
                Tags = random.Next(4) == 0 ? ImmutableSortedSet.Create(StringComparer.Ordinal, tags[random.Next(tags.Length)]) : ImmutableSortedSet.Create<string>(StringComparer.Ordinal),
                CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("country", countries[random.Next(countries.Length)]),
            };
            int lead = builder.Add(profile);
            Instant Ago() => Now - Duration.FromMinutes(random.Next(0, 90 * 24 * 60));
            int views = random.Next(1, 9);
            for (int v = 0; v < views; v++)
            {
                builder.AddEvent(lead, EventTypes.PageViewed, posts[random.Next(posts.Length)], Ago());
            }

            builder.AddEvent(lead, EventTypes.PageViewed, "/free-guide", Ago());
            builder.AddEvent(lead, EventTypes.OptedIn, "quick-start-guide", Ago());
            int emails = random.Next(1, 8);
            for (int e = 1; e <= emails; e++)
            {
                string key = $"nurture-{e}";
                builder.AddEvent(lead, EventTypes.EmailSent, key, Ago());
                if (random.Next(10) < 4)
                {
                    builder.AddEvent(lead, EventTypes.EmailOpened, key, Ago());
                    if (random.Next(10) < 2)
                    {
                        builder.AddEvent(lead, EventTypes.EmailClicked, key, Ago());
                    }
                }
            }

            if (random.Next(5) == 0)
            {
                builder.AddEvent(lead, EventTypes.SalesPageVisited, "masterclass", Ago());
                if (random.Next(20) == 0)
                {
                    builder.AddEvent(lead, EventTypes.OrderPlaced, "masterclass", Ago());
                }
            }
        }

        return builder.Build();
    }
}
