using Funnel.Offers;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>The PostgreSQL <see cref="ICouponRedemptionStore"/>: redemptions per coupon and lead, and a total per coupon.</summary>
/// <remarks>
/// <para>
/// A redemption is one batch in one transaction: a conditional upsert of the lead's count
/// (<c>ON CONFLICT … DO UPDATE … WHERE count &lt; @perLead</c>), then one of the coupon's total
/// (<c>WHERE total &lt; @total</c>); when either returns no row, the transaction rolls back. An upsert that waits for a
/// row lock re-checks its condition against the committed row, so racing redemptions from any number of instances never
/// exceed a limit. Rows are always locked lead first, then total, so redemptions never deadlock.
/// </para>
/// <para>A release decrements both in one statement, only when the lead has a redemption. Codes compare
/// case-insensitively (stored upper-cased, invariant).</para>
/// </remarks>
internal sealed class PgCouponRedemptionStore : ICouponRedemptionStore
{
    private readonly PgDatabase _database;
    private readonly string _redeemMine;
    private readonly string _redeemTotal;
    private readonly string _release;

    public PgCouponRedemptionStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string redemptions = database.Table("coupon_redemptions");
        string totals = database.Table("coupon_totals");
        _redeemMine =
            $"INSERT INTO {redemptions} AS r (code, lead_id, count) VALUES ($1, $2, 1) ON CONFLICT (code, lead_id) " +
            "DO UPDATE SET count = r.count + 1 WHERE $3::integer IS NULL OR r.count < $3 RETURNING r.count";
        _redeemTotal =
            $"INSERT INTO {totals} AS t (code, total) VALUES ($1, 1) ON CONFLICT (code) " +
            "DO UPDATE SET total = t.total + 1 WHERE $2::integer IS NULL OR t.total < $2 RETURNING t.total";
        _release =
            $"WITH mine AS (UPDATE {redemptions} SET count = count - 1 WHERE code = $1 AND lead_id = $2 AND count > 0 RETURNING code) " +
            $"UPDATE {totals} SET total = total - 1 WHERE code = $1 AND total > 0 AND EXISTS (SELECT 1 FROM mine)";
    }

    public async Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (maxTotal <= 0 || maxPerLead <= 0)
        {
            return false;
        }

        string key = Key(code);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlBatch batch = new(connection, transaction)
        {
            BatchCommands =
            {
                CommerceCommands.BatchCommand(_redeemMine, key, lead.Value, maxPerLead),
                CommerceCommands.BatchCommand(_redeemTotal, key, maxTotal),
            },
        };
        bool redeemed;
        await using (NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            bool mine = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            redeemed = mine && await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        if (redeemed)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        return redeemed;
    }

    public Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        return _database.ExecuteAsync(_release, [Key(code), lead.Value], cancellationToken);
    }

    private static string Key(string code) => code.ToUpperInvariant();
}
