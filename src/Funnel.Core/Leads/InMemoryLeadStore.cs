using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Funnel.Leads;

/// <summary>An <see cref="ILeadStore"/> that keeps profiles in memory: the default, and a fake for tests.</summary>
/// <remarks>Writes are serialised by a lock; reads are lock-free. Nothing is persisted.</remarks>
/// <threadsafety>Instances are safe to use from many threads at once.</threadsafety>
public sealed class InMemoryLeadStore : ILeadStore
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
}
