using Funnel.Storage.Sqlite.Internal;

namespace Funnel.Storage.Sqlite.Tests;

public sealed class SqliteWriterTests : IDisposable
{
    private readonly SqliteDatabase _database = SqliteTestDatabase.Create();

    public SqliteWriterTests() =>
        _database.WriteAsync(static s => s.Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"), CancellationToken.None).GetAwaiter().GetResult();

    [Fact]
    public async Task WriteAsync_ManyConcurrentWrites_AllCommitAndAreReadable()
    {
        Task<int>[] writes = [.. Enumerable.Range(1, 500).Select(i => Task.Run(() => _database.WriteAsync(s => s.Execute("INSERT INTO t (id, v) VALUES ($id, $v)", ("$id", i), ("$v", "x")), CancellationToken.None)))];

        int[] changed = await Task.WhenAll(writes);

        changed.ShouldAllBe(c => c == 1);
        long count = await _database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM t")!, CancellationToken.None);
        count.ShouldBe(500);
    }

    [Fact]
    public async Task WriteAsync_OneWriteOfAGroupThrows_OnlyThatWriteFailsAndIsRolledBack()
    {
        await _database.WriteAsync(static s => s.Execute("INSERT INTO t (id, v) VALUES (1, 'taken')"), CancellationToken.None);
        Task<int>[] writes = [.. Enumerable.Range(0, 50).Select(i => _database.WriteAsync(s =>
        {
            s.Execute("INSERT INTO t (id, v) VALUES ($id, 'ok')", ("$id", 1000 + i));
            return i == 25 ? s.Execute("INSERT INTO t (id, v) VALUES (1, 'clash')") : 1;
        }, CancellationToken.None))];

        await Should.ThrowAsync<Microsoft.Data.Sqlite.SqliteException>(() => writes[25]);

        for (int i = 0; i < writes.Length; i++)
        {
            if (i != 25)
            {
                (await writes[i]).ShouldBe(1);
            }
        }

        long rolledBack = await _database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM t WHERE id = 1025")!, CancellationToken.None);
        rolledBack.ShouldBe(0, "the failed write's first statement is rolled back to its savepoint");
        long kept = await _database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM t WHERE v = 'ok'")!, CancellationToken.None);
        kept.ShouldBe(49);
    }

    [Fact]
    public async Task WriteAsync_ALoneWriteThatThrows_LeavesTheWriterUsable()
    {
        await Should.ThrowAsync<InvalidOperationException>(() => _database.WriteAsync<int>(static s =>
        {
            s.Execute("INSERT INTO t (id, v) VALUES (7, 'x')");
            throw new InvalidOperationException("boom");
        }, CancellationToken.None));

        (await _database.WriteAsync(static s => s.Execute("INSERT INTO t (id, v) VALUES (7, 'y')"), CancellationToken.None)).ShouldBe(1);
        string? v = await _database.ReadAsync(static s => (string?)s.Scalar("SELECT v FROM t WHERE id = 7"), CancellationToken.None);
        v.ShouldBe("y");
    }

    [Fact]
    public async Task WriteAsync_Cancelled_ThrowsWithoutWriting()
    {
        using CancellationTokenSource cancelled = new();
        await cancelled.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => _database.WriteAsync(static s => s.Execute("INSERT INTO t (id, v) VALUES (9, 'x')"), cancelled.Token));
    }

    [Fact]
    public async Task Open_UsesWalAndTheConfiguredSynchronousMode()
    {
        string mode = await _database.ReadAsync(static s => (string)s.Scalar("PRAGMA journal_mode")!, CancellationToken.None);
        long synchronous = await _database.ReadAsync(static s => (long)s.Scalar("PRAGMA synchronous")!, CancellationToken.None);

        mode.ShouldBe("wal");
        synchronous.ShouldBe(2, "FULL is the default");
    }

    public void Dispose() => _database.Dispose();
}
