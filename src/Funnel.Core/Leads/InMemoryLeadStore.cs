using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Privacy;

namespace Funnel.Leads;

/// <summary>An <see cref="ILeadStore"/> that keeps profiles in memory: the default, and a fake for tests.</summary>
/// <remarks>
/// Writes are serialised by a lock; reads are lock-free. Nothing is persisted. As an <see cref="IPersonalDataStore"/>
/// it exports a lead's profile and erases it by <see cref="PersonalDataRedaction.RedactProfile"/>, keeping it under
/// its tombstone address.
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once.</threadsafety>
public sealed class InMemoryLeadStore : ILeadStore, IPersonalDataStore
{
    private readonly ConcurrentDictionary<string, LeadProfile> _byEmail = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<LeadId, LeadProfile> _byId = new();
    private readonly Lock _gate = new();

    /// <summary>Gets the number of stored leads.</summary>
    public int Count => _byEmail.Count;

    /// <summary>Returns a snapshot of all stored leads, for example to build a <see cref="Segments.LeadPopulation"/>.</summary>
    /// <returns>The leads, in no particular order.</returns>
    public IReadOnlyList<LeadProfile> Snapshot() => [.. _byEmail.Values];

    /// <inheritdoc/>
    public Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_byId.GetValueOrDefault(id));
    }

    /// <inheritdoc/>
    public Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(email.Value is null ? null : _byEmail.GetValueOrDefault(email.Value));
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<LeadProfile>> FindManyAsync(IEnumerable<LeadId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        ImmutableArray<LeadProfile>.Builder found = ImmutableArray.CreateBuilder<LeadProfile>();
        HashSet<LeadId> seen = [];
        foreach (LeadId id in ids)
        {
            if (seen.Add(id) && _byId.TryGetValue(id, out LeadProfile? profile))
            {
                found.Add(profile);
            }
        }

        return Task.FromResult(found.DrainToImmutable());
    }

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.Email.Value is null)
        {
            throw new ArgumentException("The email address is required.", nameof(profile));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_byEmail.ContainsKey(profile.Email.Value))
            {
                return Task.FromResult(false);
            }

            if (_byId.TryGetValue(profile.Id, out LeadProfile? holder))
            {
                throw new InvalidOperationException($"Lead {profile.Id} already has the email '{holder.Email}'.");
            }

            LeadProfile stored = profile with { Version = 0 };
            _byId[stored.Id] = stored;
            _byEmail[stored.Email.Value] = stored;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (replacement.Id != current.Id || replacement.Email != current.Email)
        {
            throw new ArgumentException($"The replacement of lead {current.Id} must keep its id and email address.", nameof(replacement));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (current.Email.Value is null || !_byEmail.TryGetValue(current.Email.Value, out LeadProfile? stored)
                || stored.Id != current.Id || stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            LeadProfile next = replacement with { Version = current.Version + 1 };
            _byId[next.Id] = next;
            _byEmail[current.Email.Value] = next;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    /// <value><c>leads</c>.</value>
    public string Name => "leads";

    /// <inheritdoc/>
    public Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_byId.TryGetValue(subject.LeadId, out LeadProfile? profile))
        {
            return Task.FromResult<IReadOnlyList<PersonalRecord>>([]);
        }

        ImmutableSortedDictionary<string, string?> fields = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [
            new KeyValuePair<string, string?>("email", profile.Email.Value),
            new KeyValuePair<string, string?>("profile", JsonSerializer.Serialize(profile, FunnelJson.Options)),
        ]);
        return Task.FromResult<IReadOnlyList<PersonalRecord>>([new PersonalRecord(Name, "lead", profile.Id.ToString(), fields)]);
    }

    /// <inheritdoc/>
    public Task<ErasureOutcome> EraseAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_byId.TryGetValue(subject.LeadId, out LeadProfile? stored))
            {
                return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.NothingFound, 0));
            }

            if (stored.ErasedAt is not null)
            {
                return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.AlreadyErased, 0));
            }

            if (_byEmail.TryGetValue(subject.Tombstone.Value, out LeadProfile? holder) && holder.Id != stored.Id)
            {
                throw new InvalidOperationException($"The tombstone of lead {stored.Id} belongs to lead {holder.Id}.");
            }

            LeadProfile erased = PersonalDataRedaction.RedactProfile(stored, subject) with { Version = stored.Version + 1 };
            _byEmail.TryRemove(stored.Email.Value, out _);
            _byEmail[erased.Email.Value] = erased;
            _byId[erased.Id] = erased;
            return Task.FromResult(new ErasureOutcome(Name, ErasureStatus.Erased, 1));
        }
    }
}
