using System.Collections.Concurrent;

namespace Funnel.Storage.Sqlite.Internal;

/// <summary>The one in-process writer of a database: writes queue up and share commits (group commit).</summary>
/// <remarks>
/// <para>
/// SQLite allows one writer at a time, and each commit costs a disk flush (2–3 ms with <c>synchronous=FULL</c>), so
/// one commit per write caps a process at a few hundred writes a second. Here every write is queued; one flush is in
/// flight at a time; it takes what is queued (up to <see cref="FunnelSqliteOptions.MaxWritesPerCommit"/>), runs each
/// write in its own savepoint inside one <c>BEGIN IMMEDIATE</c> transaction, commits once, and only then completes
/// the callers' tasks. What arrives meanwhile joins the next flush. There is no timer: a lone write is committed at
/// once, and batches form only from concurrency.
/// </para>
/// <para>
/// A write that throws is rolled back to its savepoint and fails alone; a failed commit fails every write of the
/// flush. A caller is answered only after its write is on disk, so a crash loses only writes nobody was told about.
/// Work runs on the flushing thread and must not wait for another write (that would wait for itself).
/// </para>
/// </remarks>
internal sealed class SqliteWriter(Func<SqliteSession> open, int maxPerCommit) : IDisposable
{
    private readonly ConcurrentQueue<WriteItem> _queue = new();
    private readonly Lock _gate = new();
    private SqliteSession? _session;
    private int _flushing;
    private bool _disposed;

    /// <summary>Queues <paramref name="work"/> to run inside a shared transaction, and completes when that transaction has committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WriteItem<T> item = new(work, cancellationToken);
        _queue.Enqueue(item);
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            _ = Task.Run(FlushLoop, CancellationToken.None);
        }

        return item.Task;
    }

    private void FlushLoop()
    {
        List<WriteItem> batch = new(Math.Min(maxPerCommit, 256));
        while (true)
        {
            while (batch.Count < maxPerCommit && _queue.TryDequeue(out WriteItem? item))
            {
                if (item.CancellationToken.IsCancellationRequested)
                {
                    item.Cancel();
                }
                else
                {
                    batch.Add(item);
                }
            }

            if (batch.Count > 0)
            {
                Flush(batch);
                batch.Clear();
                continue;
            }

            Volatile.Write(ref _flushing, 0);
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private void Flush(List<WriteItem> batch)
    {
        lock (_gate)
        {
            SqliteSession session;
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                session = _session ??= open();
                session.Execute("BEGIN IMMEDIATE");
            }
            catch (Exception e)
            {
                foreach (WriteItem item in batch)
                {
                    item.Fail(e);
                }

                Reset();
                return;
            }

            try
            {
                if (batch.Count == 1)
                {
                    batch[0].Run(session);
                    if (batch[0].Error is not null)
                    {
                        session.Execute("ROLLBACK");
                        batch[0].Finish();
                        return;
                    }
                }
                else
                {
                    foreach (WriteItem item in batch)
                    {
                        session.Execute("SAVEPOINT funnel_write");
                        item.Run(session);
                        session.Execute(item.Error is null ? "RELEASE funnel_write" : "ROLLBACK TO funnel_write; RELEASE funnel_write");
                    }
                }

                session.Execute("COMMIT");
            }
            catch (Exception e)
            {
                // The transaction as a whole failed (a full disk, an I/O error): nothing of it is stored.
                foreach (WriteItem item in batch)
                {
                    item.Fail(e);
                }

                Reset();
                return;
            }

            foreach (WriteItem item in batch)
            {
                item.Finish();
            }
        }
    }

    private void Reset()
    {
        try
        {
            _session?.Dispose();
        }
        catch (Exception)
        {
            // The connection is being thrown away because it failed; a second failure changes nothing.
        }

        _session = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Reset();
        }
    }

    private abstract class WriteItem(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Exception? Error { get; protected set; }

        public abstract void Run(SqliteSession session);

        public abstract void Finish();

        public abstract void Fail(Exception e);

        public abstract void Cancel();
    }

    private sealed class WriteItem<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken) : WriteItem(cancellationToken)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        public override void Run(SqliteSession session)
        {
            try
            {
                _result = work(session);
            }
            catch (Exception e)
            {
                Error = e;
            }
        }

        public override void Finish()
        {
            if (Error is null)
            {
                _completion.TrySetResult(_result);
            }
            else
            {
                _completion.TrySetException(Error);
            }
        }

        public override void Fail(Exception e) => _completion.TrySetException(e);

        public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
    }
}
