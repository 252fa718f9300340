using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Email;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Internal;
using NodaTime;

namespace Funnel.Storage.Sqlite.Sequences;

/// <summary>The SQLite <see cref="ISequenceTestStore"/>: a running test's tally as one row per lead, and each decision.</summary>
/// <remarks>
/// A send is recorded by an insert that does nothing when the lead has a row or the test is decided; a conversion by an
/// update of the lead's row. A decision is inserted only when the test has none and deletes the tally in the same write
/// transaction, so a send recorded after it (a late pipeline delivery) is never counted.
/// </remarks>
internal sealed class SqliteSequenceTestStore(SqliteDatabase database) : ISequenceTestStore
{
    private const string Send =
        "INSERT INTO sequence_test_sends (test, lead_id, variant, sent_at, converted) " +
        "SELECT $test, $lead, $variant, $at, 0 WHERE NOT EXISTS (SELECT 1 FROM sequence_test_decisions WHERE test = $test) " +
        "ON CONFLICT (test, lead_id) DO NOTHING";

    private const string Convert = "UPDATE sequence_test_sends SET converted = 1 WHERE test = $test AND lead_id = $lead AND converted = 0";

    private const string Tally =
        "SELECT variant, count(*), sum(converted) FROM sequence_test_sends WHERE test = $test AND sent_at <= $by " +
        "GROUP BY variant ORDER BY variant";

    private const string Find = "SELECT test, winner, significant, results, decided_at FROM sequence_test_decisions WHERE test = $test";

    private const string Decide =
        "INSERT INTO sequence_test_decisions (test, winner, significant, results, decided_at) " +
        "VALUES ($test, $winner, $significant, $results, $at) ON CONFLICT (test) DO NOTHING";

    private const string Forget = "DELETE FROM sequence_test_sends WHERE test = $test";

    public Task RecordSendAsync(string test, LeadId lead, string variant, Instant sentAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(variant);
        return database.WriteAsync(s => s.Execute(Send, ("$test", test), ("$lead", lead.Value), ("$variant", variant), ("$at", sentAt)), cancellationToken);
    }

    public Task RecordConversionAsync(string test, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        return database.WriteAsync(s => s.Execute(Convert, ("$test", test), ("$lead", lead.Value)), cancellationToken);
    }

    public Task<ImmutableArray<VariantResult>> TallyAsync(string test, Instant sentBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        // ORDER BY variant uses SQLite's BINARY collation: bytewise UTF-8, the same order as ordinal UTF-16 for the
        // lower-case ASCII keys a variant may have.
        return database.ReadAsync(
            s => s.Query(Tally, static r => new VariantResult(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), ("$test", test), ("$by", sentBy)).ToImmutableArray(),
            cancellationToken);
    }

    public Task<SequenceTestDecision?> FindDecisionAsync(string test, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        return database.ReadAsync(s => s.QueryFirst(Find, Read, ("$test", test)), cancellationToken);
    }

    public Task<SequenceTestDecision> DecideAsync(SequenceTestDecision decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        string results = JsonSerializer.Serialize(decision.Results, FunnelJson.Options);
        return database.WriteAsync(
            s =>
            {
                if (s.Execute(Decide, ("$test", decision.Test), ("$winner", decision.Winner), ("$significant", decision.Significant), ("$results", results), ("$at", decision.DecidedAt)) == 0)
                {
                    return s.QueryFirst(Find, Read, ("$test", decision.Test))!;
                }

                s.Execute(Forget, ("$test", decision.Test));
                return decision;
            },
            cancellationToken);
    }

    private static SequenceTestDecision Read(Microsoft.Data.Sqlite.SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetInt64(2) != 0,
        JsonSerializer.Deserialize<ImmutableArray<VariantResult>>(r.GetString(3), FunnelJson.Options),
        r.GetInstant(4));
}
