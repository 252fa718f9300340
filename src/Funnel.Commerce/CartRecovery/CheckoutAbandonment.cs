using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>Emits <see cref="CheckoutAbandoned"/> once for each checkout that reached its deadline with no order.</summary>
/// <remarks>
/// <para>
/// The <c>cart-recovery</c> pipeline handler records each <see cref="CheckoutStarted"/> in the <see cref="ICheckoutStore"/>
/// and closes it on an <see cref="OrderPlaced"/> for its offer. <see cref="EmitDueAsync"/> (run every
/// <see cref="CartRecoveryOptions.Interval"/> by the <c>cart-recovery</c> job of <c>AddFunnelHosting()</c>) claims the
/// open checkouts whose <see cref="TrackedCheckout.DueAt"/> passed, with a lease, so two app instances on one database
/// never take the same checkout. Before emitting, it reads the lead's events once more: an order for the offer at or
/// after the checkout's start that the handler has not seen yet closes the checkout instead.
/// </para>
/// <para>
/// The event's id derives from the <see cref="CheckoutStarted"/> id and its <see cref="FunnelEvent.OccurredAt"/> is the
/// checkout's <see cref="TrackedCheckout.DueAt"/>, so an emission repeated after a crash (between the append and the
/// store update, or by an instance that took over an expired claim) is the same event, which the
/// <see cref="IFunnelEventLog"/> appends once. "Now" comes from the <see cref="IClock"/>.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; runs in several processes at once are safe.</threadsafety>
public sealed class CheckoutAbandonment
{
    /// <summary>The most events of one lead read to look for an order the handler has not seen yet.</summary>
    private const int LeadHistoryLimit = 10_000;

    private static readonly Duration Lease = Duration.FromMinutes(5);

    private readonly ICheckoutStore _store;
    private readonly IFunnelEventLog _log;
    private readonly IClock _clock;
    private readonly CartRecoveryOptions _options;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Initializes the service.</summary>
    /// <param name="store">The tracked checkouts.</param>
    /// <param name="log">The event log the abandonments are appended to.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="options">The cart-recovery options.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public CheckoutAbandonment(ICheckoutStore store, IFunnelEventLog log, IClock clock, IOptions<CartRecoveryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _log = log;
        _clock = clock;
        _options = options.Value;
    }

    /// <summary>Emits <see cref="CheckoutAbandoned"/> for every open checkout that is due now.</summary>
    /// <param name="cancellationToken">Cancels the run; claimed checkouts not yet emitted are claimable again once their lease ends.</param>
    /// <returns>The abandonments this call appended to the log (a repeat of one already there is not counted).</returns>
    public async Task<int> EmitDueAsync(CancellationToken cancellationToken = default)
    {
        int emitted = 0;
        while (true)
        {
            ImmutableArray<TrackedCheckout> claimed = await _store.ClaimDueAsync(
                _clock.GetCurrentInstant(), _options.BatchSize, Lease, _owner, cancellationToken).ConfigureAwait(false);
            foreach (TrackedCheckout checkout in claimed)
            {
                emitted += await EmitAsync(checkout, cancellationToken).ConfigureAwait(false);
            }

            if (claimed.Length < _options.BatchSize)
            {
                return emitted;
            }
        }
    }

    /// <summary>The id of the abandonment of a checkout, derived from its <see cref="CheckoutStarted"/> id.</summary>
    internal static EventId AbandonmentOf(EventId checkout) => EventId.Derive(checkout, EventTypes.CheckoutAbandoned);

    private async Task<int> EmitAsync(TrackedCheckout checkout, CancellationToken cancellationToken)
    {
        if (await OrderedSinceAsync(checkout, cancellationToken).ConfigureAwait(false))
        {
            await _store.TryUpdateAsync(checkout, checkout with { Status = CheckoutStatus.Ordered }, cancellationToken).ConfigureAwait(false);
            return 0;
        }

        var abandoned = new CheckoutAbandoned
        {
            Id = AbandonmentOf(checkout.Checkout),
            LeadId = checkout.Lead,
            OccurredAt = checkout.DueAt,
            Offer = checkout.Offer,
        };
        int appended = await _log.AppendAsync([abandoned], CancellationToken.None).ConfigureAwait(false);

        // A lost update means the checkout changed since the claim (closed by an order or restarted): the event stands.
        await _store.TryUpdateAsync(checkout, checkout with { Status = CheckoutStatus.Abandoned }, CancellationToken.None).ConfigureAwait(false);
        return appended;
    }

    private async Task<bool> OrderedSinceAsync(TrackedCheckout checkout, CancellationToken cancellationToken)
    {
        IReadOnlyList<LoggedEvent> history = await _log.ReadLeadAsync(checkout.Lead, LeadHistoryLimit, cancellationToken).ConfigureAwait(false);
        return history.Any(l => l.Event is OrderPlaced order && order.Offer == checkout.Offer && order.OccurredAt >= checkout.StartedAt);
    }
}
