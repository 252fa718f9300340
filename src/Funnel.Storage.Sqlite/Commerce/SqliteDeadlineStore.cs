using Funnel.Offers;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="IDeadlineStore"/>: the earliest start per deadline and lead.</summary>
/// <remarks>
/// A start is an upsert that keeps the minimum, so the earliest wins whatever the order of the calls. Starts only move
/// earlier, so when the committed start is already at or before the one offered (a returning lead, the common case)
/// the answer is read without a write.
/// </remarks>
internal sealed class SqliteDeadlineStore(SqliteDatabase database) : IDeadlineStore
{
    private const string Find = "SELECT started_at FROM deadline_starts WHERE deadline_key = $key AND lead_id = $lead";

    private const string Start =
        "INSERT INTO deadline_starts (deadline_key, lead_id, started_at) VALUES ($key, $lead, $start) " +
        "ON CONFLICT (deadline_key, lead_id) DO UPDATE SET started_at = min(started_at, excluded.started_at) RETURNING started_at";

    public async Task<Instant> GetOrStartAsync(string deadlineKey, LeadId lead, Instant startedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        Instant? stored = await FindStartAsync(deadlineKey, lead, cancellationToken).ConfigureAwait(false);
        if (stored is { } earlier && earlier <= startedAt)
        {
            return earlier;
        }

        return await database.WriteAsync(
            s => s.QueryFirst(Start, static r => r.GetInstant(0), ("$key", deadlineKey), ("$lead", lead.Value), ("$start", startedAt)),
            cancellationToken).ConfigureAwait(false);
    }

    public Task<Instant?> FindStartAsync(string deadlineKey, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlineKey);
        return database.ReadAsync(
            s => s.QueryFirst(Find, static r => (Instant?)r.GetInstant(0), ("$key", deadlineKey), ("$lead", lead.Value)),
            cancellationToken);
    }
}
