using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Broadcasts;

/// <summary>An app with sequences, broadcasts and a tracked <c>newsletter</c> segment, on the in-memory stores and a fake clock.</summary>
internal sealed class BroadcastWorld : IDisposable
{
    public static readonly Instant Start = Instant.FromUtc(2026, 12, 7, 12, 0);

    private readonly ServiceProvider provider;

    public BroadcastWorld(Action<IServiceCollection>? configure = null)
    {
        Clock = new FakeClock(Start);
        Sender = new RecordingSender(Clock);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(Clock);
        services.AddSingleton<Email.IEmailSender>(Sender);
        services.AddSingleton<InMemoryFunnelEventLog>();
        services.AddSingleton<IFunnelEventLog>(sp => sp.GetRequiredService<InMemoryFunnelEventLog>());
        services.AddSingleton(new SegmentDefinition("newsletter", new TagRule("newsletter")));
        services.AddSingleton(new Email.EmailTopic { Key = "webinars", Title = "Webinar invitations" });
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddFunnelSequenceDispatcher();
        configure?.Invoke(services);
        provider = services.BuildServiceProvider();
    }

    public FakeClock Clock { get; }

    public RecordingSender Sender { get; }

    public BroadcastService Broadcasts => provider.GetRequiredService<BroadcastService>();

    public SequenceEngine Engine => provider.GetRequiredService<SequenceEngine>();

    public ISendOutbox Outbox => provider.GetRequiredService<ISendOutbox>();

    public ILeadStore Leads => provider.GetRequiredService<ILeadStore>();

    public ISegmentMembershipStore Members => provider.GetRequiredService<ISegmentMembershipStore>();

    public IServiceProvider Services => provider;

    public ImmutableArray<FunnelEvent> Events => [.. provider.GetRequiredService<InMemoryFunnelEventLog>().Snapshot()];

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7));

    /// <summary>Adds a lead with marketing consent and makes it a member of the newsletter segment.</summary>
    public async Task<LeadProfile> AddMemberAsync(int n, string? zone = "Europe/Berlin", Func<LeadProfile, LeadProfile>? change = null, bool member = true)
    {
        LeadProfile profile = new()
        {
            Id = Lead(n),
            Email = EmailAddress.Parse($"reader{n}@example.com"),
            CreatedAt = Start,
            TimeZoneId = zone,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
        };
        profile = change?.Invoke(profile) ?? profile;
        (await Leads.TryAddAsync(profile)).ShouldBeTrue();
        (await Members.TryAddAsync(new SegmentMember { Segment = "newsletter", Lead = profile.Id, IsMember = member, ChangedAt = Start })).ShouldBeTrue();
        return profile;
    }

    /// <summary>Adds leads 1 to <paramref name="count"/> as members, in the business zone.</summary>
    public async Task AddMembersAsync(int count)
    {
        for (int n = 1; n <= count; n++)
        {
            await AddMemberAsync(n);
        }
    }

    public async Task LeaveSegmentAsync(LeadId lead)
    {
        SegmentMember current = (await Members.FindAsync("newsletter", lead)).ShouldNotBeNull();
        (await Members.TryUpdateAsync(current, current with { IsMember = false, ChangedAt = Clock.GetCurrentInstant() })).ShouldBeTrue();
    }

    public static BroadcastDefinition Promo(string key = "webinar-promo") => new()
    {
        Key = key,
        Segment = "newsletter",
        Subject = "Live webinar on Thursday",
        TextBody = "Save your seat, {{ email }}: https://example.com/webinar",
        SendAt = Start + Duration.FromHours(1),
    };

    /// <summary>Dispatches until a dispatch claims nothing; returns the dispatch events.</summary>
    public async Task<List<FunnelEvent>> DispatchAllAsync()
    {
        List<FunnelEvent> events = [];
        DispatchResult result;
        do
        {
            result = await Engine.DispatchDueAsync();
            events.AddRange(result.Events);
        }
        while (result.Claimed > 0);
        return events;
    }

    public async Task<ImmutableArray<OutboxEntry>> PendingAsync() => await Outbox.ListAsync(SendState.Pending, 1_000_000);

    public void Dispose() => provider.Dispose();
}
