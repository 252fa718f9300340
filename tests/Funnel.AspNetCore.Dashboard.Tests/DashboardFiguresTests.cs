using System.Collections.Immutable;
using Funnel.Analytics;
using Funnel.AspNetCore.Dashboard.Figures;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>The dashboard's kept figures equal the library's reports over the same events, whatever order they arrive in.</summary>
public class DashboardFiguresTests
{
    private const string Berlin = "Europe/Berlin";
    private static readonly DateTimeZone Zone = DateTimeZoneProviders.Tzdb[Berlin];
    private static readonly Instant Origin = Instant.FromUtc(2026, 10, 20, 0, 0);

    [Fact]
    public void Overview_MoreEventsThanTheOldBound_EqualsTheReportOverThePeopleFirstSeenInTheRange()
    {
        List<FunnelEvent> events = Traffic(seed: 20, people: 15_000);
        events.Count.ShouldBeGreaterThan(100_000); // the old MaxReportEvents
        FigureState state = Feed(events);
        FunnelReporter reporter = Reporter();

        foreach ((LocalDate from, LocalDate to) in new[]
        {
            (new LocalDate(2026, 10, 20), new LocalDate(2026, 11, 30)),
            (new LocalDate(2026, 10, 25), new LocalDate(2026, 10, 25)), // Berlin's 25-hour day
            (new LocalDate(2026, 10, 24), new LocalDate(2026, 10, 27)),
            (new LocalDate(2026, 11, 3), new LocalDate(2026, 11, 9)),
        })
        {
            OverviewFigures figures = state.Overview(from, to);
            FunnelReport expected = reporter.CreateReport(DashboardHost.Funnel, Cohort(events, from, to));
            FunnelReport actual = figures.Report.ShouldNotBeNull();
            string range = $"{from} to {to}";

            Summary(actual.Overall).ShouldBe(Summary(expected.Overall), range);
            actual.ByChannel.Select(Summary).ShouldBe(expected.ByChannel.Select(Summary), range);
            actual.ByCampaign.Select(Summary).ShouldBe(expected.ByCampaign.Select(Summary), range);
            actual.Email.ShouldBe(expected.Email with { UniqueLinkClicks = 0 }, range);
            actual.CustomerLifetimeValue.ShouldBe(expected.CustomerLifetimeValue, range);
            Instant start = from.AtStartOfDayInZone(Zone).ToInstant(), end = to.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
            FunnelEvent[] happened = [.. events.Where(e => e.OccurredAt >= start && e.OccurredAt < end)];
            figures.Events.ShouldBe(happened.Length, range);
            figures.Types.ShouldBe([.. happened.GroupBy(e => e.EventType).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, (long)g.Count()))], range);
        }
    }

    [Fact]
    public void Series_OutOfOrderArrival_EqualsKpiTimeSeriesInTheBusinessZone()
    {
        List<FunnelEvent> events = Traffic(seed: 7, people: 3_000);
        FigureState state = Feed(events);
        ImmutableArray<KpiPoint> expected = KpiTimeSeries.Compute(AnalyticsEventStore.Load(events), KpiPeriod.Day, Zone);

        OverviewFigures figures = state.Overview(new LocalDate(2026, 10, 18), new LocalDate(2026, 12, 5));

        foreach ((LocalDate day, long visitors, long leads, long orders, long revenue) in figures.Series)
        {
            KpiPoint? point = expected.SingleOrDefault(p => p.PeriodStart == day);
            (visitors, leads, orders, revenue).ShouldBe(
                (point?.NewVisitors ?? 0, point?.NewLeads ?? 0, point?.Orders ?? 0, point?.Revenue.MinorUnits ?? 0), day.ToString());
        }

        figures.Series.Sum(s => s.Visitors).ShouldBe(expected.Sum(p => p.NewVisitors));
        figures.Series.Sum(s => s.Leads).ShouldBe(expected.Sum(p => p.NewLeads));
    }

    [Fact]
    public void PaymentsAndEmailKeys_AfterEveryEvent_EqualTheReportSectionAndBroadcastMetrics()
    {
        List<FunnelEvent> events = Traffic(seed: 3, people: 2_000);
        FigureState state = Feed(events);

        IFunnelReportSectionBuilder builder = PaymentMetrics.ReportSection.CreateBuilder(new FunnelReportSettings());
        foreach (FunnelEvent e in events)
        {
            builder.Add(e);
        }

        var expected = (PaymentMetrics)builder.Build();
        state.Payments().ShouldBe(expected);
        state.PaymentsError.ShouldBeNull();
        foreach (string key in new[] { "welcome", "nurture-2", "never-sent" })
        {
            state.EmailKey(key).ShouldBe(BroadcastMetrics.Compute(events, key), key);
        }
    }

    [Fact]
    public async Task Overview_EventsAppendedAfterAPage_TheNextPageCountsThem()
    {
        await using DashboardHost host = await DashboardHost.StartAsync(o => o.FiguresWait = TimeSpan.FromSeconds(30));
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1);
        using HttpClient client = host.Client();
        string before = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        await Seeds.FunnelEventsAsync(host, visitors: 7, optIns: 3); // four of them are the same leads again
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            new OrderPlaced
            {
                LeadId = new LeadId(new Guid(101, 0, 0, new byte[8])), OccurredAt = DashboardHost.Start + Duration.FromHours(1),
                Order = OrderId.New(), Offer = "guide-pro", Total = new Money(4_900, Currency.USD),
            },
        ]);
        string after = await DashboardHost.GetPageAsync(client, "/funnel-admin/");
        string payments = await DashboardHost.GetPageAsync(client, "/funnel-admin/payments");

        before.ShouldContain("Entered the funnel<b>4</b>");
        before.ShouldContain("Computed from the whole event log, up to position 5.");
        after.ShouldContain("Entered the funnel<b>7</b>");
        after.ShouldContain("Guide downloads: 3");
        after.ShouldContain("Revenue<b>$49.00</b>");
        after.ShouldContain("Computed from the whole event log, up to position 16.");
        payments.ShouldContain("Computed from the whole event log, up to position 16.");
    }

    [Fact]
    public async Task Overview_FiguresBehindTheLog_SaysHowFarTheyAreAndCatchesUpLater()
    {
        var gate = new SemaphoreSlim(0);
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.Funnel = DashboardHost.Funnel;
            o.FiguresWait = TimeSpan.FromMilliseconds(50);
        }, registerPolicy: true, services => services.AddSingleton<IFunnelEventLog>(sp => new GatedLog(gate)));
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1);
        using HttpClient client = host.Client();

        string behind = await DashboardHost.GetPageAsync(client, "/funnel-admin/");
        gate.Release(100);
        string caughtUp = "";
        for (int i = 0; i < 200 && !caughtUp.Contains("Computed from the whole event log", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
            caughtUp = await DashboardHost.GetPageAsync(client, "/funnel-admin/");
        }

        behind.ShouldContain("Catching up with the event log: the figures include the events up to position 0, and 5 more are still to be read.");
        behind.ShouldContain("Entered the funnel<b>0</b>");
        caughtUp.ShouldContain("Computed from the whole event log, up to position 5.");
        caughtUp.ShouldContain("Entered the funnel<b>4</b>");
    }

    [Fact]
    public async Task Overview_RangeInBerlin_CountsPeopleOnTheirFirstDayThereNotInUtc()
    {
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.Funnel = DashboardHost.Funnel;
            o.FiguresWait = TimeSpan.FromSeconds(30);
        }, registerPolicy: true, services => services.Configure<FunnelOptions>(o => o.TimeZoneId = Berlin));
        LeadId early = new(new Guid(401, 0, 0, new byte[8])), late = new(new Guid(402, 0, 0, new byte[8]));
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            // 23:30Z on 2026-10-24 is 01:30 CEST on the 25th in Berlin; 23:30Z on the 25th is 00:30 CET on the 26th.
            new PageViewed { LeadId = early, OccurredAt = Instant.FromUtc(2026, 10, 24, 23, 30), Page = "/blog/a" },
            new PageViewed { LeadId = late, OccurredAt = Instant.FromUtc(2026, 10, 25, 23, 30), Page = "/blog/b" },
            new OptedIn { LeadId = late, OccurredAt = Instant.FromUtc(2026, 10, 25, 23, 40), Magnet = "guide" },
        ]);
        using HttpClient client = host.Client();

        string the25th = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-10-25&to=2026-10-25");
        string the26th = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-10-26&to=2026-10-26");
        string the24th = await DashboardHost.GetPageAsync(client, "/funnel-admin/?from=2026-10-24&to=2026-10-24");

        the25th.ShouldContain("Entered the funnel<b>1</b>");
        the25th.ShouldContain("Guide downloads: 0");
        the26th.ShouldContain("Entered the funnel<b>1</b>");
        the26th.ShouldContain("Guide downloads: 1");
        the24th.ShouldContain("Entered the funnel<b>0</b>");
    }

    private static FunnelReporter Reporter() => new(new FunnelReportSettings());

    private static FigureState Feed(List<FunnelEvent> events)
    {
        var state = new FigureState(DashboardHost.Funnel, new FunnelReportSettings(), Zone);
        for (int i = 0; i < events.Count; i++)
        {
            state.Apply(new LoggedEvent(i + 1, events[i]));
        }

        state.ReportError.ShouldBeNull();
        state.SeriesError.ShouldBeNull();
        return state;
    }

    private static (string Reached, long Orders, long Customers, Money Revenue, Money Refunds, Money AdSpend, string? Name) Summary(FunnelMetrics m) =>
        (string.Join(", ", m.Steps.Select(s => s.Reached)), m.Orders, m.Customers, m.Revenue, m.Refunds, m.AdSpend, m.Segment);

    /// <summary>The events of the people first seen in the range (each with all its events), and the ad spend of the range.</summary>
    private static List<FunnelEvent> Cohort(List<FunnelEvent> events, LocalDate from, LocalDate to)
    {
        LeadAliases aliases = LeadAliases.From(events.OfType<IdentityLinked>());
        var first = new Dictionary<LeadId, Instant>();
        foreach (LeadEvent e in events.OfType<LeadEvent>())
        {
            LeadId person = aliases.Resolve(e.LeadId);
            first[person] = first.TryGetValue(person, out Instant f) && f < e.OccurredAt ? f : e.OccurredAt;
        }

        bool InRange(Instant at) => at.InZone(Zone).Date >= from && at.InZone(Zone).Date <= to;
        return [.. events.Where(e => e switch
        {
            LeadEvent lead => InRange(first[aliases.Resolve(lead.LeadId)]),
            AdSpendRecorded spend => InRange(spend.OccurredAt),
            _ => false,
        })];
    }

    /// <summary>
    /// Visitors and leads over six weeks around Berlin's change from summer time, in shuffled log order: page views,
    /// opt-ins, emails with opens, clicks, bounces and unsubscribes, orders (some replayed), refunds, payments, disputes,
    /// ad spend, and visitor ids linked to leads, some before and some after the visitor's own events.
    /// </summary>
    private static List<FunnelEvent> Traffic(int seed, int people)
    {
        var random = new Random(seed);
        var events = new List<FunnelEvent>();
        string[] channels = ["ads", "social", "email"];
        string[] campaigns = ["autumn", "launch"];
        for (int p = 0; p < people; p++)
        {
            var lead = new LeadId(new Guid(p + 1, 17, 0, new byte[8]));
            Instant at = Origin + Duration.FromMinutes(random.Next(0, 60 * 24 * 40));
            Attribution source = random.Next(4) == 0
                ? Attribution.None
                : new Attribution { Channel = channels[random.Next(3)], Campaign = random.Next(3) == 0 ? null : campaigns[random.Next(2)] };
            int views = random.Next(1, 8);
            for (int v = 0; v < views; v++)
            {
                events.Add(new PageViewed
                {
                    LeadId = lead, OccurredAt = at + Duration.FromMinutes(random.Next(0, 3000)),
                    Page = random.Next(3) == 0 ? "/pricing" : "/blog/post", Attribution = v == 0 ? source : Attribution.None,
                });
            }

            if (random.Next(3) == 0)
            {
                var visitor = new LeadId(new Guid(p + 1, 18, 0, new byte[8]));
                events.Add(new PageViewed
                {
                    LeadId = visitor, OccurredAt = at - Duration.FromMinutes(random.Next(0, 4000)), Page = "/blog/first",
                    Attribution = new Attribution { Channel = "search" },
                });
                events.Add(new IdentityLinked { LeadId = lead, VisitorId = visitor, OccurredAt = at + Duration.FromMinutes(random.Next(0, 600)) });
            }

            if (random.Next(2) == 0)
            {
                continue;
            }

            Instant optIn = at + Duration.FromMinutes(random.Next(1, 5000));
            events.Add(new OptedIn { LeadId = lead, OccurredAt = optIn, Magnet = random.Next(5) == 0 ? "checklist" : "guide" });
            foreach (string key in new[] { "welcome", "nurture-2" })
            {
                Instant sent = optIn + Duration.FromHours(random.Next(1, 48));
                events.Add(new EmailSent { LeadId = lead, OccurredAt = sent, Email = key });
                int fate = random.Next(10);
                events.Add(fate switch
                {
                    0 => new EmailBounced { LeadId = lead, OccurredAt = sent + Duration.FromMinutes(1), Email = key },
                    1 or 2 => new EmailClicked { LeadId = lead, OccurredAt = sent + Duration.FromHours(2), Email = key, Url = "https://x.test/a" },
                    3 => new EmailUnsubscribed { LeadId = lead, OccurredAt = sent + Duration.FromHours(3), Email = key },
                    _ => new EmailOpened { LeadId = lead, OccurredAt = sent + Duration.FromHours(1), Email = key },
                });
            }

            for (int o = random.Next(0, 3); o > 0 && random.Next(3) == 0; o--)
            {
                var order = OrderId.New();
                Instant placed = optIn + Duration.FromHours(random.Next(1, 400));
                var total = new Money(random.Next(1, 500) * 100, Currency.USD);
                var placedEvent = new OrderPlaced { LeadId = lead, OccurredAt = placed, Order = order, Offer = "course", Total = total, Attribution = source };
                events.Add(placedEvent);
                events.Add(new PaymentSucceeded { LeadId = lead, OccurredAt = placed, Order = order, Amount = total });
                if (random.Next(8) == 0)
                {
                    events.Add(placedEvent with { Id = EventId.New() }); // a replay of the same order
                }

                if (random.Next(6) == 0)
                {
                    events.Add(new RefundIssued { LeadId = lead, OccurredAt = placed + Duration.FromDays(2), Order = order, Amount = new Money(total.MinorUnits / 2, Currency.USD) });
                }

                if (random.Next(10) == 0)
                {
                    events.Add(new PaymentDisputed
                    {
                        LeadId = lead, OccurredAt = placed + Duration.FromDays(5), Order = order, Amount = total, PaymentId = "pi_" + p,
                        Reason = "fraudulent",
                    });
                }
            }
        }

        for (int d = 0; d < 42; d++)
        {
            events.Add(new AdSpendRecorded
            {
                OccurredAt = Origin + Duration.FromDays(d) + Duration.FromHours(random.Next(0, 24)),
                Amount = new Money(random.Next(1, 100_000), Currency.USD),
                Attribution = new Attribution { Channel = channels[random.Next(3)], Campaign = campaigns[random.Next(2)] },
            });
        }

        // The log's order is not the order things happened in.
        for (int i = events.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (events[i], events[j]) = (events[j], events[i]);
        }

        return events;
    }

    /// <summary>An in-memory log whose reads wait for the test to let them through, so the figures stay behind.</summary>
    private sealed class GatedLog(SemaphoreSlim gate) : IFunnelEventLog
    {
        private readonly InMemoryFunnelEventLog _inner = new();

        public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) =>
            _inner.AppendAsync(events, cancellationToken);

        public async Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default)
        {
            await gate.WaitAsync(cancellationToken);
            return await _inner.ReadAsync(after, max, cancellationToken);
        }

        public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
            _inner.ReadLeadAsync(lead, max, cancellationToken);

        public Task<int> CountAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default) =>
            ((IFunnelEventLog)_inner).CountAsync(after, max, partition, cancellationToken);
    }
}
