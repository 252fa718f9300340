using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Pipeline;

/// <summary>Carries every event in the <see cref="IFunnelEventLog"/> to every registered <see cref="IFunnelHandler"/>.</summary>
/// <remarks>
/// <para>
/// Each handler has its own durable position (<see cref="EventSubscription"/>), so handlers progress independently:
/// a slow or failing handler never holds up the others. Delivery is at least once and in log order per handler: the
/// position moves only after the events before it were handled (or parked), so a crash between an append and its
/// delivery, or in the middle of a batch, delivers those events again on the next pass.
/// </para>
/// <para>
/// A failed delivery is retried on a later pass after a backoff that doubles from
/// <see cref="FunnelPipelineOptions.RetryDelay"/> up to <see cref="FunnelPipelineOptions.MaxRetryDelay"/>; after
/// <see cref="FunnelPipelineOptions.MaxAttempts"/> failures the event is parked in the <see cref="IParkedEventStore"/>
/// and the handler goes on. <see cref="RetryParkedAsync"/> delivers a parked event again.
/// </para>
/// <para>
/// In an app, <c>AddFunnelHosting()</c> runs the pipeline as a hosted service. Tests and tools can drive it directly
/// with <see cref="DeliverAsync"/> and <see cref="DeliverAllAsync"/>.
/// </para>
/// <para>
/// Several app instances on one database share the work: each handler's progress is kept per partition of the log
/// (<see cref="FunnelPipelineOptions.Partitions"/>, split by lead), each partition is leased to one instance at a time
/// (<see cref="EventSubscription.LeaseOwner"/>), and each instance takes a fair share of the partitions, counting the
/// live instances from the heartbeats they store next to the subscriptions. An instance that stops gives its leases
/// back (<see cref="ReleaseLeasesAsync"/>); one that dies holds them until <see cref="FunnelPipelineOptions.LeaseDuration"/>
/// passes, and then the others take them over. So every event reaches every handler at least once, in order per lead,
/// on one instance at a time; an event handled by an instance whose lease was taken over may be handled again.
/// </para>
/// </remarks>
/// <threadsafety>
/// All members are thread-safe. Within one process a handler is never run by two passes at once; across processes
/// the stored positions and leases are compare-and-set, so two instances may deliver an event twice but never skip one.
/// </threadsafety>
public sealed class FunnelPipeline
{
    /// <summary>The most pending events <see cref="GetStatusAsync"/> counts per handler.</summary>
    public const int StatusCountLimit = 10_000;

    /// <summary>The name prefix of the instance heartbeats stored among the subscriptions.</summary>
    internal const string InstancePrefix = "$instance#";

    private readonly IFunnelEventLog _log;
    private readonly IEventSubscriptionStore _subscriptions;
    private readonly IParkedEventStore _parked;
    private readonly IServiceProvider _services;
    private readonly IClock _clock;
    private readonly FunnelPipelineOptions _options;
    private readonly ImmutableArray<Lane> _lanes;
    private readonly string _owner;
    private int _beating;
    private EventSubscription? _heartbeat;

