using System.Collections.Immutable;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

/// <summary>Counts the store writes of a run and "kills the process" (throws) at write number <see cref="CrashAt"/>.</summary>
internal sealed class CrashSwitch
{
    private int writes;

    /// <summary>Gets or sets the write (from 1) that crashes; 0 never crashes.</summary>
    public int CrashAt { get; set; }

    /// <summary>Gets or sets whether the crash happens after the write is stored (else before).</summary>
    public bool AfterWrite { get; set; }

    public bool Armed { get; set; }

    public int Writes => writes;

    public bool Crashed { get; private set; }

    public async Task<T> WriteAsync<T>(Func<Task<T>> write)
    {
        if (!Armed)
        {
            return await write();
        }

        int n = Interlocked.Increment(ref writes);
        bool crash = n == CrashAt;
        if (crash && !AfterWrite)
        {
            Crashed = true;
            throw new OperationCanceledException("process killed before write " + n);
        }

        T result = await write();
        if (crash)
        {
            Crashed = true;
            throw new OperationCanceledException("process killed after write " + n);
        }

        return result;
    }
}

/// <summary>An outbox whose writes go through a <see cref="CrashSwitch"/>.</summary>
internal sealed class CrashingOutbox(ISendOutbox inner, CrashSwitch crash) : ISendOutbox
{
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryAddAsync(entry, cancellationToken));

    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default) =>
        inner.FindAsync(key, cancellationToken);

    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.PurgeCompletedAsync(completedBefore, max, cancellationToken));

    public Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
        inner.ClaimDueAsync(now, max, lease, owner, cancellationToken);

    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateAsync(current, replacement, cancellationToken));

    public Task<ImmutableArray<global::Funnel.Events.FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default) =>
        inner.ClaimEventsAsync(now, max, lease, cancellationToken);

    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default) =>
        inner.AcknowledgeEventsAsync(ids, cancellationToken);
}

/// <summary>An enrolment store whose updates go through a <see cref="CrashSwitch"/>.</summary>
internal sealed class CrashingEnrolments(IEnrolmentStore inner, CrashSwitch crash) : IEnrolmentStore
{
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default) =>
        inner.TryAddAsync(enrolment, reEntry, cancellationToken);

    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        inner.ListForLeadAsync(lead, cancellationToken);

    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateAsync(current, replacement, cancellationToken));

    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryReserveDayAsync(lead, day, key, cancellationToken));
}
