using System.Collections.Concurrent;
using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>Thrown where a killed process would stop.</summary>
internal sealed class ProcessKilledException(string message) : OperationCanceledException(message);

/// <summary>Counts the writes of one process's stores and kills the process before or after write number <see cref="CrashAt"/>.</summary>
/// <remarks>
/// Unlike the in-memory tests' switch, every store call that commits counts, batch members included (each is one
/// write), and a killed process stays dead: every later read, write or send of its stores throws, so an engine that
/// catches the first failure, or has other sends in flight, cannot go on storing or sending.
/// </remarks>
internal sealed class CrashPoint
{
    private int _writes;
    private volatile bool _dead;

    /// <summary>Gets the write (from 1) that kills the process; 0 never does.</summary>
    public int CrashAt { get; init; }

    /// <summary>Gets whether the process dies after the write is stored (else before it).</summary>
    public bool AfterWrite { get; init; }

    /// <summary>Gets the number of writes attempted so far.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Gets whether the process was killed.</summary>
    public bool Dead => _dead;

    public async Task<T> WriteAsync<T>(Func<Task<T>> write)
    {
        ThrowIfDead();
        int n = Interlocked.Increment(ref _writes);
        if (n == CrashAt && !AfterWrite)
        {
            _dead = true;
            throw new ProcessKilledException("killed before write " + n);
        }

        T result = await write();
        if (n == CrashAt)
        {
            _dead = true;
            throw new ProcessKilledException("killed after write " + n);
        }

        ThrowIfDead();
        return result;
    }

    public Task WriteAsync(Func<Task> write) => WriteAsync(async () =>
    {
        await write();
        return true;
    });

    public async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        ThrowIfDead();
        T result = await read();
        ThrowIfDead();
        return result;
    }

    public void ThrowIfDead()
    {
        if (_dead)
        {
            throw new ProcessKilledException("the process is dead");
        }
    }
}

/// <summary>An outbox whose every member goes through a <see cref="CrashPoint"/>; every member that commits is a write.</summary>
internal sealed class CrashingOutbox(ISendOutbox inner, CrashPoint crash) : ISendOutbox
{
    public Task<bool> TryAddAsync(OutboxEntry entry, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryAddAsync(entry, cancellationToken));

    public Task<OutboxEntry?> FindAsync(string key, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.FindAsync(key, cancellationToken));

    public Task<ImmutableArray<OutboxEntry>> ClaimDueAsync(Instant now, int max, Duration lease, string owner, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.ClaimDueAsync(now, max, lease, owner, cancellationToken));

    public Task<bool> TryUpdateAsync(OutboxEntry current, OutboxEntry replacement, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateAsync(current, replacement, cancellationToken));

    public Task<ImmutableArray<FunnelEvent>> ClaimEventsAsync(Instant now, int max, Duration lease, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.ClaimEventsAsync(now, max, lease, cancellationToken));

    public Task AcknowledgeEventsAsync(IEnumerable<EventId> ids, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.AcknowledgeEventsAsync(ids, cancellationToken));

    public Task<int> PurgeCompletedAsync(Instant completedBefore, int max, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.PurgeCompletedAsync(completedBefore, max, cancellationToken));

    public Task<ImmutableArray<string>> TryAddManyAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryAddManyAsync(entries, cancellationToken));

    public Task<ImmutableArray<string>> TryUpdateManyAsync(IReadOnlyList<(OutboxEntry Current, OutboxEntry Replacement)> updates, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateManyAsync(updates, cancellationToken));
}

/// <summary>An enrolment store whose every member goes through a <see cref="CrashPoint"/>.</summary>
internal sealed class CrashingEnrolments(IEnrolmentStore inner, CrashPoint crash) : IEnrolmentStore
{
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryAddAsync(enrolment, reEntry, cancellationToken));

    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.FindAsync(id, cancellationToken));

    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.ListForLeadAsync(lead, cancellationToken));

    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateAsync(current, replacement, cancellationToken));

    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryReserveDayAsync(lead, day, key, cancellationToken));

    public Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.ListForLeadsAsync(leads, cancellationToken));

    public Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryUpdateManyAsync(updates, cancellationToken));

    public Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.TryReserveDaysAsync(reservations, cancellationToken));
}

/// <summary>An event log whose appends are writes of the <see cref="CrashPoint"/>.</summary>
internal sealed class CrashingEventLog(IFunnelEventLog inner, CrashPoint crash) : IFunnelEventLog
{
    public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default) =>
        crash.WriteAsync(() => inner.AppendAsync(events, cancellationToken));

    public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.ReadAsync(after, max, cancellationToken));

    public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default) =>
        crash.ReadAsync(() => inner.ReadLeadAsync(lead, max, cancellationToken));
}

/// <summary>The mail server: records every accepted send with the process that sent it; a dead process sends nothing.</summary>
internal sealed class TransportRecorder
{
    private readonly ConcurrentQueue<(string Key, int Process)> _accepted = new();

    public IReadOnlyList<(string Key, int Process)> Accepted => [.. _accepted];

    public IEmailSender SenderFor(int process, CrashPoint crash) => new Sender(this, process, crash);

    private sealed class Sender(TransportRecorder transport, int process, CrashPoint crash) : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
        {
            crash.ThrowIfDead();
            transport._accepted.Enqueue((message.IdempotencyKey, process));
            return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + ">"));
        }
    }
}
