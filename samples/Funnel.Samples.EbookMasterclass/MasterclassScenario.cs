using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>The knobs of the simulated launch; the defaults are the guide's case study.</summary>
public sealed record ScenarioOptions
{
    public int Seed { get; init; } = 1;
    public int Visitors { get; init; } = 50_000;
    /// <summary>Share of visitors who download the free guide, in percent.</summary>
    public decimal OptInPercent { get; init; } = 10m;
    /// <summary>Share of leads who visit the sales page, in percent.</summary>
    public decimal SalesPagePercent { get; init; } = 20m;
    /// <summary>Share of sales-page visitors who buy, in percent.</summary>
    public decimal PurchasePercent { get; init; } = 5m;
    public Money Price { get; init; } = Money.FromMajor(497m, Currency.USD);
    public Money AdSpend { get; init; } = Money.FromMajor(10_000m, Currency.USD);
    public Instant Start { get; init; } = Instant.FromUtc(2026, 10, 1, 0, 0);
    public int Days { get; init; } = 30;
}

/// <summary>The E-Book Masterclass launch from the guide: its funnel, and its traffic simulated as events.</summary>
public static class MasterclassScenario
{
    public const string GuideMagnet = "quick-start-guide";
    public static readonly OfferId Masterclass = "masterclass-basic";

    /// <summary>Paid channels with their share of traffic and of the ad budget (percent).</summary>
    public static readonly ImmutableArray<(string Channel, string Medium, long Weight)> Channels =
        [("facebook", "paid-social", 40), ("instagram", "paid-social", 25), ("google", "cpc", 35)];

    private static readonly string[] BlogPosts =
    [
        "/blog/write-a-best-selling-ebook-in-30-days",
        "/blog/ebook-publishing-platforms",
        "/blog/why-an-ebook-is-your-next-digital-product",
        "/blog/ebook-marketing-strategies",
        "/blog/passive-income-with-ebooks",
    ];

