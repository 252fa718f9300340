using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>
/// The store convention every versioned store must meet: insert-if-absent, replace-if-version with the version bumped
/// by the store, stale versions rejected, and exactly one winner among racing writers.
/// </summary>
/// <typeparam name="TStore">The store seam.</typeparam>
/// <typeparam name="T">The stored document.</typeparam>
/// <remarks>Like ASP.NET Identity's <c>UserManagerSpecificationTestBase</c>: derive a specification per seam, then a
/// concrete class per implementation that creates a fresh, empty store in <see cref="CreateStore"/>.</remarks>
public abstract class VersionedStoreSpecification<TStore, T>
    where T : class
{
    /// <summary>How many callers race in the concurrency tests.</summary>
    protected const int Racers = 16;

    /// <summary>Creates a fresh, empty store.</summary>
    protected abstract TStore CreateStore();

    /// <summary>A new document whose key is derived from <paramref name="n"/> (distinct n, distinct keys).</summary>
    protected abstract T NewDocument(int n);

    /// <summary>A replacement of <paramref name="current"/> with the same key and a visible change numbered <paramref name="change"/>.</summary>
    protected abstract T Changed(T current, int change);

    /// <summary>Reads the document with <paramref name="document"/>'s key.</summary>
    protected abstract Task<T?> FindAsync(TStore store, T document);

    /// <summary>Calls the store's insert-if-absent.</summary>
    protected abstract Task<bool> TryAddAsync(TStore store, T document);

    /// <summary>Calls the store's replace-if-version.</summary>
    protected abstract Task<bool> TryUpdateAsync(TStore store, T current, T replacement);

    /// <summary>Returns a document's version.</summary>
    protected abstract long VersionOf(T document);

    /// <summary>Returns what identifies a document's content (its key and what <see cref="Changed"/> changes), not its version.</summary>
    protected abstract string ContentOf(T document);

    [Fact]
    public async Task TryAddAsync_NewKey_StoresItWithVersionZero()
    {
        TStore store = CreateStore();
        T document = NewDocument(1);

        (await TryAddAsync(store, document)).ShouldBeTrue();

        T found = (await FindAsync(store, document)).ShouldNotBeNull();
        ContentOf(found).ShouldBe(ContentOf(document));
        VersionOf(found).ShouldBe(0);
    }

    [Fact]
    public async Task TryAddAsync_ExistingKey_ReturnsFalseAndKeepsTheFirst()
    {
        TStore store = CreateStore();
        T first = NewDocument(1);
        await TryAddAsync(store, first);

        (await TryAddAsync(store, Changed(first, 1))).ShouldBeFalse();

        ContentOf((await FindAsync(store, first))!).ShouldBe(ContentOf(first));
    }

    [Fact]
    public async Task TryAddAsync_RacingAddsOfOneKey_ExactlyOneWins()
    {
        TStore store = CreateStore();
        T document = NewDocument(1);

        bool[] results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Task.Run(() => TryAddAsync(store, Changed(document, i)))));

        results.Count(r => r).ShouldBe(1);
    }

    [Fact]
    public async Task FindAsync_UnknownKey_ReturnsNull()
    {
        TStore store = CreateStore();
        await TryAddAsync(store, NewDocument(1));

        (await FindAsync(store, NewDocument(2))).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_CurrentVersion_StoresTheReplacementWithTheNextVersion()
    {
        TStore store = CreateStore();
        await TryAddAsync(store, NewDocument(1));
        T current = (await FindAsync(store, NewDocument(1)))!;
        T replacement = Changed(current, 7);

        (await TryUpdateAsync(store, current, replacement)).ShouldBeTrue();

        T found = (await FindAsync(store, current)).ShouldNotBeNull();
        VersionOf(found).ShouldBe(VersionOf(current) + 1);
        ContentOf(found).ShouldBe(ContentOf(replacement));
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndKeepsTheNewer()
    {
        TStore store = CreateStore();
        await TryAddAsync(store, NewDocument(1));
        T stale = (await FindAsync(store, NewDocument(1)))!;
        await TryUpdateAsync(store, stale, Changed(stale, 1));
        T newer = (await FindAsync(store, stale))!;

        (await TryUpdateAsync(store, stale, Changed(stale, 2))).ShouldBeFalse();

        T found = (await FindAsync(store, stale))!;
        ContentOf(found).ShouldBe(ContentOf(newer));
        VersionOf(found).ShouldBe(VersionOf(newer));
    }

    [Fact]
    public async Task TryUpdateAsync_MissingKey_ReturnsFalseAndAddsNothing()
    {
        TStore store = CreateStore();
        T absent = NewDocument(1);

        (await TryUpdateAsync(store, absent, Changed(absent, 1))).ShouldBeFalse();

        (await FindAsync(store, absent)).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_RacingUpdatesFromOneVersion_ExactlyOneWins()
    {
        TStore store = CreateStore();
        await TryAddAsync(store, NewDocument(1));
        T current = (await FindAsync(store, NewDocument(1)))!;

        bool[] results = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Task.Run(() => TryUpdateAsync(store, current, Changed(current, i)))));

        results.Count(r => r).ShouldBe(1);
        VersionOf((await FindAsync(store, current))!).ShouldBe(VersionOf(current) + 1);
    }

    [Fact]
    public async Task TryUpdateAsync_RacingReadModifyWriteLoops_LoseNoUpdate()
    {
        TStore store = CreateStore();
        await TryAddAsync(store, NewDocument(1));

        await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                T current = (await FindAsync(store, NewDocument(1)))!;
                if (await TryUpdateAsync(store, current, Changed(current, i)))
                {
                    return;
                }
            }
        })));

        VersionOf((await FindAsync(store, NewDocument(1)))!).ShouldBe(Racers);
    }

    /// <summary>Any sequence of adds and of updates from the current or a stale version agrees with a dictionary model.</summary>
    [Property(MaxTest = 100)]
    public Property Operations_AnySequence_AgreeWithAKeyedVersionModel((byte Key, bool Add, bool Stale)[] operations)
    {
        TStore store = CreateStore();
        var model = new Dictionary<int, long>();
        var previous = new Dictionary<int, T>();
        bool agrees = true;
        int change = 0;
        foreach (var (rawKey, add, stale) in operations ?? [])
        {
            int key = rawKey % 4;
            T probe = NewDocument(key);
            if (add)
            {
                bool added = Block(TryAddAsync(store, probe));
                agrees &= added == !model.ContainsKey(key);
                model.TryAdd(key, 0);
                continue;
            }

            T? current = Block(FindAsync(store, probe));
            agrees &= (current is null) == !model.ContainsKey(key);
            if (current is null)
            {
                continue;
            }

            T from = stale && previous.TryGetValue(key, out T? old) ? old : current;
            bool updated = Block(TryUpdateAsync(store, from, Changed(from, ++change)));
            bool expected = VersionOf(from) == model[key];
            agrees &= updated == expected;
            if (updated)
            {
                model[key]++;
            }

            previous[key] = current;
        }

        foreach (var (key, version) in model)
        {
            agrees &= Block(FindAsync(store, NewDocument(key))) is { } stored && VersionOf(stored) == version;
        }

        return agrees.ToProperty();
    }

    private static TResult Block<TResult>(Task<TResult> task) => task.GetAwaiter().GetResult();
}
