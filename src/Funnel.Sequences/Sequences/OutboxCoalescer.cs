using System.Collections.Immutable;
using System.Runtime.ExceptionServices;
using Funnel.Events;

namespace Funnel.Sequences;

/// <summary>Writes the outcomes of a dispatch batch to the outbox as they arrive, with one flush in flight at a time.</summary>
/// <remarks>
/// <para>
/// <see cref="Add"/> queues a compare-and-set; when no flush is in flight it starts one at once (on the caller's
/// thread, up to the store's first real wait), and everything queued while a flush is in flight goes into the next
/// one, as a single <see cref="ISendOutbox.TryUpdateManyAsync"/>. There is no timer: a store that commits in no time
/// gets a flush per outcome, a durable store that takes milliseconds per commit gets few large flushes, and either
/// way an accepted send waits for at most one flush before its outcome is stored. That is the window in which a
/// crash repeats a send.
/// </para>
/// <para>
/// A flush that throws ends the coalescer: nothing queued afterwards is written (the process is presumed to be
/// failing, as after a crash), <see cref="Failed"/> turns true so the dispatcher starts no more sends, and
/// <see cref="CompleteAsync"/> rethrows the exception. Flushes are not cancellable: the outcomes of sends that were
/// accepted are recorded even while the dispatch is being cancelled.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
internal sealed class OutboxCoalescer(ISendOutbox outbox, List<FunnelEvent>? recorded = null)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _won = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private List<(OutboxEntry Current, OutboxEntry Replacement)> _pending = [];
    private List<(OutboxEntry Current, OutboxEntry Replacement)>? _spare;
    private bool _running;
    private ExceptionDispatchInfo? _failure;
    private int _flushes;

    /// <summary>Gets whether a flush failed; nothing more is written.</summary>
    public bool Failed
    {
        get
        {
            lock (_gate)
            {
                return _failure is not null;
            }
        }
    }

    /// <summary>Gets the number of flushes made.</summary>
    public int Flushes
    {
        get
        {
            lock (_gate)
            {
                return _flushes;
            }
        }
    }

    /// <summary>Queues one compare-and-set and starts a flush unless one is in flight.</summary>
    /// <param name="update">The entry as claimed and its new state.</param>
    public void Add((OutboxEntry Current, OutboxEntry Replacement) update)
    {
        lock (_gate)
        {
            _pending.Add(update);
            if (!TryStart())
            {
                return;
            }
        }

        StartFlush();
    }

    /// <summary>Queues several compare-and-sets (each key once per coalescer) and starts a flush unless one is in flight.</summary>
    /// <param name="updates">The entries as claimed and their new states.</param>
    public void AddRange(IReadOnlyCollection<(OutboxEntry Current, OutboxEntry Replacement)> updates)
    {
        if (updates.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            _pending.AddRange(updates);
            if (!TryStart())
            {
                return;
            }
        }

        StartFlush();
    }

    /// <summary>Waits until everything queued is written.</summary>
    /// <returns>A task that completes when the last flush has; it faults with the exception of a failed flush.</returns>
    /// <remarks>Call it after the last <see cref="Add"/> has returned.</remarks>
    public async Task CompleteAsync()
    {
        while (true)
        {
            Task[] loops;
            lock (_gate)
            {
                loops = [.. _loops];
                _loops.Clear();
                if (loops.Length == 0 && (!_running || _failure is not null))
                {
                    _failure?.Throw();
                    return;
                }
            }

            if (loops.Length == 0)
            {
                await Task.Yield(); // a flush is starting on another thread and has not been listed yet.
            }

            await Task.WhenAll(loops).ConfigureAwait(false);
        }
    }

    /// <summary>Returns whether the compare-and-set of <paramref name="key"/> was stored.</summary>
    /// <param name="key">The entry's key.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the claim was lost or it was never written.</returns>
    public bool Won(string key)
    {
        lock (_gate)
        {
            return _won.Contains(key);
        }
    }

    /// <summary>Marks a flush as started unless one is in flight (it takes the pending updates next) or a flush failed (nothing more is written); call under the lock.</summary>
    private bool TryStart()
    {
        if (_running || _failure is not null)
        {
            return false;
        }

        _running = true;
        return true;
    }

    private void StartFlush()
    {
        Task loop = FlushAsync();
        if (!loop.IsCompletedSuccessfully)
        {
            lock (_gate)
            {
                _loops.Add(loop);
            }
        }
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            List<(OutboxEntry Current, OutboxEntry Replacement)> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _running = false;
                    return;
                }

                batch = _pending;
                _pending = _spare ?? [];
                _spare = null;
            }

            try
            {
                // Not cancellable on purpose: these are sends the provider accepted; recording them is what keeps
                // them from being sent again.
                ImmutableArray<string> won = await outbox.TryUpdateManyAsync(batch, CancellationToken.None).ConfigureAwait(false);
                lock (_gate)
                {
                    _flushes++;
                    _won.UnionWith(won);
                    if (recorded is not null)
                    {
                        AddRecorded(recorded, batch, _won);
                    }

                    batch.Clear(); // the store is done with it: the next flush reuses it.
                    _spare = batch;
                }
            }
            catch (Exception e)
            {
                // Kept for CompleteAsync to rethrow on the dispatcher's path.
                lock (_gate)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                    _running = false;
                }

                return;
            }
        }
    }

    /// <summary>Adds the events the stored compare-and-sets of <paramref name="updates"/> recorded, in order: those of each winner's replacement, unless they are the events of the entry it replaced (which the outbox records nothing again for).</summary>
    /// <param name="into">Where to add them.</param>
    /// <param name="updates">The compare-and-sets.</param>
    /// <param name="won">The keys of those stored.</param>
    public static void AddRecorded(List<FunnelEvent> into, IEnumerable<(OutboxEntry Current, OutboxEntry Replacement)> updates, IReadOnlySet<string> won)
    {
        foreach ((OutboxEntry current, OutboxEntry replacement) in updates)
        {
            if (!replacement.Events.IsDefaultOrEmpty && replacement.Events != current.Events && won.Contains(current.Key))
            {
                into.AddRange(replacement.Events);
            }
        }
    }
}