    internal FunnelPipeline(
        IFunnelEventLog log,
        IEventSubscriptionStore subscriptions,
        IParkedEventStore parked,
        IEnumerable<FunnelHandlerRegistration> registrations,
        IServiceProvider services,
        IClock clock,
        IOptions<FunnelPipelineOptions> options)
    {
        _log = log;
        _subscriptions = subscriptions;
        _parked = parked;
        _services = services;
        _clock = clock;
        _options = options.Value;
        _lanes = [.. registrations.Select(r => new Lane(r))];
        Handlers = [.. _lanes.Select(l => l.Registration.Name)];
        _owner = _options.InstanceId
            ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Gets the name this instance holds partition leases under.</summary>
    public string InstanceId => _owner;

    /// <summary>Gets the names of the registered handlers, in registration order.</summary>
    public ImmutableArray<string> Handlers { get; }

    /// <summary>Creates every registered handler, so that one with a missing dependency fails now rather than at its first event.</summary>
    /// <remarks>The hosted pipeline calls this when the host starts.</remarks>
    /// <exception cref="InvalidOperationException">A handler cannot be created; the message names the handler and what is missing.</exception>
    public void EnsureHandlers()
    {
        foreach (Lane lane in _lanes)
        {
            _ = HandlerOf(lane);
        }
    }

    /// <summary>Makes one pass: each handler takes up to <see cref="FunnelPipelineOptions.BatchSize"/> events after its position.</summary>
    /// <param name="cancellationToken">Cancels the pass; work done so far is kept and the rest is delivered later.</param>
    /// <returns>What the pass did.</returns>
    /// <exception cref="OperationCanceledException">The pass was cancelled.</exception>
    public async Task<PipelineDelivery> DeliverAsync(CancellationToken cancellationToken = default)
    {
        if (_lanes.IsEmpty)
        {
            return new PipelineDelivery(0, [], true);
        }

        Dictionary<string, EventSubscription> stored = await ListAsync(cancellationToken).ConfigureAwait(false);
        int instances = await BeatAsync(stored, cancellationToken).ConfigureAwait(false);
        LaneResult[] results = await Task.WhenAll(_lanes.Select(lane => RunLaneAsync(lane, stored, instances, cancellationToken))).ConfigureAwait(false);
        return new PipelineDelivery(
            results.Sum(r => r.Delivered),
            [.. results.SelectMany(r => r.Failures)],
            results.All(r => r.CaughtUp));
    }

    /// <summary>Makes passes until every handler is caught up or waiting for a retry.</summary>
    /// <remarks>Useful in tests and tools; a hosted pipeline runs passes by itself.</remarks>
    /// <param name="cancellationToken">Cancels the passes.</param>
    /// <returns>What the passes did, added up.</returns>
    /// <exception cref="OperationCanceledException">The passes were cancelled.</exception>
    public async Task<PipelineDelivery> DeliverAllAsync(CancellationToken cancellationToken = default)
    {
        int delivered = 0;
        ImmutableArray<PipelineFailure>.Builder failures = ImmutableArray.CreateBuilder<PipelineFailure>();
        while (true)
        {
            PipelineDelivery pass = await DeliverAsync(cancellationToken).ConfigureAwait(false);
            delivered += pass.Delivered;
            failures.AddRange(pass.Failures);
            // A handler may append events that a handler earlier in the same pass has already read past: a pass
            // that delivered something is followed by another until one delivers nothing.
            if (pass.Delivered == 0 && (pass.CaughtUp || pass.Failures.All(f => !f.Parked)))
            {
                return new PipelineDelivery(delivered, failures.DrainToImmutable(), pass.CaughtUp);
            }
        }
    }

    /// <summary>Returns each handler's position, pending events and retry state.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One status per handler, in registration order.</returns>
    public async Task<ImmutableArray<PipelineHandlerStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        Dictionary<string, EventSubscription> stored = await ListAsync(cancellationToken).ConfigureAwait(false);
        ImmutableArray<PipelineHandlerStatus>.Builder statuses = ImmutableArray.CreateBuilder<PipelineHandlerStatus>(_lanes.Length);
        foreach (Lane lane in _lanes)
        {
            long position = long.MaxValue;
            int pending = 0;
            EventSubscription? failing = null;
            for (int index = 0; index < _options.Partitions; index++)
            {
                LogPartition partition = new(index, _options.Partitions);
                EventSubscription? subscription = stored.GetValueOrDefault(NameOf(lane, partition));
                long at = subscription?.Position ?? 0;
                position = Math.Min(position, at);
                if (pending < StatusCountLimit)
                {
                    pending += await _log.CountAsync(at, StatusCountLimit - pending, partition, cancellationToken).ConfigureAwait(false);
                }

                if (subscription is { Attempts: > 0 } && (failing is null || subscription.Attempts > failing.Attempts))
                {
                    failing = subscription;
                }
            }

            statuses.Add(new PipelineHandlerStatus(
                lane.Registration.Name, position, pending, failing?.Attempts ?? 0, failing?.RetryAt, failing?.LastError));
        }

        return statuses.MoveToImmutable();
    }

