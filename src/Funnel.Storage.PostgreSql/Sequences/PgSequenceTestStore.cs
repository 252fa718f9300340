using System.Collections.Immutable;
using System.Text.Json;
using Funnel.Email;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Sequences;

/// <summary>The PostgreSQL <see cref="ISequenceTestStore"/>: a running test's tally as one row per lead, and each decision.</summary>
/// <remarks>
/// <para>
/// A send is one insert that does nothing when the lead has a row or the test is decided; a conversion one update of
/// the lead's row; a tally one grouped count. A decision is inserted with <c>ON CONFLICT DO NOTHING</c> and deletes the
/// tally in the same transaction, so instances deciding at once all return the first decision. A send recorded by
/// another instance in the moment of the decision may leave its row behind; it is never counted, because a decided
/// test is never tallied again.
/// </para>
/// <para>Send instants are kept to the microsecond (<c>timestamptz</c>).</para>
/// </remarks>
internal sealed class PgSequenceTestStore : ISequenceTestStore
{
    private readonly PgDatabase _database;
    private readonly string _send;
    private readonly string _convert;
    private readonly string _tally;
    private readonly string _find;
    private readonly string _decide;
    private readonly string _forget;

    public PgSequenceTestStore(PgDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        string sends = database.Table("sequence_test_sends");
        string decisions = database.Table("sequence_test_decisions");
        _send = $"INSERT INTO {sends} (test, lead_id, variant, sent_at, converted) " +
            $"SELECT $1, $2, $3, $4, false WHERE NOT EXISTS (SELECT 1 FROM {decisions} WHERE test = $1) " +
            "ON CONFLICT (test, lead_id) DO NOTHING";
        _convert = $"UPDATE {sends} SET converted = true WHERE test = $1 AND lead_id = $2 AND NOT converted";
        _tally = $"SELECT variant, count(*), count(*) FILTER (WHERE converted) FROM {sends} WHERE test = $1 AND sent_at <= $2 " +
            "GROUP BY variant ORDER BY variant";
        _find = $"SELECT test, winner, significant, results, decided_at FROM {decisions} WHERE test = $1";
        _decide = $"INSERT INTO {decisions} (test, winner, significant, results, decided_at) VALUES ($1, $2, $3, $4, $5) " +
            "ON CONFLICT (test) DO NOTHING";
        _forget = $"DELETE FROM {sends} WHERE test = $1";
    }

    public Task RecordSendAsync(string test, LeadId lead, string variant, Instant sentAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(variant);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _send).With(test).With(lead.Value).With(variant).With(PgValues.ToDateTime(sentAt));
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
    }

    public Task RecordConversionAsync(string test, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _convert).With(test).With(lead.Value);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
    }

    public Task<ImmutableArray<VariantResult>> TallyAsync(string test, Instant sentBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _tally).With(test).With(PgValues.ToDateTime(sentBy));
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                ImmutableArray<VariantResult>.Builder results = ImmutableArray.CreateBuilder<VariantResult>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    results.Add(new VariantResult(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
                }

                return results.ToImmutable();
            },
            cancellationToken);
    }

    public Task<SequenceTestDecision?> FindDecisionAsync(string test, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        return _database.ReadAsync(connection => FindAsync(connection, null, test, cancellationToken), cancellationToken);
    }

    public Task<SequenceTestDecision> DecideAsync(SequenceTestDecision decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        string results = JsonSerializer.Serialize(decision.Results, FunnelJson.Options);
        return _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using NpgsqlCommand insert = PgDatabase.Command(connection, _decide, transaction)
                    .With(decision.Test).With(decision.Winner).With(decision.Significant);
                insert.Parameters.Add(new NpgsqlParameter { Value = results, NpgsqlDbType = NpgsqlDbType.Jsonb });
                insert.With(PgValues.ToDateTime(decision.DecidedAt));
                if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return (await FindAsync(connection, transaction, decision.Test, cancellationToken).ConfigureAwait(false))!;
                }

                await using NpgsqlCommand forget = PgDatabase.Command(connection, _forget, transaction).With(decision.Test);
                await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return decision;
            },
            cancellationToken);
    }

    private async Task<SequenceTestDecision?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string test, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = PgDatabase.Command(connection, _find, transaction).With(test);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new SequenceTestDecision(
            reader.GetString(0),
            reader.GetString(1),
            reader.GetBoolean(2),
            JsonSerializer.Deserialize<ImmutableArray<VariantResult>>(reader.GetString(3), FunnelJson.Options),
            reader.GetInstant(4));
    }
}
