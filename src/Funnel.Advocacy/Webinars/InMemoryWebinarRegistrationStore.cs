using System.Collections.Immutable;
using Funnel.Advocacy;
using NodaTime;

namespace Funnel.Webinars;

/// <summary>The in-memory <see cref="IWebinarRegistrationStore"/>: state lives only as long as the process.</summary>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
public sealed class InMemoryWebinarRegistrationStore : IWebinarRegistrationStore
{
    private readonly InMemoryDocuments<(string Webinar, LeadId Lead), WebinarRegistration> _registrations =
        new(r => (r.Session.Webinar, r.Lead), r => r.Version, (r, v) => r with { Version = v });

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="webinar"/> is <see langword="null"/>.</exception>
    public Task<WebinarRegistration?> FindAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        return Task.FromResult(_registrations.Find((webinar, lead)));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<WebinarRegistration>> ListUnrecordedNoShowsAsync(
        Instant now, int max, CancellationToken cancellationToken = default) =>
        Task.FromResult<ImmutableArray<WebinarRegistration>>(
            [.. _registrations.List(r => !r.Attended && !r.NoShowRecorded && r.Session.EndsAt <= now, r => r.Session.EndsAt, max)]);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="registration"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(WebinarRegistration registration, CancellationToken cancellationToken = default) =>
        Task.FromResult(_registrations.TryAdd(registration));

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another webinar or lead.</exception>
    public Task<bool> TryUpdateAsync(
        WebinarRegistration current, WebinarRegistration replacement, CancellationToken cancellationToken = default) =>
        Task.FromResult(_registrations.TryUpdate(current, replacement));
}
