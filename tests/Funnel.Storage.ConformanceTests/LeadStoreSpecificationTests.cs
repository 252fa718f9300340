using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ILeadStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class LeadStoreSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    /// <summary>Returns a new, empty store.</summary>
    protected abstract ILeadStore CreateStore();

    [Fact]
    public async Task TryAddAsync_SameEmailTwice_SecondReturnsFalse()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");

        (await store.TryAddAsync(ann)).ShouldBeTrue();
        (await store.TryAddAsync(Lead("ann@example.com"))).ShouldBeFalse();

        LeadProfile stored = (await store.FindByEmailAsync(ann.Email)).ShouldNotBeNull();
        stored.Id.ShouldBe(ann.Id);
        stored.Version.ShouldBe(0);
        (await store.FindAsync(ann.Id)).ShouldNotBeNull().Email.ShouldBe(ann.Email);
    }

    [Fact]
    public async Task TryAddAsync_IdOfAnotherLead_Throws()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");
        (await store.TryAddAsync(ann)).ShouldBeTrue();

        await Should.ThrowAsync<InvalidOperationException>(() => store.TryAddAsync(Lead("bob@example.com") with { Id = ann.Id }));

        (await store.FindByEmailAsync(EmailAddress.Parse("bob@example.com"))).ShouldBeNull();
    }

    [Fact]
    public async Task TryAddAsync_ConcurrentAddsOfOneEmail_ExactlyOneWins()
    {
        ILeadStore store = CreateStore();

        bool[] added = await Race.RunAsync(Race.Contenders, _ => store.TryAddAsync(Lead("ann@example.com")));

        added.Count(a => a).ShouldBe(1);
        (await store.FindByEmailAsync(EmailAddress.Parse("ann@example.com"))).ShouldNotBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_CurrentVersion_StoresTheReplacementWithTheNextVersion()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");
        await store.TryAddAsync(ann);

        (await store.TryUpdateAsync(ann, ann with { Score = 5 })).ShouldBeTrue();

        LeadProfile stored = (await store.FindAsync(ann.Id)).ShouldNotBeNull();
        stored.Score.ShouldBe(5);
        stored.Version.ShouldBe(1);
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");
        await store.TryAddAsync(ann);
        await store.TryUpdateAsync(ann, ann with { Score = 1 });
        LeadProfile before = (await store.FindAsync(ann.Id)).ShouldNotBeNull();

        (await store.TryUpdateAsync(ann, ann with { Score = 2 })).ShouldBeFalse();

        LeadProfile after = (await store.FindAsync(ann.Id)).ShouldNotBeNull();
        (after.Version, after.Score).ShouldBe((before.Version, before.Score));
    }

    [Fact]
    public async Task TryUpdateAsync_UnknownLead_ReturnsFalse()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");

        (await store.TryUpdateAsync(ann, ann with { Score = 2 })).ShouldBeFalse();

        (await store.FindAsync(ann.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        ILeadStore store = CreateStore();
        LeadProfile ann = Lead("ann@example.com");
        await store.TryAddAsync(ann);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(ann, ann with { Score = i + 1 }));

        won.Count(w => w).ShouldBe(1);
        LeadProfile stored = (await store.FindAsync(ann.Id)).ShouldNotBeNull();
        stored.Version.ShouldBe(1);
        stored.Score.ShouldBe(Array.IndexOf(won, true) + 1);
    }

    [Property(MaxTest = 50)]
    public Property FindManyAsync_RandomIds_AgreesWithALoopOfFindAsync() => Prop.ForAll(
        Gen.Choose(0, 9).ArrayOf().ToArbitrary(),
        Gen.Choose(0, 15).ArrayOf().ToArbitrary(),
        (seeded, asked) =>
        {
            ILeadStore batch = CreateStore();
            ILeadStore single = CreateStore();
            LeadProfile[] leads = [.. Enumerable.Range(0, 16).Select(i => Lead($"lead{i}@example.com") with { Id = new LeadId(new Guid(i + 1, 0, 0, new byte[8])) })];
            foreach (int i in seeded.Distinct())
            {
                batch.TryAddAsync(leads[i]).GetAwaiter().GetResult();
                single.TryAddAsync(leads[i]).GetAwaiter().GetResult();
            }

            LeadId[] ids = [.. asked.Select(i => leads[i].Id)];
            List<(LeadId, long)> looped = [];
            foreach (LeadId id in ids.Distinct())
            {
                if (single.FindAsync(id).GetAwaiter().GetResult() is { } found)
                {
                    looped.Add((found.Id, found.Version));
                }
            }

            return batch.FindManyAsync(ids).GetAwaiter().GetResult().Select(static l => (l.Id, l.Version)).SequenceEqual(looped);
        });

    private static LeadProfile Lead(string email) => new() { Id = LeadId.New(), Email = EmailAddress.Parse(email), CreatedAt = Start };
}
