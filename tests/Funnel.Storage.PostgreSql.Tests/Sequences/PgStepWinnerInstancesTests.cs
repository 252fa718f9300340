using System.Collections.Concurrent;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Tests.Commerce;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>A sequence email's automatic winner test run by three app instances on one database: tallied once per lead, decided once, and the winner sent by all.</summary>
public sealed class PgStepWinnerInstancesTests : IAsyncLifetime
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 7, 9, 0);

    private static readonly SequenceDefinition Launch = new()
    {
        Key = "course-launch",
        Steps =
        [
            new SequenceStep
            {
                Key = "launch-1",
                Subject = "The Masterclass is open",
                TextBody = "Doors are open, {{ email }}.",
                Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Subject = "Doors open" }],
                WinnerTest = new StepWinnerTest { Wait = Duration.FromHours(1), MinimumSamplePerVariant = 100 },
            },
        ],
    };

    private readonly CommerceInstances _database = new(1);
    private readonly FakeClock _clock = new(Now);
    private readonly ConcurrentBag<EmailMessage> _sent = [];

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task ThreeInstances_TallyEachLeadOnce_DecideOnce_AndAllSendTheWinner()
    {
        ServiceProvider[] instances = [Instance(), Instance(), Instance()];
        try
        {
            IFunnelEventLog log = instances[0].GetRequiredService<IFunnelEventLog>();
            await EnrolAndDispatchAsync(instances, 0, 400);
            // Every event reaches the handler of the instance that holds its lead's partition, some twice (a redelivery
            // after a lost lease): the short subject is opened by 60 % of its readers, the control by 15 %.
            List<FunnelEvent> opens = [];
            int n = 0;
            foreach (EmailSent sent in (await log.ReadAsync(0, 10_000)).Select(e => e.Event).OfType<EmailSent>())
            {
                if (sent.Variant == "short" ? n % 5 < 3 : n % 20 < 3)
                {
                    opens.Add(new EmailOpened { LeadId = sent.LeadId, OccurredAt = Now + Duration.FromMinutes(10), Email = sent.Email });
                }

                n++;
            }

            await log.AppendAsync(opens);
            await HandleAllAsync(instances, log, redeliver: true);
            _clock.Advance(Duration.FromHours(1));

            var decided = await Task.WhenAll(instances.Select(i => Task.Run(() => i.GetRequiredService<SequenceEngine>().DecideTestsAsync())));
            await EnrolAndDispatchAsync(instances, 400, 90);

            SequenceTestDecided decision = (await log.ReadAsync(0, 10_000)).Select(e => e.Event).OfType<SequenceTestDecided>().ShouldHaveSingleItem();
            (decision.Winner, decision.Significant).ShouldBe(("short", true));
            decision.Results.Sum(r => r.Sent).ShouldBe(400, "each lead counted once, whichever instance handled its events and however often");
            decision.Results.Sum(r => r.Converted).ShouldBe(opens.Count);
            decided.SelectMany(d => d).ShouldAllBe(e => e.Id == decision.Id);
            _sent.Count.ShouldBe(490);
            _sent.Where(m => Number(m) >= 400).ShouldAllBe(m => m.Subject == "Doors open");
            _sent.Where(m => Number(m) >= 400).Count().ShouldBe(90);
            (await _database.First.ScalarAsync("SELECT count(*) FROM funnel.sequence_test_sends")).ShouldBe(0L);
            (await _database.First.ScalarAsync("SELECT winner FROM funnel.sequence_test_decisions")).ShouldBe("short");
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    private static int Number(EmailMessage message) => int.Parse(message.To.Value["reader".Length..message.To.Value.IndexOf('@', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Adds leads first … first + count − 1, enrols each through one of the instances and dispatches from all three at once, then hands the log's events to the handlers.</summary>
    private async Task EnrolAndDispatchAsync(ServiceProvider[] instances, int first, int count)
    {
        ILeadStore leads = instances[0].GetRequiredService<ILeadStore>();
        ConsentRecord consent = new() { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now };
        await Parallel.ForAsync(first, first + count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            LeadId id = new(new Guid(i + 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            (await leads.TryAddAsync(new LeadProfile { Id = id, Email = EmailAddress.Parse($"reader{i}@example.com"), CreatedAt = Now, Consent = consent }, ct)).ShouldBeTrue();
            await instances[i % 3].GetRequiredService<SequenceEngine>().EnrolAsync(id, Launch.Key, _clock.GetCurrentInstant(), cancellationToken: ct);
        });
        await Task.WhenAll(instances.Select(i => Task.Run(async () =>
        {
            SequenceEngine engine = i.GetRequiredService<SequenceEngine>();
            while ((await engine.DispatchDueAsync()).Claimed > 0)
            {
            }
        })));
        await HandleAllAsync(instances, instances[0].GetRequiredService<IFunnelEventLog>(), redeliver: false);
    }

    /// <summary>Hands every logged event to the sequences handler of the instance its lead's partition belongs to (and, with <paramref name="redeliver"/>, every third event again to another).</summary>
    private static async Task HandleAllAsync(ServiceProvider[] instances, IFunnelEventLog log, bool redeliver)
    {
        IReadOnlyList<LoggedEvent> events = await log.ReadAsync(0, 100_000);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(k => Task.Run(async () =>
        {
            SequenceEngine engine = instances[k].GetRequiredService<SequenceEngine>();
            foreach (LoggedEvent logged in events)
            {
                if (logged.Event is LeadEvent e && Math.Abs(e.LeadId.Value.GetHashCode() % 3) == k
                    || redeliver && logged.Position % 3 == k)
                {
                    await engine.HandleAsync(logged.Event);
                }
            }
        })));
    }

    private ServiceProvider Instance()
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(_clock);
        services.AddSingleton<IEmailSender>(new CollectingEmailSender(_sent));
        services.AddSingleton(Launch);
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.AddFunnelAnalytics();
        services.Configure<SequenceOptions>(o => o.BatchSize = 50);
        services.AddFunnelPostgreSql(_database.ConnectionString);
        return services.BuildServiceProvider();
    }
}
