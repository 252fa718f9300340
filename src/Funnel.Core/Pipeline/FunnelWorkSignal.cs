using System.Collections.Concurrent;

namespace Funnel.Pipeline;

/// <summary>Wakes the loops that wait for work (the pipeline, the sequence dispatcher) as soon as a store knows new work is there.</summary>
/// <remarks>
/// <para>
/// Loops wait on a <see cref="FunnelWorkListener"/> with their poll interval as the timeout, so without signals they
/// poll exactly as before. A store or an adapter calls <see cref="Notify"/> when it has stored work for a topic: the
/// PostgreSQL adapter forwards <c>LISTEN/NOTIFY</c> messages here, so an event appended or a send scheduled by one
/// app instance wakes the others at once.
/// </para>
/// <para>A signal is a hint, never the only way work is found: a lost signal costs one poll interval.</para>
/// </remarks>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
public sealed class FunnelWorkSignal
{
    /// <summary>The topic of new events in the event log, which the pipeline waits on.</summary>
    public const string Events = "events";

    /// <summary>The topic of sends that have become due, which the sequence dispatcher waits on.</summary>
    public const string Sends = "sends";

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<FunnelWorkListener, byte>> _listeners = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates a signal whose waits time out on the system clock.</summary>
    public FunnelWorkSignal()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a signal whose waits time out on the given clock.</summary>
    /// <param name="time">The clock for the waits' timeouts.</param>
    /// <exception cref="ArgumentNullException"><paramref name="time"/> is <see langword="null"/>.</exception>
    public FunnelWorkSignal(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Wakes every listener of a topic, or makes its next wait return at once when it is not waiting.</summary>
    /// <param name="topic">The topic, such as <see cref="Events"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is <see langword="null"/>.</exception>
    public void Notify(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (_listeners.TryGetValue(topic, out ConcurrentDictionary<FunnelWorkListener, byte>? listeners))
        {
            foreach (FunnelWorkListener listener in listeners.Keys)
            {
                listener.Set();
            }
        }
    }

    /// <summary>Starts listening to a topic; dispose the listener when the loop ends.</summary>
    /// <param name="topic">The topic, such as <see cref="Events"/>.</param>
    /// <returns>A listener that sees every <see cref="Notify"/> of the topic from now on.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is <see langword="null"/>.</exception>
    public FunnelWorkListener Listen(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var listener = new FunnelWorkListener(this, topic, _time);
        _listeners.GetOrAdd(topic, static _ => new()).TryAdd(listener, 0);
        return listener;
    }

    internal void Remove(FunnelWorkListener listener)
    {
        if (_listeners.TryGetValue(listener.Topic, out ConcurrentDictionary<FunnelWorkListener, byte>? listeners))
        {
            listeners.TryRemove(listener, out _);
        }
    }
}

/// <summary>One loop's subscription to a <see cref="FunnelWorkSignal"/> topic.</summary>
/// <remarks>
/// A notification that arrives while the loop is busy is kept (once): the next <see cref="WaitAsync"/> then returns at
/// once, so work stored between a pass and the wait after it is never slept over.
/// </remarks>
/// <threadsafety>One loop waits on a listener at a time; <see cref="FunnelWorkSignal.Notify"/> may run on any thread.</threadsafety>
public sealed class FunnelWorkListener : IDisposable
{
    private readonly FunnelWorkSignal _signal;
    private readonly TimeProvider _time;
    private TaskCompletionSource _pending = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal FunnelWorkListener(FunnelWorkSignal signal, string topic, TimeProvider time)
    {
        _signal = signal;
        _time = time;
        Topic = topic;
    }

    /// <summary>Gets the topic listened to.</summary>
    public string Topic { get; }

    /// <summary>Waits until the topic is notified or the timeout passes.</summary>
    /// <param name="timeout">The longest wait: the loop's poll interval.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when a notification ended the wait; <see langword="false"/> when the timeout did.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource pending = Volatile.Read(ref _pending);
        if (!pending.Task.IsCompleted)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(timeout, _time, stop.Token);
            Task first = await Task.WhenAny(pending.Task, delay).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (first != pending.Task)
            {
                return false;
            }
        }

        // Consume the notification: the next wait sleeps until the next one.
        Interlocked.CompareExchange(ref _pending, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), pending);
        return true;
    }

    /// <summary>Stops listening.</summary>
    public void Dispose() => _signal.Remove(this);

    internal void Set() => Volatile.Read(ref _pending).TrySetResult();
}
