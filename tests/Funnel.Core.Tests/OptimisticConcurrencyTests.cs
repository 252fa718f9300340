namespace Funnel.Tests;

public sealed class OptimisticConcurrencyTests
{
    private sealed record Doc(string Value, long Version);

    /// <summary>A one-document store whose first <see cref="Conflicts"/> updates lose to a concurrent writer.</summary>
    private sealed class Store(Doc? initial)
    {
        public Doc? Stored { get; private set; } = initial;

        public int Conflicts { get; set; }

        public int Reads { get; private set; }

        public Task<Doc?> FindAsync(CancellationToken cancellationToken)
        {
            Reads++;
            return Task.FromResult(Stored);
        }

        public Task<bool> TryAddAsync(Doc doc, CancellationToken cancellationToken)
        {
            if (Stored is not null)
            {
                return Task.FromResult(false);
            }

            Stored = doc with { Version = 0 };
            return Task.FromResult(true);
        }

        public Task<bool> TryUpdateAsync(Doc current, Doc replacement, CancellationToken cancellationToken)
        {
            if (Conflicts > 0)
            {
                Conflicts--;
                Stored = Stored! with { Value = Stored.Value + "+other", Version = Stored.Version + 1 };
                return Task.FromResult(false);
            }

            if (Stored is null || Stored.Version != current.Version)
            {
                return Task.FromResult(false);
            }

            Stored = replacement with { Version = current.Version + 1 };
            return Task.FromResult(true);
        }

        public Task<OptimisticConcurrency.Update<Doc>> UpdateAsync(Func<Doc?, Doc?> change, bool insert = true) =>
            OptimisticConcurrency.UpdateAsync(
                FindAsync, change, insert ? TryAddAsync : null, TryUpdateAsync,
                static (current, next) => next with { Version = current.Version + 1 }, "Doc", CancellationToken.None);
    }

    [Fact]
    public async Task UpdateAsync_ConcurrentWriterWinsTwice_ReReadsAndReappliesTheChange()
    {
        Store store = new(new Doc("a", 0)) { Conflicts = 2 };

        OptimisticConcurrency.Update<Doc> update = await store.UpdateAsync(d => d! with { Value = d.Value + "!" });

        update.Changed.ShouldBeTrue();
        update.Before.ShouldBe(new Doc("a+other+other", 2));
        update.After.ShouldBe(new Doc("a+other+other!", 3));
        store.Stored.ShouldBe(update.After);
        store.Reads.ShouldBe(3);
    }

    [Fact]
    public async Task UpdateAsync_AlwaysLoses_ThrowsAfterTheBoundedAttempts()
    {
        Store store = new(new Doc("a", 0)) { Conflicts = int.MaxValue };

        await Should.ThrowAsync<InvalidOperationException>(() => store.UpdateAsync(d => d! with { Value = "b" }));

        store.Reads.ShouldBe(OptimisticConcurrency.MaxAttempts);
    }

    [Fact]
    public async Task UpdateAsync_ChangeReturnsTheSameInstance_WritesNothing()
    {
        Store store = new(new Doc("a", 0)) { Conflicts = 1 };

        OptimisticConcurrency.Update<Doc> update = await store.UpdateAsync(d => d);

        update.Changed.ShouldBeFalse();
        store.Stored.ShouldBe(new Doc("a", 0));
        store.Conflicts.ShouldBe(1);
    }

    [Fact]
    public async Task UpdateAsync_Missing_InsertsOrLeavesMissingWithoutAnInsert()
    {
        Store store = new(null);

        (await store.UpdateAsync(_ => new Doc("x", 0), insert: false)).ShouldBe(new OptimisticConcurrency.Update<Doc>(null, null, false));
        store.Stored.ShouldBeNull();

        OptimisticConcurrency.Update<Doc> inserted = await store.UpdateAsync(d => d ?? new Doc("x", 0));

        inserted.ShouldBe(new OptimisticConcurrency.Update<Doc>(null, new Doc("x", 0), true));
        store.Stored.ShouldBe(new Doc("x", 0));
    }
}
