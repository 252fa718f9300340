using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Storage.Sqlite.Sequences;
using Xunit.Abstractions;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>Design note §7.8 over SQLite: each process opens the run's database file, with <c>synchronous=NORMAL</c>.</summary>
public sealed class SqliteCrashAtEveryWriteTests(ITestOutputHelper output) : CrashAtEveryWriteSpecificationTests(output)
{
    protected override Task<StoreProcess> OpenAsync(StoreProcess? previous)
    {
        string path = (previous as SqliteProcess)?.Path ?? SqliteTestDatabase.NewPath();
        return Task.FromResult<StoreProcess>(new SqliteProcess(path, SqliteTestDatabase.Open(path, static o => o.Synchronous = SqliteSynchronous.Normal)));
    }

    private sealed class SqliteProcess(string path, SqliteDatabase database) : StoreProcess
    {
        public string Path => path;

        public override ISendOutbox Outbox { get; } = new SqliteSendOutbox(database, SequenceStoreKit.Serializer);

        public override IEnrolmentStore Enrolments { get; } = new SqliteEnrolmentStore(database);

        public override Task<List<(string Key, SendState State, SendState? Outcome)>> ReadOutboxAsync() => database.ReadAsync(
            static s => s.Query("SELECT key, state, outcome FROM outbox", static r => (r.GetString(0), (SendState)r.GetInt32(1), r.IsDBNull(2) ? (SendState?)null : (SendState)r.GetInt32(2))),
            CancellationToken.None);

        public override Task<long> CountUnacknowledgedEventsAsync() =>
            database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM outbox_events")!, CancellationToken.None);

        public override ValueTask DisposeAsync()
        {
            database.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
