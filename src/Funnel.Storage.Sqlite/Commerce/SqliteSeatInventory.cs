using Funnel.Offers;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="ISeatInventory"/>: one row per hold, expiring by the injected <see cref="IClock"/>.</summary>
/// <remarks>
/// A reservation reads "now", drops the offer's expired holds, looks for the lead's hold, counts the taken seats and
/// inserts the new hold in one write transaction; SQLite has one writer, so confirmed seats plus unexpired holds never
/// exceed the capacity. A confirmation is one <c>UPDATE</c> of an unconfirmed, unexpired hold, so it succeeds once.
/// </remarks>
internal sealed class SqliteSeatInventory : ISeatInventory
{
    private const string DropExpired = "DELETE FROM seat_holds WHERE offer = $offer AND confirmed = 0 AND expires_at <= $now";

    internal const string FindHold =
        "SELECT id, expires_at FROM seat_holds WHERE offer = $offer AND lead_id = $lead AND confirmed = 0 AND expires_at > $now LIMIT 1";

    internal const string CountTaken = "SELECT count(*) FROM seat_holds WHERE offer = $offer AND (confirmed = 1 OR expires_at > $now)";

    private const string Insert = "INSERT INTO seat_holds (id, offer, lead_id, expires_at) VALUES ($id, $offer, $lead, $expires)";

    private const string Confirm =
        "UPDATE seat_holds SET confirmed = 1 WHERE id = $id AND offer = $offer AND confirmed = 0 AND expires_at > $now";

    private const string Release = "DELETE FROM seat_holds WHERE id = $id AND offer = $offer";

    private readonly SqliteDatabase _database;
    private readonly IClock _clock;

    public SqliteSeatInventory(SqliteDatabase database, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clock);
        _database = database;
        _clock = clock;
    }

    public Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        return _database.WriteAsync(
            s =>
            {
                Instant now = _clock.GetCurrentInstant();
                s.Execute(DropExpired, ("$offer", offer.Value), ("$now", now));
                SeatReservation? held = s.QueryFirst(
                    FindHold,
                    r => (SeatReservation?)new SeatReservation(Guid.Parse(r.GetString(0)), offer, lead, r.GetInstant(1)),
                    ("$offer", offer.Value),
                    ("$lead", lead.Value),
                    ("$now", now));
                if (held is not null)
                {
                    return held;
                }

                long taken = (long)s.Scalar(CountTaken, ("$offer", offer.Value), ("$now", now))!;
                if (taken >= limit.Capacity)
                {
                    return null;
                }

                SeatReservation reservation = new(Guid.CreateVersion7(), offer, lead, now + limit.HoldFor);
                s.Execute(Insert, ("$id", reservation.Id), ("$offer", offer.Value), ("$lead", lead.Value), ("$expires", reservation.ExpiresAt));
                return (SeatReservation?)reservation;
            },
            cancellationToken);
    }

    public Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default) =>
        _database.WriteAsync(
            s => s.Execute(Confirm, ("$id", reservation.Id), ("$offer", reservation.Offer.Value), ("$now", _clock.GetCurrentInstant())) == 1,
            cancellationToken);

    public Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default) =>
        _database.WriteAsync(s => s.Execute(Release, ("$id", reservation.Id), ("$offer", reservation.Offer.Value)), cancellationToken);
}
