using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Internal;
using Funnel.Storage.PostgreSql.Sequences;
using Npgsql;
using Xunit.Abstractions;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>Design note §7.8 over PostgreSQL: each run has a schema of its own, and each process a pool of its own on it.</summary>
public sealed class PgCrashAtEveryWriteTests(ITestOutputHelper output) : CrashAtEveryWriteSpecificationTests(output), IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override async Task<StoreProcess> OpenAsync(StoreProcess? previous)
    {
        PgDatabase schema = (previous as PgProcess)?.Schema ?? await _schemas.CreateAsync();
        return new PgProcess(schema, new PgDatabase(new FunnelPostgreSqlOptions { ConnectionString = schema.Options.ConnectionString, Schema = schema.Schema }));
    }

    private sealed class PgProcess(PgDatabase schema, PgDatabase database) : StoreProcess
    {
        public PgDatabase Schema => schema;

        public override ISendOutbox Outbox { get; } = SequenceStoreKit.Outbox(database);

        public override IEnrolmentStore Enrolments { get; } = new PgEnrolmentStore(database);

        public override async Task<List<(string Key, SendState State, SendState? Outcome)>> ReadOutboxAsync()
        {
            await using NpgsqlConnection connection = await database.OpenAsync(CancellationToken.None);
            await using NpgsqlCommand command = new($"SELECT key, state, outcome FROM {database.Table("outbox")}", connection);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            List<(string, SendState, SendState?)> rows = [];
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), (SendState)reader.GetInt16(1), reader.IsDBNull(2) ? null : (SendState)reader.GetInt16(2)));
            }

            return rows;
        }

        public override async Task<long> CountUnacknowledgedEventsAsync() =>
            (long)(await database.ScalarAsync($"SELECT count(*) FROM {database.Table("outbox_events")}"))!;

        public override ValueTask DisposeAsync() => database.DisposeAsync();
    }
}
