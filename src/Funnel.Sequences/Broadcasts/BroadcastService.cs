using System.Collections.Frozen;
using System.Collections.Immutable;
using FluentValidation;
using FluentValidation.Results;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Schedules and cancels broadcasts, and queues their sends in the outbox when they start.</summary>
/// <remarks>
/// <para>
/// <c>AddFunnelSequences()</c> registers it; <c>AddFunnelSequenceDispatcher()</c> adds the <c>broadcast-queue</c> job,
/// which calls <see cref="QueueDueAsync"/> every 15 seconds, and the dispatcher sends what it queued.
/// </para>
/// <para>
/// Queuing reads the broadcast's segment a page at a time in lead id order and adds one outbox entry per member, keyed
/// by broadcast and lead, so a page queued twice (after a crash) adds nothing twice. The broadcast is claimed by
/// compare-and-set with a lease of <see cref="SequenceOptions.Lease"/> and its cursor is written after every page:
/// one instance at a time queues it, and another resumes after a crash where it stopped.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; several instances of the app may queue at once.</threadsafety>
public sealed class BroadcastService
{
    /// <summary>The members read and queued per page.</summary>
    internal const int Page = 1_000;

    /// <summary>The broadcasts one <see cref="QueueDueAsync"/> looks at.</summary>
    private const int MaxDuePerRun = 16;

    /// <summary>The offset of the earliest time zone: a local-time broadcast starts when its local time comes there.</summary>
    private static readonly DateTimeZone Earliest = DateTimeZone.ForOffset(Offset.FromHours(14));

    private readonly IBroadcastStore _store;
    private readonly ISegmentMembershipStore _members;
    private readonly ILeadStore _leads;
    private readonly ISendOutbox _outbox;
    private readonly IClock _clock;
    private readonly IDateTimeZoneProvider _zones;
    private readonly DateTimeZone _defaultZone;
    private readonly Duration _lease;
    private readonly IValidator<BroadcastDefinition> _validator;
    private readonly FrozenSet<string> _segments;
    private readonly FrozenSet<string> _sequenceEmails;
    private readonly FrozenSet<string> _topics;
    private readonly string _owner = Guid.NewGuid().ToString("N");

    /// <summary>Initializes the service.</summary>
    internal BroadcastService(
        IBroadcastStore store,
        ISegmentMembershipStore members,
        ILeadStore leads,
        ISendOutbox outbox,
        IClock clock,
        IDateTimeZoneProvider zones,
        DateTimeZone defaultZone,
        SequenceOptions options,
        IValidator<BroadcastDefinition> validator,
        IEnumerable<SegmentDefinition> segments,
        IEnumerable<SequenceDefinition> sequences,
        IEnumerable<EmailTopic> topics)
    {
        _store = store;
        _members = members;
        _leads = leads;
        _outbox = outbox;
        _clock = clock;
        _zones = zones;
        _defaultZone = defaultZone;
        _lease = options.Lease;
        _validator = validator;
        _segments = segments.Select(static s => s.Key).ToFrozenSet(StringComparer.Ordinal);
        _sequenceEmails = sequences.SelectMany(static s => s.AllSteps()).Select(static s => s.Key).ToFrozenSet(StringComparer.Ordinal);
        _topics = topics.Select(static t => t.Key).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Validates a broadcast and stores it to go out at its instant.</summary>
    /// <param name="definition">What to send, to which segment, and when.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The broadcast as stored, <see cref="BroadcastStatus.Scheduled"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="definition"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The definition is invalid, its segment is not a tracked segment, or its key is the email key of a sequence step; the message names the property and the problem.</exception>
    /// <exception cref="InvalidOperationException">A broadcast with the key exists already.</exception>
    public async Task<Broadcast> ScheduleAsync(BroadcastDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ValidationResult result = await _validator.ValidateAsync(definition, cancellationToken).ConfigureAwait(false);
        List<string> errors = [.. result.Errors.Select(static e => e.PropertyName + ": " + e.ErrorMessage)];
        if (result.IsValid && !_segments.Contains(definition.Segment))
        {
            errors.Add($"Segment: '{definition.Segment}' is not a tracked segment; register it with services.AddSingleton(new SegmentDefinition(\"{definition.Segment}\", rule)).");
        }

        if (result.IsValid && _sequenceEmails.Contains(definition.Key))
        {
            errors.Add($"Key: '{definition.Key}' is the key of a sequence email, and the two would share their figures; choose another key.");
        }

        if (result.IsValid && definition.Topic is { } topic && !_topics.Contains(topic))
        {
            errors.Add($"Topic: '{topic}' is not a registered topic; register it with services.AddSingleton(new EmailTopic {{ Key = \"{topic}\", Title = \"…\" }}).");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"Broadcast '{definition.Key}' is invalid: {string.Join("; ", errors)}", nameof(definition));
        }

        Instant start = definition.SendAt ?? definition.LocalSendAt!.Value.InZoneLeniently(Earliest).ToInstant();
        Broadcast broadcast = new()
        {
            Definition = definition,
            Status = BroadcastStatus.Scheduled,
            CreatedAt = _clock.GetCurrentInstant(),
            DueAt = start,
        };
        if (!await _store.TryAddAsync(broadcast, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"A broadcast with the key '{definition.Key}' exists already; give the new one another key.");
        }

        return broadcast;
    }

