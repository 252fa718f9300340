using System.Collections.Concurrent;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Segments;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Tests.Commerce;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>A broadcast run by three app instances on one database, each with its own service provider and pool: every member is queued once and mailed once.</summary>
public sealed class PgBroadcastInstancesTests : IAsyncLifetime
{
    private const int Members = 2_500;
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 7, 9, 0);

    private readonly CommerceInstances _database = new(1);
    private readonly FakeClock _clock = new(Now);
    private readonly ConcurrentBag<EmailMessage> _sent = [];

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task QueueAndDispatch_ThreeInstancesAtOnce_QueueEachMemberOnceAndMailEachOnce()
    {
        ServiceProvider[] instances = [Instance(), Instance(), Instance()];
        try
        {
            ILeadStore leads = instances[0].GetRequiredService<ILeadStore>();
            ISegmentMembershipStore members = instances[0].GetRequiredService<ISegmentMembershipStore>();
            ConsentRecord consent = new() { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Now };
            await Parallel.ForAsync(0, Members, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            {
                LeadId id = new(new Guid(i + 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0));
                (await leads.TryAddAsync(new LeadProfile { Id = id, Email = EmailAddress.Parse($"reader{i}@example.com"), CreatedAt = Now, Consent = consent }, ct)).ShouldBeTrue();
                (await members.TryAddAsync(new SegmentMember { Segment = "newsletter", Lead = id, IsMember = true, ChangedAt = Now }, ct)).ShouldBeTrue();
            });
            await instances[1].GetRequiredService<BroadcastService>().ScheduleAsync(new BroadcastDefinition
            {
                Key = "webinar-promo",
                Segment = "newsletter",
                Subject = "Live on Thursday",
                TextBody = "Save your seat, {{ email }}.",
                SendAt = Now + Duration.FromMinutes(1),
            });
            _clock.Advance(Duration.FromMinutes(1));

            int[] queued = await Task.WhenAll(instances.Select(i => Task.Run(() => i.GetRequiredService<BroadcastService>().QueueDueAsync())));
            int[] mailed = await Task.WhenAll(instances.Select(i => Task.Run(() => DispatchAllAsync(i.GetRequiredService<SequenceEngine>()))));

            queued.Sum().ShouldBe(Members);
            mailed.Sum().ShouldBe(Members);
            _sent.Count.ShouldBe(Members);
            _sent.Select(m => m.To).Distinct().Count().ShouldBe(Members);
            Broadcast done = (await instances[2].GetRequiredService<IBroadcastStore>().FindAsync("webinar-promo")).ShouldNotBeNull();
            (done.Status, done.Queued).ShouldBe((BroadcastStatus.Queued, Members));
            (await _database.First.ScalarAsync("SELECT count(*) FROM funnel.outbox WHERE state = 2")).ShouldBe((long)Members);
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    private static async Task<int> DispatchAllAsync(SequenceEngine engine)
    {
        int sent = 0;
        DispatchResult result;
        do
        {
            result = await engine.DispatchDueAsync();
            sent += result.Sent;
        }
        while (result.Claimed > 0);
        return sent;
    }

    private ServiceProvider Instance()
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(_clock);
        services.AddSingleton<IEmailSender>(new CollectingEmailSender(_sent));
        services.AddSingleton(new SegmentDefinition("newsletter", new TagRule("newsletter")));
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequences();
        services.Configure<SequenceOptions>(o => o.BatchSize = 100);
        services.AddFunnelPostgreSql(_database.ConnectionString);
        return services.BuildServiceProvider();
    }
}
