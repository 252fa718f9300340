using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Webinars;
using NodaTime;
using static Funnel.Storage.DocumentColumnRole;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>The PostgreSQL <see cref="IWebinarRegistrationStore"/>: table <c>webinar_registrations</c>, keyed by webinar and lead.</summary>
/// <remarks>
/// <c>unrecorded_ends_at</c> holds the session's end while the lead neither attended nor has a recorded no-show, so
/// <see cref="ListUnrecordedNoShowsAsync"/> scans a partial index; it keeps microseconds, and the store drops a session
/// that ends later within <c>now</c>'s microsecond (see <see cref="MicrosecondBound"/>). The session's local start is
/// stored with its zone id (<see cref="ZonedDateTimeJsonConverter"/>) and read back through the app's
/// <see cref="IDateTimeZoneProvider"/>.
/// </remarks>
/// <threadsafety>All members are thread-safe and atomic.</threadsafety>
internal sealed class PgWebinarRegistrationStore : IWebinarRegistrationStore
{
    private readonly PgDocumentTable<WebinarRegistration> _registrations;

    public PgWebinarRegistrationStore(PgDatabase database, IDateTimeZoneProvider zones)
    {
        JsonSerializerOptions json = new(FunnelJson.Options);
        json.Converters.Add(new ZonedDateTimeJsonConverter(zones));
        _registrations = new(
            database,
            "webinar_registrations",
            [
                new("webinar", PrimaryKey, static r => r.Session.Webinar),
                new("lead_id", PrimaryKey, static r => r.Lead.Value),
                new("unrecorded_ends_at", Derived, static r => UnrecordedEndsAt(r)),
            ],
            new(static r => r.Version, static (r, v) => r with { Version = v }),
            json);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="webinar"/> is <see langword="null"/>.</exception>
    public Task<WebinarRegistration?> FindAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        return _registrations.FindAsync([webinar, lead.Value], cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<WebinarRegistration>> ListUnrecordedNoShowsAsync(
        Instant now, int max, CancellationToken cancellationToken = default)
    {
        ImmutableArray<WebinarRegistration> registrations = await _registrations.ListAsync(
            $"SELECT document, version FROM {_registrations.Name} WHERE unrecorded_ends_at <= @now " +
            "ORDER BY unrecorded_ends_at, seq LIMIT @max",
            [("now", now)],
            max,
            cancellationToken).ConfigureAwait(false);
        return MicrosecondBound.Keep(registrations, r => UnrecordedEndsAt(r) <= now);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="registration"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(WebinarRegistration registration, CancellationToken cancellationToken = default) =>
        _registrations.TryAddAsync(registration, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement has another webinar or lead.</exception>
    public Task<bool> TryUpdateAsync(
        WebinarRegistration current, WebinarRegistration replacement, CancellationToken cancellationToken = default) =>
        _registrations.TryUpdateAsync(current, replacement, cancellationToken);

    private static Instant? UnrecordedEndsAt(WebinarRegistration registration) =>
        registration.Attended || registration.NoShowRecorded ? null : registration.Session.EndsAt;
}
