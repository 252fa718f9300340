using Funnel.Offers;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="ISeatInventory"/>: one row per hold, expiring by the injected <see cref="IClock"/>.</summary>
/// <remarks>
/// <para>
/// A reservation is one batch, one round trip, in one transaction: it makes sure the offer has a row in
/// <c>seat_offers</c>, locks that row (<c>FOR UPDATE</c>), then, in a statement that starts after the lock and so sees
/// every reservation committed before it, drops the offer's expired holds, looks for the lead's hold, counts the taken
/// seats and inserts the new hold only below the capacity. Reservations of one offer therefore run one at a time across
/// every instance, and confirmed seats plus unexpired holds never exceed the capacity; other offers are not blocked.
/// </para>
/// <para>
/// A hold ends on a whole microsecond (<c>now + HoldFor</c> truncated, at most 999 ns early), so the stored end is exact
/// and every comparison with "now" is too. A confirmation is one <c>UPDATE</c> of an unconfirmed, unexpired hold, so it
/// succeeds once.
/// </para>
/// </remarks>
internal sealed class PgSeatInventory : ISeatInventory
{
    private readonly PgDatabase _database;
    private readonly IClock _clock;
    private readonly string _ensureOffer;
    private readonly string _lockOffer;
    private readonly string _reserve;
    private readonly string _confirm;
    private readonly string _release;

    public PgSeatInventory(PgDatabase database, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clock);
        _database = database;
        _clock = clock;
        string offers = database.Table("seat_offers");
        string holds = database.Table("seat_holds");
        _ensureOffer = $"INSERT INTO {offers} (offer) VALUES ($1) ON CONFLICT (offer) DO NOTHING";
        _lockOffer = $"SELECT offer FROM {offers} WHERE offer = $1 FOR UPDATE";
        FindHold = $"SELECT id, expires_at FROM {holds} WHERE offer = $1 AND lead_id = $2 AND NOT confirmed AND expires_at > $3 LIMIT 1";
        CountTaken = $"SELECT count(*) FROM {holds} WHERE offer = $1 AND (confirmed OR expires_at > $3)";
        _reserve =
            $"WITH dropped AS (DELETE FROM {holds} WHERE offer = $1 AND NOT confirmed AND expires_at <= $3), " +
            $"held AS ({FindHold}), " +
            $"added AS (INSERT INTO {holds} (id, offer, lead_id, expires_at) SELECT $4, $1, $2, $5 " +
            $"WHERE NOT EXISTS (SELECT 1 FROM held) AND ({CountTaken}) < $6 RETURNING id, expires_at) " +
            "SELECT id, expires_at FROM held UNION ALL SELECT id, expires_at FROM added";
        _confirm = $"UPDATE {holds} SET confirmed = true WHERE id = $1 AND offer = $2 AND NOT confirmed AND expires_at > $3";
        _release = $"DELETE FROM {holds} WHERE id = $1 AND offer = $2";
    }

    /// <summary>Gets the lookup of the lead's hold (<c>$1</c> offer, <c>$2</c> lead, <c>$3</c> now), for query-plan tests.</summary>
    internal string FindHold { get; }

    /// <summary>Gets the count of taken seats (<c>$1</c> offer, <c>$3</c> now), for query-plan tests.</summary>
    internal string CountTaken { get; }

    public async Task<SeatReservation?> TryReserveAsync(OfferId offer, LeadId lead, SeatLimit limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        Instant now = _clock.GetCurrentInstant();
        SeatReservation proposed = new(Guid.CreateVersion7(), offer, lead, PgValues.Truncate(now + limit.HoldFor));
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);

        // No explicit transaction: the statements of a batch run in one implicit transaction, in one round trip.
        await using NpgsqlBatch batch = new(connection)
        {
            BatchCommands =
            {
                CommerceCommands.BatchCommand(_ensureOffer, offer.Value),
                CommerceCommands.BatchCommand(_lockOffer, offer.Value),
                CommerceCommands.BatchCommand(_reserve, offer.Value, lead.Value, now, proposed.Id, proposed.ExpiresAt, limit.Capacity),
            },
        };
        await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        SeatReservation? reservation = null;
        do
        {
            // The lock's result has one column (offer); the reservation's has two (id, expires_at) and at most one row.
            if (reader.FieldCount == 2 && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                reservation = new SeatReservation(reader.GetGuid(0), offer, lead, reader.GetInstant(1));
            }
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

        return reservation;
    }

    public Task<bool> ConfirmAsync(SeatReservation reservation, CancellationToken cancellationToken = default) =>
        _database.ExecuteAsync(_confirm, [reservation.Id, reservation.Offer.Value, _clock.GetCurrentInstant()], cancellationToken);

    public Task ReleaseAsync(SeatReservation reservation, CancellationToken cancellationToken = default) =>
        _database.ExecuteAsync(_release, [reservation.Id, reservation.Offer.Value], cancellationToken);
}
