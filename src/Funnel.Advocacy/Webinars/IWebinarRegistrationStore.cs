using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Webinars;

/// <summary>Stores each lead's registration for each webinar; replace the in-memory default with durable storage.</summary>
/// <remarks>
/// <para>A registration is keyed by its webinar (<see cref="WebinarSession.Webinar"/> of its session) and lead, so a
/// lead holds one registration per webinar: of racing registrations, <see cref="TryAddAsync"/> lets one through.</para>
/// <para>Follows the store convention: insert-if-absent and replace-if-version (the store bumps
/// <see cref="WebinarRegistration.Version"/>). Run the <c>WebinarRegistrationStoreSpecification</c> tests against an
/// implementation.</para>
/// </remarks>
/// <threadsafety>Implementations must be thread-safe; each member is atomic.</threadsafety>
public interface IWebinarRegistrationStore
{
    /// <summary>Returns a lead's registration for a webinar.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The registration, or <see langword="null"/> when none.</returns>
    Task<WebinarRegistration?> FindAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Returns registrations whose session ended at or before <paramref name="now"/>, not attended and whose no-show is not recorded, by session end.</summary>
    /// <param name="now">The instant sessions must have ended by.</param>
    /// <param name="max">The most registrations to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The registrations; empty when none.</returns>
    Task<ImmutableArray<WebinarRegistration>> ListUnrecordedNoShowsAsync(
        Instant now, int max, CancellationToken cancellationToken = default);

    /// <summary>Adds a registration unless the lead has one for the webinar; the stored version is 0.</summary>
    /// <param name="registration">The registration.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added; <see langword="false"/> when the key exists.</returns>
    Task<bool> TryAddAsync(WebinarRegistration registration, CancellationToken cancellationToken = default);

    /// <summary>Replaces a registration when its stored version is still <paramref name="current"/>'s.</summary>
    /// <param name="current">The registration as read.</param>
    /// <param name="replacement">The new registration, same webinar and lead; stored with version <c>current.Version + 1</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    Task<bool> TryUpdateAsync(
        WebinarRegistration current, WebinarRegistration replacement, CancellationToken cancellationToken = default);
}
