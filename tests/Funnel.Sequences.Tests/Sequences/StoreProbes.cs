using System.Collections.Concurrent;
using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

/// <summary>The store calls of a run, in order, named <c>Store.Member</c>, with the size of each batch.</summary>
internal sealed class StoreCalls
{
    private readonly ConcurrentQueue<(string Call, int Size)> calls = new();

    public IReadOnlyList<(string Call, int Size)> All => [.. calls];

    public int Count(string call) => calls.Count(c => c.Call == call);

    public IReadOnlyList<int> Sizes(string call) => [.. calls.Where(c => c.Call == call).Select(c => c.Size)];

    public void Record(string call, int size = 1) => calls.Enqueue((call, size));

    public void Clear() => calls.Clear();
}

/// <summary>An outbox that records every call (batch members included, not looped) and can hold an update batch back.</summary>
internal sealed class ProbedOutbox(ISendOutbox inner, StoreCalls calls) : ISendOutbox
{
    private int updateManyCalls;

    /// <summary>Called before update batch number n (from 1) is applied; the batch waits for the returned task.</summary>
    public Func<int, IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)>, Task>? BeforeUpdateMany { get; set; }

    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.TryAdd");
        return inner.TryAddAsync(entry, cancellationToken);
    }

    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.Find");
        return inner.FindAsync(key, cancellationToken);
    }

    public Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.ClaimDue");
        return inner.ClaimDueAsync(now, max, lease, owner, cancellationToken);
    }

    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.TryUpdate");
        return inner.TryUpdateAsync(current, replacement, cancellationToken);
    }

    public Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.ClaimEvents");
        return inner.ClaimEventsAsync(now, max, lease, cancellationToken);
    }

    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.AcknowledgeEvents");
        return inner.AcknowledgeEventsAsync(ids, cancellationToken);
    }

    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.PurgeCompleted", max);
        return inner.PurgeCompletedAsync(completedBefore, max, cancellationToken);
    }

    public Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.TryAddMany", entries.Count);
        return inner.TryAddManyAsync(entries, cancellationToken);
    }

    public async Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default)
    {
        calls.Record("Outbox.TryUpdateMany", updates.Count);
        int n = Interlocked.Increment(ref updateManyCalls);
        if (BeforeUpdateMany is { } before)
        {
            await before(n, updates);
        }

        return await inner.TryUpdateManyAsync(updates, cancellationToken);
    }

    public Task<ImmutableArray<string>> TryAddAndUpdateManyAsync(
        IReadOnlyList<OutboxEntry> additions,
        IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates,
        CancellationToken cancellationToken = default)
    {
        // Recorded as one call (the size is that of the updates), as a database store makes it one commit.
        calls.Record("Outbox.TryAddAndUpdateMany", updates.Count);
        return inner.TryAddAndUpdateManyAsync(additions, updates, cancellationToken);
    }
}

/// <summary>An enrolment store that records every call (batch members included, not looped).</summary>
internal sealed class ProbedEnrolments(IEnrolmentStore inner, StoreCalls calls) : IEnrolmentStore
{
    private int updateManyCalls;

    /// <summary>Called before update batch number n (from 1) is applied.</summary>
    public Func<int, IReadOnlyList<(Enrolment Current, Enrolment Replacement)>, Task>? BeforeUpdateMany { get; set; }

    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.TryAdd");
        return inner.TryAddAsync(enrolment, reEntry, cancellationToken);
    }

    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.Find");
        return inner.FindAsync(id, cancellationToken);
    }

    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.ListForLead");
        return inner.ListForLeadAsync(lead, cancellationToken);
    }

    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.TryUpdate");
        return inner.TryUpdateAsync(current, replacement, cancellationToken);
    }

    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.TryReserveDay");
        return inner.TryReserveDayAsync(lead, day, key, cancellationToken);
    }

    public Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        LeadId[] all = [.. leads];
        calls.Record("Enrolments.ListForLeads", all.Length);
        return inner.ListForLeadsAsync(all, cancellationToken);
    }

    public async Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.TryUpdateMany", updates.Count);
        int n = Interlocked.Increment(ref updateManyCalls);
        if (BeforeUpdateMany is { } before)
        {
            await before(n, updates);
        }

        return await inner.TryUpdateManyAsync(updates, cancellationToken);
    }

    public Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default)
    {
        calls.Record("Enrolments.TryReserveDays", reservations.Count);
        return inner.TryReserveDaysAsync(reservations, cancellationToken);
    }
}

/// <summary>A lead store that records every call (batch members included, not looped).</summary>
internal sealed class ProbedLeads(ILeadStore inner, StoreCalls calls) : ILeadStore
{
    public Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default)
    {
        calls.Record("Leads.Find");
        return inner.FindAsync(id, cancellationToken);
    }

    public Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default)
    {
        calls.Record("Leads.FindByEmail");
        return inner.FindByEmailAsync(email, cancellationToken);
    }

    public Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default)
    {
        calls.Record("Leads.TryAdd");
        return inner.TryAddAsync(profile, cancellationToken);
    }

    public Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default)
    {
        calls.Record("Leads.TryUpdate");
        return inner.TryUpdateAsync(current, replacement, cancellationToken);
    }

    public Task<ImmutableArray<LeadProfile>> FindManyAsync(IEnumerable<LeadId> ids, CancellationToken cancellationToken = default)
    {
        LeadId[] all = [.. ids];
        calls.Record("Leads.FindMany", all.Length);
        return inner.FindManyAsync(all, cancellationToken);
    }
}
