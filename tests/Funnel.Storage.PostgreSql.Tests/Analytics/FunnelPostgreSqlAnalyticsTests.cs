using System.Collections.Immutable;
using Funnel.Analytics;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Analytics;

/// <summary>
/// The analytics loader against the real cluster: a random event log is written with the event log's JSON, then each
/// question is answered over the store loaded from PostgreSQL and over a store loaded in memory from the same events
/// (filtered by the documented rule), and the answers must be equal.
/// </summary>
public sealed class FunnelPostgreSqlAnalyticsTests : IAsyncLifetime, IAsyncDisposable
{
    internal static readonly Instant Origin = Instant.FromUtc(2026, 3, 2, 0, 0);
    internal static readonly FunnelEventSerializer Serializer = new(
        FunnelEventTypes.FromAssemblies(typeof(PageViewed).Assembly, typeof(ExperimentExposed).Assembly));

    private readonly PgTestDatabases _databases = new();
    private PgDatabase _database = null!;
    private ImmutableArray<FunnelEvent> _log = [];

    public async Task InitializeAsync()
    {
        _database = await _databases.CreateAsync();
        _log = RandomLog(seed: 16, leads: 1_500);
        await using NpgsqlConnection connection = await _database.OpenAsync(CancellationToken.None);
        (await EventLogCopy.WriteAsync(connection, _database.Schema, _log, Serializer)).ShouldBe(_log.Length);
    }

    public ValueTask DisposeAsync() => new(_databases.DropAllAsync());

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public static TheoryData<string> Questions() => [.. QuestionsByName.Keys];

    [Theory]
    [MemberData(nameof(Questions))]
    public async Task LoadFunnelAsync_RandomLog_AnswersAsTheSameEventsLoadedInMemory(string name)
    {
        (FunnelQuery query, Interval entered, AnalyticsStoreOptions? options) = QuestionsByName[name];
        var analytics = new FunnelPostgreSqlAnalytics(_database, Serializer);

        AnalyticsEventStore loaded = await analytics.LoadFunnelAsync(query, entered, options);
        AnalyticsEventStore expected = AnalyticsEventStore.Load(_log.Where(e => Needed(query, entered, e)), options);

        expected.EventCount.ShouldBeGreaterThan(100, "the question must select a real share of the log");
        expected.EventCount.ShouldBeLessThan(_log.Length, "the question must leave some of the log out");
        FunnelAnalysis answer = FunnelAnalyzer.Analyze(expected, query);
        answer.Steps[^1].Reached.ShouldBeGreaterThan(0, "some chains must reach the last step");
        Answer(FunnelAnalyzer.Analyze(loaded, query)).ShouldBe(Answer(answer));
    }

    [Fact]
    public void LoadFunnelAsync_NoSubjectsNoBreakdown_ReadsOnlyTheIdentityLinksPayloads()
    {
        (FunnelQuery query, Interval entered, AnalyticsStoreOptions? options) = QuestionsByName["plain"];
        AnalyticsCopyPlan plain = AnalyticsCopyPlan.ForQuery(query, entered, options);
        plain.Types.Where((_, i) => plain.Ranges[i].Payload).ShouldBe([EventTypes.IdentityLinked]);
        plain.Ranges[plain.Types.IndexOf(EventTypes.IdentityLinked)].ShouldBe(new AnalyticsCopyType(null, null, Payload: true));
        (FunnelQuery subjects, Interval window, AnalyticsStoreOptions? none) = QuestionsByName["subjects and exclusion"];
        AnalyticsCopyPlan plan = AnalyticsCopyPlan.ForQuery(subjects, window, none);
        plan.Columns.ShouldBe(AnalyticsCopyColumns.RowsAndSomePayloads);
        plan.Ranges[plan.Types.IndexOf(EventTypes.OrderPlaced)].Payload.ShouldBeFalse();
        plan.Ranges[plan.Types.IndexOf(EventTypes.OptedIn)].Payload.ShouldBeTrue();
    }

