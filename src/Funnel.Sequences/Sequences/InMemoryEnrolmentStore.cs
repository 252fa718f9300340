using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The in-memory <see cref="IEnrolmentStore"/>: the default, and a fake for tests.</summary>
/// <remarks>Writes and batch reads run under one lock, so a batch is applied as one atomic step.</remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryEnrolmentStore : IEnrolmentStore
{
    private readonly Dictionary<LeadId, ImmutableArray<Enrolment>> _byLead = [];
    private readonly Dictionary<EnrolmentId, Enrolment> _byId = [];
    private readonly Dictionary<(LeadId Lead, LocalDate Day), string> _reservations = [];
    private readonly Lock _gate = new();

    /// <summary>Returns every stored enrolment.</summary>
    /// <returns>A snapshot, in no particular order.</returns>
    public IReadOnlyList<Enrolment> Snapshot()
    {
        lock (_gate)
        {
            return [.. _byId.Values];
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(enrolment);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ImmutableArray<Enrolment> list = _byLead.GetValueOrDefault(enrolment.LeadId, []);
            bool blocked = _byId.ContainsKey(enrolment.Id) || reEntry != ReEntryPolicy.Always && list.Any(e => e.Sequence == enrolment.Sequence
                && (reEntry == ReEntryPolicy.Never || e.Status is EnrolmentStatus.Active or EnrolmentStatus.AwaitingConsent));
            if (blocked)
            {
                return Task.FromResult(false);
            }

            Enrolment stored = enrolment with { Version = 0 };
            _byLead[enrolment.LeadId] = list.Add(stored);
            _byId[stored.Id] = stored;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_byId.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_byLead.GetValueOrDefault(lead, []));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leads);
        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<Enrolment>.Builder found = ImmutableArray.CreateBuilder<Enrolment>();
        HashSet<LeadId> seen = [];
        lock (_gate)
        {
            foreach (LeadId lead in leads)
            {
                if (seen.Add(lead) && _byLead.TryGetValue(lead, out ImmutableArray<Enrolment> list))
                {
                    found.AddRange(list);
                }
            }
        }

        return Task.FromResult(found.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(Update(current, replacement));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Id, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<EnrolmentId>.Builder won = ImmutableArray.CreateBuilder<EnrolmentId>();
        lock (_gate)
        {
            foreach ((Enrolment current, Enrolment replacement) in updates)
            {
                ArgumentNullException.ThrowIfNull(replacement, nameof(updates));
                if (Update(current, replacement))
                {
                    won.Add(current.Id);
                }
            }
        }

        return Task.FromResult(won.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(Reserve(lead, day, key));
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(reservations, static r => r.Key, nameof(reservations));
        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>();
        lock (_gate)
        {
            foreach ((LeadId lead, LocalDate day, string key) in reservations)
            {
                if (Reserve(lead, day, key))
                {
                    won.Add(key);
                }
            }
        }

        return Task.FromResult(won.DrainToImmutable());
    }

    private bool Update(Enrolment current, Enrolment replacement)
    {
        if (!_byId.TryGetValue(current.Id, out Enrolment? stored) || stored.Version != current.Version)
        {
            return false;
        }

        Enrolment next = replacement with { Id = stored.Id, LeadId = stored.LeadId, Version = current.Version + 1 };
        ImmutableArray<Enrolment> list = _byLead[stored.LeadId];
        _byLead[stored.LeadId] = list.SetItem(list.IndexOf(stored), next);
        _byId[stored.Id] = next;
        return true;
    }

    private bool Reserve(LeadId lead, LocalDate day, string key)
    {
        if (_reservations.TryGetValue((lead, day), out string? holder))
        {
            return string.Equals(holder, key, StringComparison.Ordinal);
        }

        _reservations[(lead, day)] = key;
        return true;
    }
}
