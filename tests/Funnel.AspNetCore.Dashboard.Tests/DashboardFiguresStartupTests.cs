using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>Each instance reads the log into the dashboard's figures when the host starts (<see cref="FunnelDashboardOptions.ReadFiguresAtStart"/>).</summary>
public class DashboardFiguresStartupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_EventsInTheLog_ReadsThemBeforeAnyPageAndThePageHasThem()
    {
        CountingLog log = await FilledLogAsync();
        await using DashboardHost host = await StartAsync(log, readAtStart: true);

        // No page has been asked for: the reading started with the host and reads the log to its end.
        await WaitUntilAsync(() => log.ReadToEnd);
        using HttpClient client = host.Client();
        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        page.ShouldContain("Entered the funnel<b>3</b>");
        page.ShouldContain("Guide downloads: 1");
        page.ShouldContain("Computed from the whole event log, up to position 4.");
    }

    [Fact]
    public async Task Start_ReadFiguresAtStartOff_ReadsNothingUntilAPageAsks()
    {
        CountingLog log = await FilledLogAsync();
        await using DashboardHost host = await StartAsync(log, readAtStart: false);

        await Task.Delay(300); // the reading, if started, would have called ReadAsync by now.
        int readsBeforePage = log.Reads;
        using HttpClient client = host.Client();
        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        readsBeforePage.ShouldBe(0);
        log.Reads.ShouldBeGreaterThan(0);
        page.ShouldContain("Entered the funnel<b>3</b>");
    }

    [Fact]
    public async Task Start_LogFailsAtStart_HostStartsAndTheNextPageReadsAgain()
    {
        CountingLog log = await FilledLogAsync();
        log.FailNextRead = true;
        await using DashboardHost host = await StartAsync(log, readAtStart: true);

        await WaitUntilAsync(() => log.Reads > 0 && !log.FailNextRead);
        using HttpClient client = host.Client();
        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        page.ShouldContain("Entered the funnel<b>3</b>");
        page.ShouldContain("Computed from the whole event log, up to position 4.");
    }

    private static Task<DashboardHost> StartAsync(CountingLog log, bool readAtStart) =>
        DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.Funnel = DashboardHost.Funnel;
            o.FiguresWait = Patience;
            o.ReadFiguresAtStart = readAtStart;
        }, registerPolicy: true, services => services.AddSingleton<IFunnelEventLog>(log));

    /// <summary>A log that already holds three blog visitors, one of whom downloaded the guide, before the host starts.</summary>
    private static async Task<CountingLog> FilledLogAsync()
    {
        var log = new CountingLog();
        Instant at = DashboardHost.Start - Duration.FromHours(2);
        LeadId[] leads = [.. Enumerable.Range(1, 3).Select(i => new LeadId(new Guid(700 + i, 0, 0, new byte[8])))];
        await log.AppendAsync(
        [
            .. leads.Select((lead, i) => (FunnelEvent)new PageViewed { LeadId = lead, OccurredAt = at + Duration.FromMinutes(i), Page = "/blog/start" }),
            new OptedIn { LeadId = leads[0], OccurredAt = at + Duration.FromMinutes(10), Magnet = "guide" },
        ]);
        return log;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            waited.Elapsed.ShouldBeLessThan(Patience, "the figures were not read at start");
            await Task.Delay(20);
        }
    }

    /// <summary>An in-memory log that counts its reads, says when one reached the end, and can fail one read.</summary>
    private sealed class CountingLog : IFunnelEventLog
    {
        private readonly InMemoryFunnelEventLog _inner = new();
        private int _reads;
        private volatile bool _readToEnd;
        private volatile bool _failNextRead;

        public int Reads => Volatile.Read(ref _reads);

        public bool ReadToEnd => _readToEnd;

        public bool FailNextRead
        {
            get => _failNextRead;
            set => _failNextRead = value;
        }

        public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) =>
            _inner.AppendAsync(events, cancellationToken);

        public async Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            if (_failNextRead)
            {
                _failNextRead = false;
                throw new InvalidOperationException("The database is not there yet.");
            }

            IReadOnlyList<LoggedEvent> read = await _inner.ReadAsync(after, max, cancellationToken);
            _readToEnd |= read.Count < max;
            return read;
        }

        public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
            _inner.ReadLeadAsync(lead, max, cancellationToken);

        public Task<int> CountAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken = default) =>
            ((IFunnelEventLog)_inner).CountAsync(after, max, partition, cancellationToken);
    }
}