    [Fact]
    public async Task LoadEventsAsync_EveryType_HoldsWhatAnInMemoryLoadHolds()
    {
        var analytics = new FunnelPostgreSqlAnalytics(_database, Serializer);
        Interval period = new(Origin + Duration.FromDays(5), Origin + Duration.FromDays(50));
        string[] types = [.. _log.Select(e => e.EventType).Distinct()];
        var options = new AnalyticsStoreOptions { PropertyKeys = ["device"] };

        AnalyticsEventStore loaded = await analytics.LoadEventsAsync(types, period, options);
        AnalyticsEventStore expected = AnalyticsEventStore.Load(_log.Where(e => period.Contains(e.OccurredAt)), options);

        loaded.EventCount.ShouldBe(expected.EventCount);
        loaded.LeadCount.ShouldBe(expected.LeadCount);
        loaded.TotalAdSpend.ShouldBe(expected.TotalAdSpend);
        loaded.TotalAdSpend.MinorUnits.ShouldBeGreaterThan(0);
        FunnelQuery query = QuestionsByName["property breakdown"].Query;
        Answer(FunnelAnalyzer.Analyze(loaded, query)).ShouldBe(Answer(FunnelAnalyzer.Analyze(expected, query)));
    }

    [Theory]
    [InlineData("it's")]
    [InlineData("back\\slash\\")]
    [InlineData("\\'; DROP TABLE funnel.events; --")]
    [InlineData("$$ü€$$")]
    public async Task Literal_AwkwardText_ReadsBackUnchanged(string text)
    {
        (await _database.ScalarAsync("SELECT " + AnalyticsCopyPlan.Literal(text))).ShouldBe(text);
        var analytics = new FunnelPostgreSqlAnalytics(_database, Serializer);
        FunnelQuery query = new() { Funnel = Definition(EventMatch.For(text), EventMatch.For(text + "2", text)) };

        AnalyticsEventStore store = await analytics.LoadFunnelAsync(query, new Interval(null, null));

        store.EventCount.ShouldBe(_log.Count(e => e is IdentityLinked), "no step matches, so only the identity links are loaded");
        (await _database.ScalarAsync("SELECT count(*) FROM funnel.events")).ShouldBe((long)_log.Length);
    }

    [Fact]
    public async Task LoadFunnelAsync_Cancelled_Throws()
    {
        var analytics = new FunnelPostgreSqlAnalytics(_database, Serializer);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Exception error = await Should.ThrowAsync<Exception>(() => analytics.LoadFunnelAsync(QuestionsByName["plain"].Query, new Interval(null, null), cancellationToken: cancelled.Token));

        error.ShouldBeAssignableTo<OperationCanceledException>();
    }

    [Fact]
    public async Task AddFunnelPostgreSql_RegistersOneLoaderOnTheDatabase()
    {
        ServiceCollection services = new();
        services.AddFunnelAnalytics();
        services.AddFunnelPostgreSql(_database.Options.ConnectionString);
        await using ServiceProvider provider = services.BuildServiceProvider();

        FunnelPostgreSqlAnalytics analytics = provider.GetRequiredService<FunnelPostgreSqlAnalytics>();
        provider.GetRequiredService<FunnelPostgreSqlAnalytics>().ShouldBeSameAs(analytics);
        (FunnelQuery query, Interval entered, _) = QuestionsByName["variant breakdown"];
        AnalyticsEventStore store = await analytics.LoadFunnelAsync(query, entered);
        store.EventCount.ShouldBe(_log.Count(e => Needed(query, entered, e)));
    }

