using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Sequences;
using NodaTime;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="ISequenceTestStore"/>: a running test's tally, one row per lead, and a decision that is stored once.</summary>
/// <remarks>Instants are whole seconds: durable stores may keep them to the microsecond.</remarks>
public abstract class SequenceTestStoreSpecification
{
    private const string Test = "guide-nurture/nurture-3";

    /// <summary>Creates an empty store.</summary>
    protected abstract ISequenceTestStore CreateStore();

    [Fact]
    public async Task TallyAsync_CountsEachLeadOnce_PerVariantInKeyOrder()
    {
        ISequenceTestStore store = CreateStore();
        await store.RecordSendAsync(Test, Lead(1), "short-subject", At(0));
        await store.RecordSendAsync(Test, Lead(2), "control", At(1));
        await store.RecordSendAsync(Test, Lead(3), "control", At(2));
        // A redelivered send, even with another variant or instant, changes nothing.
        await store.RecordSendAsync(Test, Lead(1), "control", At(3));
        await store.RecordConversionAsync(Test, Lead(1));
        await store.RecordConversionAsync(Test, Lead(1));
        await store.RecordConversionAsync(Test, Lead(3));
        // A lead with no send in the test, and a send in another test, do not count.
        await store.RecordConversionAsync(Test, Lead(9));
        await store.RecordSendAsync("other/step", Lead(4), "control", At(0));

        ImmutableArray<VariantResult> tally = await store.TallyAsync(Test, At(10));

        tally.ShouldBe([new VariantResult("control", 2, 1), new VariantResult("short-subject", 1, 1)]);
        (await store.TallyAsync("none/step", At(10))).ShouldBeEmpty();
    }

    [Fact]
    public async Task TallyAsync_CountsOnlySendsMadeByTheInstant()
    {
        ISequenceTestStore store = CreateStore();
        await store.RecordSendAsync(Test, Lead(1), "control", At(0));
        await store.RecordSendAsync(Test, Lead(2), "control", At(60));
        await store.RecordSendAsync(Test, Lead(3), "control", At(61));
        await store.RecordConversionAsync(Test, Lead(3));

        (await store.TallyAsync(Test, At(60))).ShouldBe([new VariantResult("control", 2, 0)]);
        (await store.TallyAsync(Test, At(-1))).ShouldBeEmpty();
        (await store.TallyAsync(Test, At(61))).ShouldBe([new VariantResult("control", 3, 1)]);
    }

    [Fact]
    public async Task DecideAsync_StoresTheFirstDecision_AndEndsTheTally()
    {
        ISequenceTestStore store = CreateStore();
        await store.RecordSendAsync(Test, Lead(1), "control", At(0));
        SequenceTestDecision first = new(Test, "short-subject", true, [new VariantResult("control", 120, 30), new VariantResult("short-subject", 118, 52)], At(100));
        SequenceTestDecision second = first with { Winner = "control", Significant = false, DecidedAt = At(101) };

        (await store.FindDecisionAsync(Test)).ShouldBeNull();
        SequenceTestDecision stored = await store.DecideAsync(first);
        SequenceTestDecision again = await store.DecideAsync(second);

        stored.ShouldBe(first, DecisionComparer.Instance);
        again.ShouldBe(first, DecisionComparer.Instance);
        (await store.FindDecisionAsync(Test)).ShouldNotBeNull().ShouldBe(first, DecisionComparer.Instance);
        // The tally is gone, and sends after the decision are not recorded.
        (await store.TallyAsync(Test, At(1000))).ShouldBeEmpty();
        await store.RecordSendAsync(Test, Lead(2), "short-subject", At(200));
        await store.RecordConversionAsync(Test, Lead(2));
        (await store.TallyAsync(Test, At(1000))).ShouldBeEmpty();
        // Other tests go on.
        (await store.FindDecisionAsync("other/step")).ShouldBeNull();
    }

    [Fact]
    public async Task DecideAsync_RacingDeciders_AllGetTheSameDecision()
    {
        ISequenceTestStore store = CreateStore();
        SequenceTestDecision[] candidates = [.. Enumerable.Range(0, 8).Select(i => new SequenceTestDecision(Test, i % 2 == 0 ? "control" : "short-subject", i % 2 == 1, [new VariantResult("control", i, 0)], At(i)))];

        SequenceTestDecision[] stored = await Task.WhenAll(candidates.Select(c => Task.Run(() => store.DecideAsync(c))));

        SequenceTestDecision winner = (await store.FindDecisionAsync(Test)).ShouldNotBeNull();
        stored.ShouldAllBe(s => DecisionComparer.Instance.Equals(s, winner));
        candidates.ShouldContain(c => DecisionComparer.Instance.Equals(c, winner));
    }

    /// <summary>Compares decisions by value, results element by element.</summary>
    private sealed class DecisionComparer : IEqualityComparer<SequenceTestDecision>
    {
        public static readonly DecisionComparer Instance = new();

        public bool Equals(SequenceTestDecision? x, SequenceTestDecision? y) =>
            x is not null && y is not null && x.Test == y.Test && x.Winner == y.Winner && x.Significant == y.Significant
            && x.DecidedAt == y.DecidedAt && x.Results.SequenceEqual(y.Results);

        public int GetHashCode(SequenceTestDecision obj) => obj.Test.GetHashCode(StringComparison.Ordinal);
    }
}
