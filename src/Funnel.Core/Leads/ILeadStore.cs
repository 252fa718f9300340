using System.Collections.Concurrent;

namespace Funnel.Leads;

/// <summary>Stores lead profiles, one per normalised email address.</summary>
/// <remarks>
/// <para>
/// <see cref="UpsertAsync"/> is the only write: it reads the profile with the given email (or none), applies the
/// change and stores the result atomically, so two concurrent opt-ins with the same address create one lead.
/// A database implementation runs it in a transaction with a unique index on the email (retrying on a
/// conflict), which is why <c>change</c> must be a pure function that may run more than once.
/// </para>
/// <para>The default, <see cref="InMemoryLeadStore"/>, keeps profiles in memory.</para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface ILeadStore
{
    /// <summary>Finds a lead by id.</summary>
    /// <param name="id">The lead id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The profile, or <see langword="null"/> when there is none.</returns>
    Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default);

    /// <summary>Finds a lead by normalised email address.</summary>
    /// <param name="email">The address.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The profile, or <see langword="null"/> when there is none.</returns>
    Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default);

    /// <summary>Atomically creates or changes the lead with the given email address.</summary>
    /// <param name="email">The address that identifies the lead.</param>
    /// <param name="change">Returns the new profile from the current one (<see langword="null"/> when there is none); returning the same instance stores nothing. It must be pure: it may run more than once.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored profile.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="change"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="email"/> is <c>default</c>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="change"/> returned a profile with another email, or an id that another lead has.</exception>
    Task<LeadProfile> UpsertAsync(EmailAddress email, Func<LeadProfile?, LeadProfile> change, CancellationToken cancellationToken = default);
}

/// <summary>An <see cref="ILeadStore"/> that keeps profiles in memory: the default, and a fake for tests.</summary>
/// <remarks>Writes are serialised by a lock (each change runs exactly once); reads are lock-free. Nothing is persisted.</remarks>
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
    public Task<LeadProfile> UpsertAsync(EmailAddress email, Func<LeadProfile?, LeadProfile> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (email.Value is null)
        {
            throw new ArgumentException("The email address is required.", nameof(email));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            LeadProfile? current = _byEmail.GetValueOrDefault(email.Value);
            LeadProfile next = change(current) ?? throw new InvalidOperationException("The change returned null.");
            if (ReferenceEquals(next, current))
            {
                return Task.FromResult(next);
            }

            if (next.Email != email)
            {
                throw new InvalidOperationException($"The change returned a profile for '{next.Email}', not '{email}'.");
            }

            if (_byId.TryGetValue(next.Id, out LeadProfile? holder) && holder.Email != email)
            {
                throw new InvalidOperationException($"Lead {next.Id} already has the email '{holder.Email}'.");
            }

            if (current is not null && current.Id != next.Id)
            {
                _byId.TryRemove(current.Id, out _);
            }

            _byId[next.Id] = next;
            _byEmail[email.Value] = next;
            return Task.FromResult(next);
        }
    }
}
