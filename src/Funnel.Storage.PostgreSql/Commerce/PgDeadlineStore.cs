using Funnel.Offers;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="IDeadlineStore"/>: the earliest start per deadline and lead.</summary>
/// <remarks>
/// A start is one upsert that keeps the least (<c>ON CONFLICT … DO UPDATE SET started_at = LEAST(…)</c>), so the earliest
/// wins whatever the order of the calls and the instances making them. Starts only move earlier, so when the stored
/// start is already at or before the one offered (a returning lead, the common case) the answer is read without a
/// write. Starts are kept to the microsecond, as PostgreSQL timestamps are.
/// </remarks>
internal sealed class PgDeadlineStore : IDeadlineStore
{
    private readonly PgDatabase _database;
    private readonly string _find;
    private readonly string _start;

    public PgDeadlineStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string starts = database.Table("deadline_starts");
        _find = $"SELECT started_at FROM {starts} WHERE deadline_key = $1 AND lead_id = $2";
        _start =
            $"INSERT INTO {starts} AS d (deadline_key, lead_id, started_at) VALUES ($1, $2, $3) ON CONFLICT (deadline_key, lead_id) " +
            "DO UPDATE SET started_at = LEAST(d.started_at, excluded.started_at) RETURNING started_at";
    }

    public async Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        Instant? stored = await FindStartAsync(deadlineKey, lead, cancellationToken).ConfigureAwait(false);
        if (stored is { } earlier && earlier <= startedAt)
        {
            return earlier;
        }

        return (await _database.QueryAsync(_start, [deadlineKey, lead.Value, startedAt], static r => r.GetInstant(0), cancellationToken)
            .ConfigureAwait(false))[0];
    }

    public async Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return (await _database.QueryAsync(_find, [deadlineKey, lead.Value], static r => r.GetInstant(0), cancellationToken)
            .ConfigureAwait(false)) is [Instant start, ..] ? start : null;
    }
}