    /// <summary>Finds a broadcast by key.</summary>
    /// <param name="key">The broadcast key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The broadcast, or <see langword="null"/> when there is none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public Task<Broadcast?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _store.FindAsync(key, cancellationToken);
    }

    /// <summary>Cancels a broadcast: nothing more is queued, and its sends not yet made are cancelled when they come due.</summary>
    /// <remarks>Sends already handed to the mail server are not recalled.</remarks>
    /// <param name="key">The broadcast key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when this call cancelled it; <see langword="false"/> when there is no such broadcast or it was cancelled already.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public async Task<bool> CancelAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Instant now = _clock.GetCurrentInstant();
        OptimisticConcurrency.Update<Broadcast> update = await OptimisticConcurrency.UpdateAsync(
            ct => _store.FindAsync(key, ct),
            current => current is null || current.Status == BroadcastStatus.Cancelled
                ? null
                : current with { Status = BroadcastStatus.Cancelled, ClaimedBy = null, CompletedAt = now },
            tryAddAsync: null,
            (current, replacement, ct) => _store.TryUpdateAsync(current, replacement, ct),
            static (current, replacement) => replacement with { Version = current.Version + 1 },
            $"Broadcast '{key}'",
            cancellationToken).ConfigureAwait(false);
        return update.Changed;
    }

    /// <summary>Queues the sends of the broadcasts that have started (and resumes those whose queuing instance stopped).</summary>
    /// <remarks>
    /// A broadcast is claimed by compare-and-set; each page of its segment's members is added to the outbox, due at the
    /// broadcast's instant (or the lead's local time), spread by <see cref="BroadcastDefinition.MaxSendsPerMinute"/>,
    /// and the cursor is stored before the next page. A member without a lead profile is left out; whether a member may
    /// be mailed (consent, unsubscribe, bounce) and is still in the segment is checked when the send comes due.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the operation; what was queued stays queued and the rest is resumed after the lease.</param>
    /// <returns>The sends this call queued.</returns>
    /// <exception cref="OperationCanceledException">The operation was cancelled.</exception>
    public async Task<int> QueueDueAsync(CancellationToken cancellationToken = default)
    {
        int queued = 0;
        foreach (Broadcast due in await _store.ListDueAsync(_clock.GetCurrentInstant(), MaxDuePerRun, cancellationToken).ConfigureAwait(false))
        {
            queued += await QueueAsync(due, cancellationToken).ConfigureAwait(false);
        }

        return queued;
    }

    private async Task<int> QueueAsync(Broadcast due, CancellationToken cancellationToken)
    {
        Instant now = _clock.GetCurrentInstant();
        Broadcast claimed = due with
        {
            Status = BroadcastStatus.Queuing,
            ClaimedBy = _owner,
            DueAt = now + _lease,
            StartedAt = due.StartedAt ?? now,
        };
        if (!await _store.TryUpdateAsync(due, claimed, cancellationToken).ConfigureAwait(false))
        {
            return 0; // another instance claimed it, or it was cancelled.
        }

        Broadcast current = claimed with { Version = due.Version + 1 };
        BroadcastDefinition definition = current.Definition;
        string sequence = Broadcasts.SequenceOf(definition.Key);
        int queued = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ImmutableArray<SegmentMember> members = await _members.ListMembersAsync(definition.Segment, current.Cursor, Page, cancellationToken).ConfigureAwait(false);
            ImmutableArray<LeadProfile> leads = members.IsEmpty
                ? []
                : await _leads.FindManyAsync(members.Select(static m => m.Lead), cancellationToken).ConfigureAwait(false);
            Dictionary<LeadId, LeadProfile> byId = leads.ToDictionary(static l => l.Id);
            Dictionary<Instant, int> slots = current.Slots.ToDictionary(static s => s.At, static s => s.Queued);
            List<OutboxEntry> entries = new(members.Length);
            foreach (SegmentMember member in members)
            {
                if (!byId.TryGetValue(member.Lead, out LeadProfile? lead))
                {
                    continue; // no profile (erased, or never stored): nobody to mail.
                }

                Instant at = SendInstant(definition, lead, current.StartedAt!.Value);
                if (definition.MaxSendsPerMinute is { } perMinute)
                {
                    int before = slots.GetValueOrDefault(at);
                    slots[at] = before + 1;
                    at += Duration.FromMinutes(before / perMinute);
                }

                EnrolmentId enrolment = Broadcasts.EnrolmentOf(definition.Key, lead.Id);
                entries.Add(new OutboxEntry
                {
                    Key = OutboxEntry.KeyOf(enrolment, definition.Key),
                    Enrolment = enrolment,
                    LeadId = lead.Id,
                    Sequence = sequence,
                    StepIndex = 0,
                    ScheduledFor = at,
                    DueAt = at,
                });
            }

            if (entries.Count > 0)
            {
                // Insert-if-absent: a page queued again after a crash adds only what is missing.
                await _outbox.TryAddManyAsync(entries, cancellationToken).ConfigureAwait(false);
            }

            bool last = members.Length < Page;
            Instant pageDone = _clock.GetCurrentInstant();
            Broadcast next = current with
            {
                Cursor = members.IsEmpty ? current.Cursor : members[^1].Lead,
                Queued = current.Queued + entries.Count,
                Slots = definition.MaxSendsPerMinute is null ? [] : [.. slots.OrderBy(static p => p.Key).Select(static p => new BroadcastSlot(p.Key, p.Value))],
                Status = last ? BroadcastStatus.Queued : BroadcastStatus.Queuing,
                ClaimedBy = last ? null : _owner,
                DueAt = last ? current.DueAt : pageDone + _lease,
                CompletedAt = last ? pageDone : null,
            };
            if (!await _store.TryUpdateAsync(current, next, cancellationToken).ConfigureAwait(false))
            {
                // Cancelled, or the lease ran out and another instance took over: what was added stays, keyed, and
                // the new owner's pages add nothing twice.
                return queued + entries.Count;
            }

            current = next with { Version = current.Version + 1 };
            queued += entries.Count;
            if (last)
            {
                return queued;
            }
        }
    }

    /// <summary>Returns when a lead is due the broadcast: its instant, or its local time in the lead's zone; never before queuing began.</summary>
    private Instant SendInstant(BroadcastDefinition definition, LeadProfile lead, Instant startedAt)
    {
        Instant at = definition.SendAt
            ?? definition.LocalSendAt!.Value.InZoneLeniently(lead.ResolveTimeZone(_zones, _defaultZone)).ToInstant();
        return at < startedAt ? startedAt : at;
    }
}