    internal static readonly Dictionary<string, (FunnelQuery Query, Interval Entered, AnalyticsStoreOptions? Options)> QuestionsByName = new()
    {
        ["plain"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed), EventMatch.For(EventTypes.OptedIn), EventMatch.For(EventTypes.SalesPageVisited), EventMatch.For(EventTypes.OrderPlaced)),
                IncludeTimeToConvert = true,
                IncludeDropOffs = true,
            },
            new Interval(Origin + Duration.FromDays(10), Origin + Duration.FromDays(30)),
            null),
        ["subjects and exclusion"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed, "/ebook"), EventMatch.For(EventTypes.OptedIn, "quick-start-guide"), EventMatch.For(EventTypes.SalesPageVisited, "ebook-*"), EventMatch.For(EventTypes.OrderPlaced)),
                Exclusions = [EventMatch.For(EventTypes.OptedIn, "checklist")],
                Window = Duration.FromDays(6),
                IncludeDropOffs = true,
            },
            new Interval(Origin + Duration.FromDays(5), Origin + Duration.FromDays(50)),
            null),
        ["channel breakdown, strict"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed), EventMatch.For(EventTypes.OptedIn), EventMatch.For(EventTypes.OrderPlaced)),
                Breakdown = FunnelBreakdown.Channel,
                StrictOrder = true,
            },
            new Interval(null, Origin + Duration.FromDays(25)),
            null),
        ["property breakdown"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed), EventMatch.For(EventTypes.SalesPageVisited), EventMatch.For(EventTypes.OrderPlaced)),
                Breakdown = FunnelBreakdown.Property("device"),
                IncludeTimeToConvert = true,
            },
            new Interval(Origin + Duration.FromDays(15), null),
            new AnalyticsStoreOptions { PropertyKeys = ["device"] }),
        ["variant breakdown"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed), EventMatch.For(EventTypes.OptedIn), EventMatch.For(EventTypes.SalesPageVisited)),
                Breakdown = FunnelBreakdown.Variant("headline"),
            },
            new Interval(Origin + Duration.FromDays(30), Origin + Duration.FromDays(40)),
            null),
        ["money"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed), EventMatch.For(EventTypes.OptedIn, "quick-start-guide"), EventMatch.For(EventTypes.SalesPageVisited)),
                IncludeMoney = true,
            },
            new Interval(Origin + Duration.FromDays(10), Origin + Duration.FromDays(30)),
            null),
        ["money by channel, orders first"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.OrderPlaced), EventMatch.For(EventTypes.EmailOpened), EventMatch.For(EventTypes.OrderPlaced)),
                Breakdown = FunnelBreakdown.Channel,
                IncludeMoney = true,
            },
            new Interval(Origin + Duration.FromDays(5), Origin + Duration.FromDays(40)),
            null),
        ["first-touch weeks, one type in two steps"] = (
            new FunnelQuery
            {
                Funnel = Definition(EventMatch.For(EventTypes.PageViewed, "/"), EventMatch.For(EventTypes.PageViewed, "/ebook"), EventMatch.For(EventTypes.OptedIn)),
                Breakdown = FunnelBreakdown.FirstTouchWeek(DateTimeZoneProviders.Tzdb["Europe/Berlin"]),
            },
            new Interval(Origin + Duration.FromDays(7), Origin + Duration.FromDays(21)),
            null),
    };

    /// <summary>The documented rule, written out on its own: which events a funnel load selects.</summary>
    internal static bool Needed(FunnelQuery query, Interval entered, FunnelEvent e)
    {
        if (e is IdentityLinked)
        {
            return true;
        }

        bool FromStart() => !entered.HasStart || e.OccurredAt >= entered.Start;
        bool Followed() => !entered.HasEnd || e.OccurredAt < entered.End + query.Window;
        if (query.IncludeMoney && e is AdSpendRecorded)
        {
            return FromStart() && (!entered.HasEnd || e.OccurredAt < entered.End);
        }

        if (e is not LeadEvent)
        {
            return false;
        }

        // Orders and refunds count from the chain's start on, followed no further than the later steps when the
        // first step is of their type.
        if (query.IncludeMoney && e is OrderPlaced or RefundIssued && FromStart()
            && (e.EventType != query.Funnel.Steps[0].Trigger.EventType || Followed()))
        {
            return true;
        }

        if (e.EventType == query.Funnel.Steps[0].Trigger.EventType && FromStart() && (!entered.HasEnd || e.OccurredAt < entered.End))
        {
            return true;
        }

        IEnumerable<EventMatch> later = query.Funnel.Steps.Skip(1).Select(s => s.Trigger).Concat(query.Exclusions);
        if (later.Any(m => m.EventType == e.EventType) && FromStart() && Followed())
        {
            return true;
        }

        return query.Breakdown?.Kind == FunnelBreakdownKind.Variant && e is ExperimentExposed && Followed();
    }

    /// <summary>Everything an analysis reports, in a comparable form (drop-offs and breakdown rows in a fixed order).</summary>
    internal static string Answer(FunnelAnalysis analysis) => string.Join(
        "\n",
        [
            $"leads {analysis.Leads}, events {analysis.Events}",
            .. analysis.Steps.Select(s => $"{s.Step.Key}: {s.Reached} median {s.MedianTimeToConvert} p90 {s.P90TimeToConvert} money {s.Money} dropped [{string.Join(",", s.DroppedOff.Select(l => l.Value).Order())}]"),
            .. analysis.Breakdown.Select(r => $"{r.Value ?? "(none)"}: {string.Join(",", r.Reached)} money {string.Join(",", r.Money)}").Order(StringComparer.Ordinal),
        ]);

    internal static FunnelDefinition Definition(params EventMatch[] steps)
    {
        FunnelBuilder builder = FunnelBuilder.Create("ebook-masterclass", "The E-Book Masterclass").WithDefaultStages();
        for (int k = 0; k < steps.Length; k++)
        {
            builder = builder.AddStep("s" + k, "Step " + k, DefaultStages.Awareness.Key, StepKind.Custom, steps[k]);
        }

        return builder.Build();
    }

    /// <summary>Leads who visit pages, opt in, see sales pages, order and get exposed to an experiment, over 60 days, plus ad spend.</summary>
    internal static ImmutableArray<FunnelEvent> RandomLog(int seed, int leads)
    {
        var random = new Random(seed);
        var refunds = new Random(seed + 1);
        var links = new Random(seed + 2);
        string[] pages = ["/", "/ebook", "/blog/write-an-ebook"];
        string[] magnets = ["quick-start-guide", "checklist"];
        string[] offers = ["ebook-masterclass", "ebook-bundle", "coaching"];
        string?[] channels = ["facebook", "google", "email", null];
        string?[] devices = ["mobile", "desktop", null];
        var log = ImmutableArray.CreateBuilder<FunnelEvent>();
        for (int l = 0; l < leads; l++)
        {
            LeadId lead = LeadId.New();
            Instant at = Origin + Duration.FromSeconds(random.NextInt64(60L * 86_400));
            int events = random.Next(1, 12);
            int first = log.Count;
            for (int i = 0; i < events; i++)
            {
                at += Duration.FromSeconds(random.Next(random.Next(3) == 0 ? 5 * 86_400 : 36_000)) + Duration.FromTicks(random.Next(1_000_000) * 10L);
                string? device = devices[random.Next(devices.Length)];
                FunnelEvent e = random.Next(10) switch
                {
                    < 4 => new PageViewed { LeadId = lead, OccurredAt = at, Page = pages[random.Next(pages.Length)] },
                    < 6 => new OptedIn { LeadId = lead, OccurredAt = at, Magnet = magnets[random.Next(magnets.Length)] },
                    < 7 => new SalesPageVisited { LeadId = lead, OccurredAt = at, Offer = offers[random.Next(offers.Length)] },
                    < 8 => new OrderPlaced { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = offers[random.Next(offers.Length)], Total = Money.FromMinorUnits(random.Next(900, 9_900), Currency.USD) },
                    < 9 => new ExperimentExposed { LeadId = lead, OccurredAt = at, Experiment = random.Next(4) == 0 ? "price" : "headline", Variant = random.Next(2) == 0 ? "a" : "b" },
                    _ => new EmailOpened { LeadId = lead, OccurredAt = at, Email = "nurture-" + random.Next(5) },
                };
                log.Add(e with
                {
                    Attribution = new Attribution { Channel = channels[random.Next(channels.Length)], Campaign = random.Next(3) == 0 ? "launch" : null },
                    Properties = device is null ? ImmutableDictionary<string, string>.Empty : ImmutableDictionary<string, string>.Empty.Add("device", device),
                });
                if (e is OrderPlaced order && refunds.Next(4) == 0)
                {
                    log.Add(new RefundIssued { LeadId = lead, OccurredAt = at + Duration.FromDays(refunds.Next(1, 20)), Order = order.Order, Amount = order.Total });
                }
            }

            // One lead in six began on another device: its first events are a visitor's, linked to it later (at times
            // after the period's end, which still makes them the lead's).
            if (events >= 3 && links.Next(6) == 0)
            {
                var visitor = LeadId.New();
                for (int j = first; j < first + 2; j++)
                {
                    log[j] = ((LeadEvent)log[j]) with { LeadId = visitor };
                }

                log.Add(new IdentityLinked { LeadId = lead, VisitorId = visitor, OccurredAt = at + Duration.FromDays(links.Next(0, 10)) });
            }
        }

        for (int day = 0; day < 60; day++)
        {
            log.Add(new AdSpendRecorded { OccurredAt = Origin + Duration.FromDays(day), Amount = Money.FromMinorUnits(10_000 + day, Currency.USD), Attribution = new Attribution { Channel = "facebook" } });
        }

        // The log is written in time order, as it grows, which interleaves the leads.
        return [.. log.OrderBy(e => e.OccurredAt)];
    }
}