    /// <summary>Gives back every partition lease and the heartbeat this instance holds, so other instances take them over at once.</summary>
    /// <remarks>The hosted pipeline calls this when the host stops; passes after it take leases again.</remarks>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many leases were given back.</returns>
    public async Task<int> ReleaseLeasesAsync(CancellationToken cancellationToken = default)
    {
        int released = 0;
        foreach (EventSubscription held in (await _subscriptions.ListAsync(cancellationToken).ConfigureAwait(false))
            .Where(s => string.Equals(s.LeaseOwner, _owner, StringComparison.Ordinal)))
        {
            if (await _subscriptions.TryUpdateAsync(held, held with { LeaseOwner = null, LeaseUntil = null }, cancellationToken).ConfigureAwait(false))
            {
                released++;
            }
        }

        Volatile.Write(ref _heartbeat, null);
        return released;
    }

    /// <summary>Lists parked events, oldest first.</summary>
    /// <param name="max">The most events to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Up to <paramref name="max"/> parked events.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(int max = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return _parked.ListAsync(max, cancellationToken);
    }

    /// <summary>Delivers a parked event to its handler again; on success it is no longer parked.</summary>
    /// <param name="parked">The parked event, as listed.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// <see langword="true"/> when the handler succeeded and the event left the parked list; <see langword="false"/>
    /// when it failed again (it stays parked, with one more attempt and the new error) or someone else retried it first.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="parked"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">No handler is registered under the parked event's handler name.</exception>
    public async Task<bool> RetryParkedAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        Lane lane = _lanes.FirstOrDefault(l => l.Registration.Name == parked.Handler)
            ?? throw new ArgumentException($"No Funnel event handler is registered as '{parked.Handler}'.", nameof(parked));
        IReadOnlyList<LoggedEvent> read = await _log.ReadAsync(parked.Position - 1, 1, cancellationToken).ConfigureAwait(false);
        if (read.Count == 0 || read[0].Position != parked.Position)
        {
            // The event is gone from the log (retention): nothing to deliver any more.
            return await _parked.TryRemoveAsync(parked, cancellationToken).ConfigureAwait(false);
        }

        await lane.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await HandlerOf(lane).HandleAsync(read[0].Event, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            if (await _parked.TryRemoveAsync(parked, cancellationToken).ConfigureAwait(false))
            {
                await _parked.TryAddAsync(parked with { Attempts = parked.Attempts + 1, Error = Describe(ex), ParkedAt = _clock.GetCurrentInstant() }, cancellationToken).ConfigureAwait(false);
            }

            return false;
        }
        finally
        {
            lane.Gate.Release();
        }

        return await _parked.TryRemoveAsync(parked, cancellationToken).ConfigureAwait(false);
    }

    private async Task<LaneResult> RunLaneAsync(
        Lane lane, Dictionary<string, EventSubscription> stored, int instances, CancellationToken cancellationToken)
    {
        if (!await lane.Gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            // Another pass in this process is running this handler.
            return new LaneResult(0, [], false);
        }

        try
        {
            int count = _options.Partitions;
            int share = (count + instances - 1) / instances;
            Instant now = _clock.GetCurrentInstant();
            EventSubscription?[] held = new EventSubscription?[count];
            for (int index = 0; index < count; index++)
            {
                EventSubscription? subscription = stored.GetValueOrDefault(NameOf(lane, new LogPartition(index, count)));
                held[index] = subscription is not null && IsMine(subscription, now) ? subscription : null;
            }

            int owned = held.Count(h => h is not null);
            int delivered = 0;
            bool caughtUp = true;
            List<PipelineFailure> failures = [];

            // Start the search for free partitions at an offset of our own, so that instances starting together
            // do not all race for partition 0.
            int offset = (int)(unchecked((uint)StringComparer.Ordinal.GetHashCode(_owner)) % (uint)count);
            for (int step = 0; step < count; step++)
            {
                int index = (offset + step) % count;
                LogPartition partition = new(index, count);
                EventSubscription? subscription = held[index];
                if (subscription is null)
                {
                    if (owned >= share)
                    {
                        continue;
                    }

                    subscription = await TakeAsync(lane, partition, stored, now, cancellationToken).ConfigureAwait(false);
                    if (subscription is null)
                    {
                        continue;
                    }

                    owned++;
                }

                LaneResult result = await DeliverBatchAsync(lane, partition, subscription, cancellationToken).ConfigureAwait(false);
                delivered += result.Delivered;
                failures.AddRange(result.Failures);
                caughtUp &= result.CaughtUp;
                held[index] = result.Held;
            }

            // Over our share (another instance has started): give back the partitions we hold last, so it can take them.
            for (int step = count - 1; step >= 0 && owned > share; step--)
            {
                int index = (offset + step) % count;
                if (held[index] is { } giving)
                {
                    owned--;
                    await _subscriptions.TryUpdateAsync(giving, giving with { LeaseOwner = null, LeaseUntil = null }, cancellationToken).ConfigureAwait(false);
                }
            }

            return new LaneResult(delivered, [.. failures], caughtUp);
        }
        finally
        {
            lane.Gate.Release();
        }
    }

    private async Task<LaneResult> DeliverBatchAsync(
        Lane lane, LogPartition partition, EventSubscription subscription, CancellationToken cancellationToken)
    {
        string name = lane.Registration.Name;
        Instant now = _clock.GetCurrentInstant();
        if (subscription.RetryAt is { } retryAt && retryAt > now)
        {
            return await KeepAsync(subscription, now, cancellationToken).ConfigureAwait(false) is { } kept
                ? new LaneResult(0, [], false, kept)
                : new LaneResult(0, [], false);
        }

        IReadOnlyList<LoggedEvent> batch = await ReadAsync(subscription.Position, _options.BatchSize, partition, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            EventSubscription? kept = await KeepAsync(subscription, now, cancellationToken).ConfigureAwait(false);
            return new LaneResult(0, [], kept is not null, kept);
        }

        // The batch must finish inside the lease: renew it first unless more than half of it is left.
        if (await KeepAsync(subscription, now, cancellationToken).ConfigureAwait(false) is not { } current)
        {
            return new LaneResult(0, [], false);
        }

        IFunnelHandler handler = HandlerOf(lane);
        long position = current.Position;
        int attempts = current.Attempts;
        int delivered = 0;
        List<PipelineFailure> failures = [];
        foreach (LoggedEvent logged in batch)
        {
            try
            {
                await handler.HandleAsync(logged.Event, cancellationToken).ConfigureAwait(false);
                delivered++;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await SaveAsync(current, position, 0, null, null, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
#pragma warning disable CA1031 // A handler's failure is recorded, retried and finally parked; it must not stop the pipeline.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                attempts++;
                if (attempts < _options.MaxAttempts)
                {
                    Instant retry = now + Backoff(attempts);
                    failures.Add(new PipelineFailure(name, logged.Position, logged.Event.Id, attempts, ex, false, retry));
                    EventSubscription? failed = await SaveAsync(current, position, attempts, retry, Describe(ex), cancellationToken).ConfigureAwait(false);
                    return new LaneResult(delivered, [.. failures], false, failed);
                }

                failures.Add(new PipelineFailure(name, logged.Position, logged.Event.Id, attempts, ex, true, null));
                await _parked.TryAddAsync(new ParkedEvent
                {
                    Handler = name, Position = logged.Position, EventId = logged.Event.Id, EventType = logged.Event.EventType,
                    Attempts = attempts, Error = Describe(ex), ParkedAt = now,
                }, cancellationToken).ConfigureAwait(false);
            }

            position = logged.Position;
            attempts = 0;
        }

        EventSubscription? saved = await SaveAsync(current, position, 0, null, null, cancellationToken).ConfigureAwait(false);
        return new LaneResult(delivered, [.. failures], saved is not null && batch.Count < _options.BatchSize, saved);
    }

    private Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, LogPartition partition, CancellationToken cancellationToken) =>
        partition.Count == 1 ? _log.ReadAsync(after, max, cancellationToken) : _log.ReadPartitionAsync(after, max, partition, cancellationToken);

    /// <summary>Takes a partition that no live instance holds; creates its subscription when it has none yet.</summary>
    private async Task<EventSubscription?> TakeAsync(
        Lane lane, LogPartition partition, Dictionary<string, EventSubscription> stored, Instant now, CancellationToken cancellationToken)
    {
        string name = NameOf(lane, partition);
        EventSubscription? subscription = stored.GetValueOrDefault(name);
        if (subscription is null)
        {
            await _subscriptions.TryAddAsync(new EventSubscription { Name = name, Position = SeedPosition(lane, stored) }, cancellationToken).ConfigureAwait(false);
            subscription = await _subscriptions.FindAsync(name, cancellationToken).ConfigureAwait(false);
            if (subscription is null)
            {
                return null;
            }
        }

        if (subscription.LeaseOwner is not null && subscription.LeaseUntil > now && !IsMine(subscription, now))
        {
            return null;
        }

        EventSubscription taken = subscription with { LeaseOwner = _owner, LeaseUntil = now + _options.LeaseDuration };
        return await _subscriptions.TryUpdateAsync(subscription, taken, cancellationToken).ConfigureAwait(false)
            ? taken with { Version = subscription.Version + 1 }
            : null;
    }

    /// <summary>
    /// Where a new partition subscription starts: where the handler's subscriptions under another partition count are
    /// (the slowest of them), so changing <see cref="FunnelPipelineOptions.Partitions"/> repeats events rather than skipping them.
    /// </summary>
    private long SeedPosition(Lane lane, Dictionary<string, EventSubscription> stored)
    {
        string name = lane.Registration.Name;
        string prefix = name + "#";
        string sameCount = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/{_options.Partitions}");
        long? seed = null;
        foreach (EventSubscription other in stored.Values)
        {
            bool otherLayout = _options.Partitions == 1
                ? other.Name.StartsWith(prefix, StringComparison.Ordinal)
                : string.Equals(other.Name, name, StringComparison.Ordinal)
                    || (other.Name.StartsWith(prefix, StringComparison.Ordinal) && !other.Name.EndsWith(sameCount, StringComparison.Ordinal));
            if (otherLayout)
            {
                seed = Math.Min(seed ?? long.MaxValue, other.Position);
            }
        }

        return seed ?? 0;
    }

    /// <summary>Renews the lease when less than half of it is left; returns the subscription as stored, or null when the lease was lost.</summary>
    private async Task<EventSubscription?> KeepAsync(EventSubscription current, Instant now, CancellationToken cancellationToken)
    {
        if (current.LeaseUntil is { } until && until - now > _options.LeaseDuration / 2)
        {
            return current;
        }

        EventSubscription renewed = current with { LeaseOwner = _owner, LeaseUntil = now + _options.LeaseDuration };
        return await _subscriptions.TryUpdateAsync(current, renewed, cancellationToken).ConfigureAwait(false)
            ? renewed with { Version = current.Version + 1 }
            : null;
    }

    /// <summary>Stores the new position and retry state, renewing the lease; returns the stored subscription, or null when the lease was lost.</summary>
    private async Task<EventSubscription?> SaveAsync(EventSubscription current, long position, int attempts, Instant? retryAt, string? error, CancellationToken cancellationToken)
    {
        if (current.Position == position && current.Attempts == attempts && current.RetryAt == retryAt && current.LastError == error)
        {
            return current;
        }

        EventSubscription replacement = current with
        {
            Position = position, Attempts = attempts, RetryAt = retryAt, LastError = error,
            LeaseOwner = _owner, LeaseUntil = _clock.GetCurrentInstant() + _options.LeaseDuration,
        };
        return await _subscriptions.TryUpdateAsync(current, replacement, cancellationToken).ConfigureAwait(false)
            ? replacement with { Version = current.Version + 1 }
            : null;
    }

    private async Task<Dictionary<string, EventSubscription>> ListAsync(CancellationToken cancellationToken) =>
        (await _subscriptions.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>
    /// Keeps this instance's heartbeat (a slot among <c>$instance#k</c> subscriptions, reused once a dead instance's
    /// lease has passed) and returns how many instances are alive, this one included.
    /// </summary>
    private async Task<int> BeatAsync(Dictionary<string, EventSubscription> stored, CancellationToken cancellationToken)
    {
        Instant now = _clock.GetCurrentInstant();
        if (Interlocked.Exchange(ref _beating, 1) == 1)
        {
            // Another pass in this process is beating: count without it.
            return Math.Max(1, Alive(stored, now));
        }

        try
        {
            if (_heartbeat is { } beat && stored.GetValueOrDefault(beat.Name) is { } mine && IsMine(mine, now))
            {
                _heartbeat = await KeepAsync(mine, now, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _heartbeat = null;
                for (int slot = 0; _heartbeat is null && slot < 4_096; slot++)
                {
                    string name = InstancePrefix + slot.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (stored.GetValueOrDefault(name) is not { } existing)
                    {
                        if (await _subscriptions.TryAddAsync(new EventSubscription { Name = name }, cancellationToken).ConfigureAwait(false)
                            && await _subscriptions.FindAsync(name, cancellationToken).ConfigureAwait(false) is { } added)
                        {
                            stored[name] = added;
                            _heartbeat = await KeepAsync(added with { LeaseUntil = null }, now, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    else if (existing.LeaseOwner is null || existing.LeaseUntil <= now || IsMine(existing, now))
                    {
                        _heartbeat = await KeepAsync(existing with { LeaseUntil = IsMine(existing, now) ? existing.LeaseUntil : null }, now, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (_heartbeat is not null)
            {
                stored[_heartbeat.Name] = _heartbeat;
            }
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }

        return Math.Max(1, Alive(stored, now) + (_heartbeat is null ? 1 : 0));
    }

    private static int Alive(Dictionary<string, EventSubscription> stored, Instant now) =>
        stored.Values.Count(s => s.Name.StartsWith(InstancePrefix, StringComparison.Ordinal) && s.LeaseOwner is not null && s.LeaseUntil > now);

    private bool IsMine(EventSubscription subscription, Instant now) =>
        string.Equals(subscription.LeaseOwner, _owner, StringComparison.Ordinal) && subscription.LeaseUntil > now;

    private static string NameOf(Lane lane, LogPartition partition) =>
        partition.Count == 1
            ? lane.Registration.Name
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{lane.Registration.Name}#{partition.Index}/{partition.Count}");

    private Duration Backoff(int attempts)
    {
        Duration delay = _options.RetryDelay;
        for (int i = 1; i < attempts && delay < _options.MaxRetryDelay; i++)
        {
            delay += delay;
        }

        return delay < _options.MaxRetryDelay ? delay : _options.MaxRetryDelay;
    }

    private IFunnelHandler HandlerOf(Lane lane)
    {
        if (lane.Handler is { } handler)
        {
            return handler;
        }

        try
        {
            return lane.Handler = (IFunnelHandler)_services.GetRequiredService(lane.Registration.HandlerType);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The Funnel event handler '{lane.Registration.Name}' ({lane.Registration.HandlerType.Name}) cannot be created: {ex.Message}", ex);
        }
    }

    private static string Describe(Exception ex) => $"{ex.GetType().Name}: {ex.Message}";

    private sealed class Lane(FunnelHandlerRegistration registration)
    {
        public FunnelHandlerRegistration Registration { get; } = registration;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public IFunnelHandler? Handler { get; set; }
    }

    private sealed record LaneResult(int Delivered, ImmutableArray<PipelineFailure> Failures, bool CaughtUp, EventSubscription? Held = null);
}
