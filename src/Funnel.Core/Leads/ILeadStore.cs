using System.Collections.Immutable;

namespace Funnel.Leads;

/// <summary>Stores lead profiles, one per normalised email address.</summary>
/// <remarks>
/// <para>
/// The store follows Funnel's store convention: keyed finds, <see cref="TryAddAsync"/> inserts a profile only when
/// its email address is absent, and <see cref="TryUpdateAsync"/> replaces a profile only when the stored
/// <see cref="LeadProfile.Version"/> is still the one read, storing the replacement with the next version. Two
/// concurrent opt-ins with one address therefore create one lead: the loser re-reads and applies its change again.
/// A database implementation uses <c>INSERT … ON CONFLICT (email) DO NOTHING</c> and <c>UPDATE … WHERE version = @v</c>.
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

    /// <summary>Adds a profile unless a lead with its email address exists (insert-if-absent).</summary>
    /// <param name="profile">The new profile; it is stored with version 0.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the email address is taken.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="profile"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The profile's email address is <c>default</c>.</exception>
    /// <exception cref="InvalidOperationException">Another lead (with another email address) has the profile's id.</exception>
    Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default);

    /// <summary>Replaces <paramref name="current"/> with <paramref name="replacement"/> if the stored version is still <paramref name="current"/>'s (replace-if-version).</summary>
    /// <param name="current">The profile as read.</param>
    /// <param name="replacement">The new profile, with the same id and email address; it is stored with <paramref name="current"/>'s version plus one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the profile changed (or was never stored) since it was read.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="replacement"/> has another id or email address than <paramref name="current"/>.</exception>
    Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default);

    /// <summary>Finds the leads with the given ids, for a batch (such as the leads of the sends a dispatcher claimed).</summary>
    /// <remarks>The default implementation calls <see cref="FindAsync"/> once per distinct id; a database store overrides it with one query.</remarks>
    /// <param name="ids">The lead ids.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The profiles found, one per distinct id in the order first given; unknown ids are left out.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is <see langword="null"/>.</exception>
    async Task<ImmutableArray<LeadProfile>> FindManyAsync(IEnumerable<LeadId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ImmutableArray<LeadProfile>.Builder found = ImmutableArray.CreateBuilder<LeadProfile>();
        foreach (LeadId id in ids.Distinct())
        {
            if (await FindAsync(id, cancellationToken).ConfigureAwait(false) is { } profile)
            {
                found.Add(profile);
            }
        }

        return found.DrainToImmutable();
    }
}