    /// <summary>The case study's funnel: visitors, guide downloads, sales-page visitors, purchases.</summary>
    public static FunnelDefinition Funnel { get; } = FunnelBuilder.Create("ebook-masterclass", "The E-Book Masterclass")
        .WithDefaultStages()
        .AddStep("website-visit", "Website visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("guide-download", "Lead magnet downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, GuideMagnet))
        .AddStep("sales-page", "Sales page visitors", DefaultStages.Decision.Key, StepKind.SalesPage, EventMatch.For(EventTypes.SalesPageVisited, Masterclass.Value))
        .AddStep("purchase", "Purchases", DefaultStages.Action.Key, StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced, Masterclass.Value))
        .Build();

    /// <summary>Draws exactly <paramref name="percent"/> of <paramref name="population"/>, rounded half away from zero.</summary>
    public static int Share(int population, decimal percent) =>
        (int)Math.Round(population * percent / 100m, MidpointRounding.AwayFromZero);

    /// <summary>Generates the launch's events: every visitor, lead, buyer and ad-spend record, in time order.</summary>
    public static IReadOnlyList<FunnelEvent> GenerateEvents(ScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(options.Seed);
        var events = new List<FunnelEvent>(options.Visitors * 2);
        Duration window = Duration.FromDays(options.Days);

        // Exactly the configured shares, drawn at random from the population.
        int[] visitors = Shuffled(random, options.Visitors);
        int leads = Share(options.Visitors, options.OptInPercent);
        int salesVisitors = Share(leads, options.SalesPagePercent);
        int buyers = Share(salesVisitors, options.PurchasePercent);
        var stageOf = new byte[options.Visitors];
        for (int i = 0; i < leads; i++)
        {
            stageOf[visitors[i]] = (byte)(i < buyers ? 3 : i < salesVisitors ? 2 : 1);
        }

        long[] weights = [.. Channels.Select(c => c.Weight)];
        long totalWeight = weights.Sum();
        for (int v = 0; v < options.Visitors; v++)
        {
            var lead = new LeadId(NewGuid(random));
            int channelIndex = Pick(random, weights, totalWeight);
            var (channel, medium, _) = Channels[channelIndex];
            var paid = Attribution.FromUtm(channel, medium, GuideMagnet + "-launch", content: "ad-" + random.Next(1, 4));
            Instant at = options.Start + Duration.FromSeconds(random.NextInt64(0, (long)window.TotalSeconds));
            string post = BlogPosts[random.Next(BlogPosts.Length)];
            events.Add(new PageViewed { Id = NewEventId(random), LeadId = lead, OccurredAt = at, Attribution = paid, Page = post });
            if (stageOf[v] == 0)
            {
                continue;
            }

            // Opt in for the free guide a few minutes later, then get the 7-email nurture sequence.
            at += Minutes(random, 1, 15);
            events.Add(new PageViewed { Id = NewEventId(random), LeadId = lead, OccurredAt = at, Attribution = paid, Page = "/quick-start-guide" });
            at += Minutes(random, 1, 5);
            events.Add(new OptedIn { Id = NewEventId(random), LeadId = lead, OccurredAt = at, Attribution = paid, Magnet = GuideMagnet });
            AddNurtureEmails(random, events, lead, at, clicksToSalesPage: stageOf[v] >= 2, out Instant salesPageAt);
            if (stageOf[v] == 1)
            {
                continue;
            }

            var fromEmail = Attribution.FromUtm("email", "email", "nurture");
            events.Add(new SalesPageVisited { Id = NewEventId(random), LeadId = lead, OccurredAt = salesPageAt, Attribution = fromEmail, Offer = Masterclass });
            bool buys = stageOf[v] == 3;
            if (!buys && random.Next(10) != 0)
            {
                continue;
            }

            Instant checkoutAt = salesPageAt + Minutes(random, 2, 10);
            events.Add(new CheckoutStarted { Id = NewEventId(random), LeadId = lead, OccurredAt = checkoutAt, Attribution = fromEmail, Offer = Masterclass });
            if (!buys)
            {
                continue;
            }

            var order = new OrderId(NewGuid(random));
            Instant orderAt = checkoutAt + Minutes(random, 1, 5);
            events.Add(new OrderPlaced { Id = NewEventId(random), LeadId = lead, OccurredAt = orderAt, Attribution = fromEmail, Order = order, Offer = Masterclass, Total = options.Price });
            events.Add(new PaymentSucceeded { Id = NewEventId(random), LeadId = lead, OccurredAt = orderAt, Attribution = fromEmail, Order = order, Amount = options.Price });
        }

        AddAdSpend(events, options);
        events.Sort(static (a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        return events;
    }

    /// <summary>The seven nurture emails, one a day; a sales-page visitor clicks through from one of emails 3 to 7.</summary>
    private static void AddNurtureEmails(Random random, List<FunnelEvent> events, LeadId lead, Instant optedInAt, bool clicksToSalesPage, out Instant salesPageAt)
    {
        var attribution = Attribution.FromUtm("email", "email", "nurture");
        int clickedEmail = clicksToSalesPage ? random.Next(3, 8) : 0;
        salesPageAt = optedInAt;
        for (int n = 1; n <= 7; n++)
        {
            string email = "nurture-" + n;
            Instant sentAt = optedInAt + Duration.FromDays(n - 1) + Duration.FromMinutes(1);
            events.Add(new EmailSent { Id = NewEventId(random), LeadId = lead, OccurredAt = sentAt, Attribution = attribution, Email = email });
            if (random.Next(100) < 1)
            {
                events.Add(new EmailBounced { Id = NewEventId(random), LeadId = lead, OccurredAt = sentAt + Duration.FromSeconds(30), Attribution = attribution, Email = email, Kind = BounceKind.Soft });
                continue;
            }

            bool clicks = n == clickedEmail || random.Next(100) < 4;
            if (clicks || random.Next(100) < 42)
            {
                Instant openedAt = sentAt + Minutes(random, 5, 600);
                events.Add(new EmailOpened { Id = NewEventId(random), LeadId = lead, OccurredAt = openedAt, Attribution = attribution, Email = email });
                if (clicks)
                {
                    Instant clickedAt = openedAt + Minutes(random, 1, 3);
                    events.Add(new EmailClicked { Id = NewEventId(random), LeadId = lead, OccurredAt = clickedAt, Attribution = attribution, Email = email, Url = "/masterclass" });
                    if (n == clickedEmail)
                    {
                        salesPageAt = clickedAt + Duration.FromSeconds(5);
                    }
                }
            }
        }

        if (clicksToSalesPage && salesPageAt == optedInAt)
        {
            // The clicked email bounced; the lead came back through a retargeting ad instead.
            salesPageAt = optedInAt + Duration.FromDays(7);
        }
    }

    /// <summary>The ad budget split by channel weight, then evenly over the days of the launch.</summary>
    private static void AddAdSpend(List<FunnelEvent> events, ScenarioOptions options)
    {
        ImmutableArray<Money> perChannel = options.AdSpend.Allocate([.. Channels.Select(c => c.Weight)]);
        for (int c = 0; c < Channels.Length; c++)
        {
            var attribution = Attribution.FromUtm(Channels[c].Channel, Channels[c].Medium, GuideMagnet + "-launch");
            ImmutableArray<Money> perDay = perChannel[c].Allocate(options.Days);
            for (int day = 0; day < options.Days; day++)
            {
                events.Add(new AdSpendRecorded
                {
                    Id = new EventId(new Guid((uint)c + 1, (ushort)day, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
                    OccurredAt = options.Start + Duration.FromDays(day),
                    Attribution = attribution,
                    Amount = perDay[day],
                });
            }
        }
    }

    private static int[] Shuffled(Random random, int count)
    {
        int[] items = [.. Enumerable.Range(0, count)];
        random.Shuffle(items);
        return items;
    }

    private static int Pick(Random random, long[] weights, long total)
    {
        long roll = random.NextInt64(total);
        for (int i = 0; i < weights.Length; i++)
        {
            roll -= weights[i];
            if (roll < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static Duration Minutes(Random random, int min, int max) => Duration.FromSeconds(random.Next(min * 60, max * 60));

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static EventId NewEventId(Random random) => new(NewGuid(random));
}
