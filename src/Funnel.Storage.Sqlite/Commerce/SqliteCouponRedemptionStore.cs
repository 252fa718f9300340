using Funnel.Offers;
using Funnel.Storage.Sqlite.Internal;

namespace Funnel.Storage.Sqlite.Commerce;

/// <summary>The SQLite <see cref="ICouponRedemptionStore"/>: redemptions per coupon and lead, and a total per coupon.</summary>
/// <remarks>
/// A redemption reads both counts, checks the limits and increments both in one write transaction; SQLite has one
/// writer, so no limit is ever exceeded. Codes compare case-insensitively (stored upper-cased, invariant).
/// </remarks>
internal sealed class SqliteCouponRedemptionStore(SqliteDatabase database) : ICouponRedemptionStore
{
    private const string Total = "SELECT total FROM coupon_totals WHERE code = $code";

    private const string Mine = "SELECT count FROM coupon_redemptions WHERE code = $code AND lead_id = $lead";

    private const string Redeem =
        "INSERT INTO coupon_redemptions (code, lead_id, count) VALUES ($code, $lead, 1) " +
        "ON CONFLICT (code, lead_id) DO UPDATE SET count = count + 1; " +
        "INSERT INTO coupon_totals (code, total) VALUES ($code, 1) ON CONFLICT (code) DO UPDATE SET total = total + 1";

    private const string GiveBack = "UPDATE coupon_redemptions SET count = count - 1 WHERE code = $code AND lead_id = $lead AND count > 0";

    private const string GiveBackTotal = "UPDATE coupon_totals SET total = total - 1 WHERE code = $code AND total > 0";

    public Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        string key = Key(code);
        return database.WriteAsync(
            s =>
            {
                if (maxTotal is { } total && ((long?)s.Scalar(Total, ("$code", key)) ?? 0) >= total)
                {
                    return false;
                }

                if (maxPerLead is { } perLead && ((long?)s.Scalar(Mine, ("$code", key), ("$lead", lead.Value)) ?? 0) >= perLead)
                {
                    return false;
                }

                s.Execute(Redeem, ("$code", key), ("$lead", lead.Value));
                return true;
            },
            cancellationToken);
    }

    public Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        string key = Key(code);
        return database.WriteAsync(
            s => s.Execute(GiveBack, ("$code", key), ("$lead", lead.Value)) == 1 && s.Execute(GiveBackTotal, ("$code", key)) == 1,
            cancellationToken);
    }

    private static string Key(string code) => code.ToUpperInvariant();
}
