using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Events;
using Funnel.Privacy;

namespace Funnel.Pipeline;

/// <summary>Keeps the event log in memory, for tests, samples and single-process development.</summary>
/// <remarks>
/// Everything is lost when the process ends, and memory grows with every event: use a storage package in production.
/// As an <see cref="IPersonalDataStore"/> it exports a lead's events and erases them in place by
/// <see cref="PersonalDataRedaction"/>: the events stay, with their positions, so counts do not change.
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryFunnelEventLog : IFunnelEventLog, IPersonalDataStore
{
    private readonly Lock _gate = new();
    private readonly List<LoggedEvent> _events = [];
    private readonly HashSet<EventId> _ids = [];
    private readonly Dictionary<LeadId, List<int>> _byLead = [];

    /// <summary>Gets the position of the last event appended.</summary>
    /// <value>0 while the log is empty.</value>
    public long Head
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    /// <inheritdoc/>
    public Task<int> AppendAsync(IReadOnlyList<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (FunnelEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
        }

        int appended = 0;
        lock (_gate)
        {
            foreach (FunnelEvent e in events)
            {
                if (!_ids.Add(e.Id))
                {
                    continue;
                }

                _events.Add(new LoggedEvent(_events.Count + 1, e));
                if (e is LeadEvent { LeadId: var lead })
                {
                    if (!_byLead.TryGetValue(lead, out List<int>? indexes))
                    {
                        _byLead[lead] = indexes = [];
                    }

                    indexes.Add(_events.Count - 1);
                }

                appended++;
            }
        }

        return Task.FromResult(appended);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<LoggedEvent>> ReadAsync(long after, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            if (after >= _events.Count)
            {
                return Task.FromResult<IReadOnlyList<LoggedEvent>>([]);
            }

            int start = (int)after;
            int count = Math.Min(max, _events.Count - start);
            return Task.FromResult<IReadOnlyList<LoggedEvent>>(_events.GetRange(start, count));
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<LoggedEvent>> ReadLeadAsync(LeadId lead, int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            if (!_byLead.TryGetValue(lead, out List<int>? indexes))
            {
                return Task.FromResult<IReadOnlyList<LoggedEvent>>([]);
            }

            return Task.FromResult<IReadOnlyList<LoggedEvent>>([.. indexes.Take(max).Select(i => _events[i])]);
        }
    }

    /// <summary>Returns every event in the log, in order.</summary>
    /// <returns>A copy of the events.</returns>
    public IReadOnlyList<FunnelEvent> Snapshot()
    {
        lock (_gate)
        {
            return [.. _events.Select(static e => e.Event)];
        }
    }

    /// <inheritdoc/>
    /// <value><c>events</c>.</value>
    public string Name => "events";

    /// <inheritdoc/>
    public Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        lock (_gate)
        {
            if (!_byLead.TryGetValue(subject.LeadId, out List<int>? indexes))
            {
                return Task.FromResult<IReadOnlyList<PersonalRecord>>([]);
            }

            return Task.FromResult<IReadOnlyList<PersonalRecord>>([.. indexes.Select(i => Record(_events[i]))]);
        }
    }

    /// <inheritdoc/>
    public Task<ErasureOutcome> EraseAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        int changed = 0;
        lock (_gate)
        {
            if (!_byLead.TryGetValue(subject.LeadId, out List<int>? indexes))
            {
                return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.NothingFound, 0));
            }

            foreach (int i in indexes)
            {
                LoggedEvent logged = _events[i];
                FunnelEvent redacted = PersonalDataRedaction.RedactEvent(logged.Event, subject);
                if (!redacted.Equals(logged.Event))
                {
                    _events[i] = logged with { Event = redacted };
                    changed++;
                }
            }
        }

        return Task.FromResult(new ErasureOutcome(Name, changed > 0 ? ErasureStatus.Erased : ErasureStatus.NothingFound, changed));
    }

    private PersonalRecord Record(LoggedEvent logged) => new(
        Name,
        logged.Event.EventType,
        logged.Event.Id.ToString(),
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [
            new KeyValuePair<string, string?>("position", logged.Position.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string?>("event", JsonSerializer.Serialize<object>(logged.Event, FunnelJson.Options)),
        ]));
}
