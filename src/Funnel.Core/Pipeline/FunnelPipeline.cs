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
/// </remarks>
/// <threadsafety>
/// All members are thread-safe. Within one process a handler is never run by two passes at once; across processes
/// the stored positions are compare-and-set, so two instances may deliver an event twice but never skip one.
/// </threadsafety>
public sealed class FunnelPipeline
{
    /// <summary>The most pending events <see cref="GetStatusAsync"/> counts per handler.</summary>
    public const int StatusCountLimit = 10_000;

    private readonly IFunnelEventLog _log;
    private readonly IEventSubscriptionStore _subscriptions;
    private readonly IParkedEventStore _parked;
    private readonly IServiceProvider _services;
    private readonly IClock _clock;
    private readonly FunnelPipelineOptions _options;
    private readonly ImmutableArray<Lane> _lanes;

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
    }

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
        LaneResult[] results = await Task.WhenAll(_lanes.Select(lane => RunLaneAsync(lane, cancellationToken))).ConfigureAwait(false);
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
        ImmutableArray<PipelineHandlerStatus>.Builder statuses = ImmutableArray.CreateBuilder<PipelineHandlerStatus>(_lanes.Length);
        foreach (Lane lane in _lanes)
        {
            EventSubscription? subscription = await _subscriptions.FindAsync(lane.Registration.Name, cancellationToken).ConfigureAwait(false);
            long position = subscription?.Position ?? 0;
            IReadOnlyList<LoggedEvent> pending = await _log.ReadAsync(position, StatusCountLimit, cancellationToken).ConfigureAwait(false);
            statuses.Add(new PipelineHandlerStatus(
                lane.Registration.Name, position, pending.Count, subscription?.Attempts ?? 0, subscription?.RetryAt, subscription?.LastError));
        }

        return statuses.MoveToImmutable();
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

    private async Task<LaneResult> RunLaneAsync(Lane lane, CancellationToken cancellationToken)
    {
        if (!await lane.Gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            // Another pass in this process is running this handler.
            return new LaneResult(0, [], false);
        }

        try
        {
            return await DeliverBatchAsync(lane, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lane.Gate.Release();
        }
    }

    private async Task<LaneResult> DeliverBatchAsync(Lane lane, CancellationToken cancellationToken)
    {
        string name = lane.Registration.Name;
        EventSubscription subscription = await LoadAsync(name, cancellationToken).ConfigureAwait(false);
        Instant now = _clock.GetCurrentInstant();
        if (subscription.RetryAt is { } retryAt && retryAt > now)
        {
            return new LaneResult(0, [], false);
        }

        IReadOnlyList<LoggedEvent> batch = await _log.ReadAsync(subscription.Position, _options.BatchSize, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return new LaneResult(0, [], true);
        }

        IFunnelHandler handler = HandlerOf(lane);
        long position = subscription.Position;
        int attempts = subscription.Attempts;
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
                await SaveAsync(subscription, position, 0, null, null, CancellationToken.None).ConfigureAwait(false);
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
                    await SaveAsync(subscription, position, attempts, retry, Describe(ex), cancellationToken).ConfigureAwait(false);
                    return new LaneResult(delivered, [.. failures], false);
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

        bool saved = await SaveAsync(subscription, position, 0, null, null, cancellationToken).ConfigureAwait(false);
        return new LaneResult(delivered, [.. failures], saved && batch.Count < _options.BatchSize);
    }

    private async Task<EventSubscription> LoadAsync(string name, CancellationToken cancellationToken)
    {
        EventSubscription? subscription = await _subscriptions.FindAsync(name, cancellationToken).ConfigureAwait(false);
        if (subscription is not null)
        {
            return subscription;
        }

        await _subscriptions.TryAddAsync(new EventSubscription { Name = name }, cancellationToken).ConfigureAwait(false);
        return await _subscriptions.FindAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The event subscription store lost the subscription '{name}' it just added.");
    }

    /// <summary>Stores the handler's progress; returns false when another instance moved it first (its work is redone, never lost).</summary>
    private Task<bool> SaveAsync(EventSubscription current, long position, int attempts, Instant? retryAt, string? error, CancellationToken cancellationToken)
    {
        if (current.Position == position && current.Attempts == attempts && current.RetryAt == retryAt && current.LastError == error)
        {
            return Task.FromResult(true);
        }

        return _subscriptions.TryUpdateAsync(
            current, current with { Position = position, Attempts = attempts, RetryAt = retryAt, LastError = error }, cancellationToken);
    }

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

    private sealed record LaneResult(int Delivered, ImmutableArray<PipelineFailure> Failures, bool CaughtUp);
}
