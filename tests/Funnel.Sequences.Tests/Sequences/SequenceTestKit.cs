using System.Collections.Concurrent;
using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Sequences;

/// <summary>An in-memory <see cref="IEmailSender"/> that records every accepted message with the clock's instant.</summary>
internal sealed class RecordingSender(IClock clock) : IEmailSender
{
    private readonly ConcurrentQueue<(EmailMessage Message, Instant At)> sent = new();
    private int calls;

    /// <summary>Decides the result of call number n (from 1); <see langword="null"/> sends.</summary>
    public Func<int, EmailMessage, EmailSendResult?>? Script { get; init; }

    /// <summary>Called before a message is accepted; throw to simulate a crash before the server accepted it.</summary>
    public Action<int>? BeforeAccept { get; init; }

    /// <summary>Called after a message is accepted; throw to simulate a crash after the server accepted it.</summary>
    public Action<int>? AfterAccept { get; init; }

    public IReadOnlyList<(EmailMessage Message, Instant At)> Sent => [.. sent];

    public int Calls => Volatile.Read(ref calls);

    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        int n = Interlocked.Increment(ref calls);
        BeforeAccept?.Invoke(n);
        if (Script?.Invoke(n, message) is { } scripted)
        {
            return Task.FromResult(scripted);
        }

        sent.Enqueue((message, clock.GetCurrentInstant()));
        AfterAccept?.Invoke(n);
        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + ">"));
    }
}

/// <summary>Builds engines, leads and stores for the sequence tests.</summary>
internal sealed class SequenceWorld
{
    public static readonly Instant Start = Instant.FromUtc(2026, 3, 24, 0, 0);

    public FakeClock Clock { get; } = new(Start);

    public InMemoryLeadStore Leads { get; } = new();

    public InMemoryEnrolmentStore Enrolments { get; } = new();

    public InMemorySendOutbox Outbox { get; } = new();

    /// <summary>Gets the event log every engine of this world records into.</summary>
    public InMemoryFunnelEventLog EventLog { get; } = new();

    public SequenceEngine Engine(IEmailSender sender, ImmutableArray<SequenceDefinition> definitions, SequenceOptions? options = null, string? id = null, ISendOutbox? outbox = null, IEnrolmentStore? enrolments = null, ILeadStore? leads = null) => new(new SequenceEngineSettings
    {
        Definitions = definitions,
        Enrolments = enrolments ?? Enrolments,
        Outbox = outbox ?? Outbox,
        Leads = leads ?? Leads,
        Sender = sender,
        EventLog = EventLog,
        Clock = Clock,
        Options = options ?? new SequenceOptions(),
        DispatcherId = id ?? Guid.NewGuid().ToString("N"),
    });

    public async Task<LeadProfile> AddLeadAsync(int n, string? zone = "Europe/Berlin", ConsentStatus consent = ConsentStatus.Granted, string? firstName = null, Func<LeadProfile, LeadProfile>? change = null)
    {
        LeadId id = new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        EmailAddress email = EmailAddress.Parse($"lead{n}@example.com");
        LeadProfile profile = new()
        {
            Id = id,
            Email = email,
            CreatedAt = Start,
            TimeZoneId = zone,
            Consent = consent == ConsentStatus.None ? null : new ConsentRecord { Purpose = "marketing", Status = consent, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
            CustomFields = firstName is null ? ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal) : ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", firstName),
        };
        profile = change?.Invoke(profile) ?? profile;
        if (!await Leads.TryAddAsync(profile))
        {
            LeadProfile stored = (await Leads.FindByEmailAsync(email))!;
            await Leads.TryUpdateAsync(stored, profile with { Version = stored.Version });
        }

        return (await Leads.FindByEmailAsync(email))!;
    }

    public static OptedIn OptIn(LeadId lead, Instant at, string magnet = GuideSequences.Magnet) => new() { LeadId = lead, OccurredAt = at, Magnet = magnet };

    public static OrderPlaced Order(LeadId lead, Instant at, string offer = GuideSequences.Offer) =>
        new() { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = offer, Total = Money.FromMajor(497, Currency.FromCode("USD")) };

    /// <summary>Advances the clock in steps, dispatching at each, and returns all events.</summary>
    public async Task<List<FunnelEvent>> RunUntilAsync(SequenceEngine engine, Instant end, Duration tick)
    {
        List<FunnelEvent> events = [];
        while (Clock.GetCurrentInstant() < end)
        {
            Clock.Advance(tick);
            DispatchResult result;
            do
            {
                result = await engine.DispatchDueAsync();
                events.AddRange(result.Events);
            }
            while (result.Claimed > 0);
        }

        return events;
    }
}
