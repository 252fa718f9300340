using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IEnrolmentStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class EnrolmentStoreSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly LocalDate Monday = new(2026, 3, 2);

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IEnrolmentStore CreateStore();

    [Theory]
    [InlineData(ReEntryPolicy.Never)]
    [InlineData(ReEntryPolicy.AfterEnded)]
    public async Task TryAddAsync_ConcurrentAddsOfOneSequence_ExactlyOneWins(ReEntryPolicy reEntry)
    {
        IEnrolmentStore store = CreateStore();
        LeadId lead = LeadId.New();

        bool[] added = await Race.RunAsync(Race.Contenders, _ => store.TryAddAsync(NewEnrolment(lead, "nurture"), reEntry));

        added.Count(a => a).ShouldBe(1);
        (await store.ListForLeadAsync(lead)).ShouldHaveSingleItem().Version.ShouldBe(0);
    }

    [Fact]
    public async Task TryAddAsync_SameIdTwice_SecondReturnsFalse()
    {
        IEnrolmentStore store = CreateStore();
        Enrolment enrolment = NewEnrolment(LeadId.New(), "nurture");
        (await store.TryAddAsync(enrolment, ReEntryPolicy.AfterEnded)).ShouldBeTrue();
        await store.TryUpdateAsync(enrolment, enrolment with { Status = EnrolmentStatus.Exited, EndedAt = Start });

        (await store.TryAddAsync(enrolment, ReEntryPolicy.AfterEnded)).ShouldBeFalse();

        (await store.FindAsync(enrolment.Id)).ShouldNotBeNull().Status.ShouldBe(EnrolmentStatus.Exited);
    }

    [Fact]
    public async Task TryAddAsync_NeverAfterAnEndedEnrolment_ReturnsFalse_AfterEndedAddsAgain()
    {
        IEnrolmentStore store = CreateStore();
        LeadId lead = LeadId.New();
        Enrolment first = NewEnrolment(lead, "nurture");
        await store.TryAddAsync(first, ReEntryPolicy.Never);
        await store.TryUpdateAsync(first, first with { Status = EnrolmentStatus.Exited, EndedAt = Start });

        (await store.TryAddAsync(NewEnrolment(lead, "nurture"), ReEntryPolicy.Never)).ShouldBeFalse();
        (await store.TryAddAsync(NewEnrolment(lead, "nurture"), ReEntryPolicy.AfterEnded)).ShouldBeTrue();

        (await store.ListForLeadAsync(lead)).Length.ShouldBe(2);
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        IEnrolmentStore store = CreateStore();
        Enrolment enrolment = NewEnrolment(LeadId.New(), "nurture");
        await store.TryAddAsync(enrolment, ReEntryPolicy.Never);
        (await store.TryUpdateAsync(enrolment, enrolment with { LastSentAt = Start })).ShouldBeTrue();

        (await store.TryUpdateAsync(enrolment, enrolment with { Status = EnrolmentStatus.Exited })).ShouldBeFalse();

        Enrolment stored = (await store.FindAsync(enrolment.Id)).ShouldNotBeNull();
        (stored.Status, stored.LastSentAt, stored.Version).ShouldBe((EnrolmentStatus.Active, (Instant?)Start, 1L));
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        IEnrolmentStore store = CreateStore();
        Enrolment enrolment = NewEnrolment(LeadId.New(), "nurture");
        await store.TryAddAsync(enrolment, ReEntryPolicy.Never);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(enrolment, enrolment with { LastSentAt = Start + Duration.FromMinutes(i) }));

        won.Count(w => w).ShouldBe(1);
        Enrolment stored = (await store.FindAsync(enrolment.Id)).ShouldNotBeNull();
        stored.Version.ShouldBe(1);
        stored.LastSentAt.ShouldBe(Start + Duration.FromMinutes(Array.IndexOf(won, true)));
    }

    [Fact]
    public async Task TryReserveDayAsync_FirstKeyWinsTheDay_TheSameKeyGetsItBack()
    {
        IEnrolmentStore store = CreateStore();
        LeadId lead = LeadId.New();

        (await store.TryReserveDayAsync(lead, Monday, "a:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(lead, Monday, "b:1")).ShouldBeFalse();
        (await store.TryReserveDayAsync(lead, Monday, "a:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(lead, Monday.PlusDays(1), "b:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(LeadId.New(), Monday, "c:1")).ShouldBeTrue();
    }

    [Fact]
    public async Task TryReserveDayAsync_RacingKeys_OneWinner()
    {
        IEnrolmentStore store = CreateStore();
        LeadId lead = LeadId.New();

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryReserveDayAsync(lead, Monday, "k:" + i));

        won.Count(w => w).ShouldBe(1);
        (await store.TryReserveDayAsync(lead, Monday, "k:" + Array.IndexOf(won, true))).ShouldBeTrue();
    }

    [Property(MaxTest = 50)]
    public Property ListForLeadsAsync_RandomLeads_AgreesWithALoopOfListForLeadAsync() => Prop.ForAll(
        Gen.Choose(0, 5).ArrayOf().ToArbitrary(),
        Gen.Choose(0, 7).ArrayOf().ToArbitrary(),
        (enrolled, asked) =>
        {
            LeadId[] leads = [.. Enumerable.Range(0, 8).Select(i => new LeadId(new Guid(i + 1, 0, 0, new byte[8])))];
            IEnrolmentStore batch = CreateStore();
            IEnrolmentStore single = CreateStore();
            int n = 0;
            foreach (int i in enrolled)
            {
                Enrolment e = NewEnrolment(leads[i], "s" + (n++ % 3)) with { Id = new EnrolmentId(new Guid(n, 0, 0, new byte[8])) };
                batch.TryAddAsync(e, ReEntryPolicy.AfterEnded).GetAwaiter().GetResult();
                single.TryAddAsync(e, ReEntryPolicy.AfterEnded).GetAwaiter().GetResult();
            }

            List<EnrolmentId> looped = [];
            foreach (LeadId lead in asked.Select(i => leads[i]).Distinct())
            {
                looped.AddRange(single.ListForLeadAsync(lead).GetAwaiter().GetResult().Select(static e => e.Id));
            }

            return batch.ListForLeadsAsync([.. asked.Select(i => leads[i])]).GetAwaiter().GetResult().Select(static e => e.Id).SequenceEqual(looped);
        });

    [Property(MaxTest = 50)]
    public Property TryUpdateManyAsync_RandomBatches_AgreesWithALoopOfTryUpdateAsync() => Prop.ForAll(
        Gen.Choose(0, 5).Zip(Gen.Choose(-1, 1)).ArrayOf().ArrayOf().ToArbitrary(),
        batches =>
        {
            IEnrolmentStore batch = CreateStore();
            IEnrolmentStore single = CreateStore();
            Enrolment[] seeded = [.. Enumerable.Range(0, 6).Select(i => NewEnrolment(new LeadId(new Guid(i + 1, 0, 0, new byte[8])), "nurture") with { Id = new EnrolmentId(new Guid(i + 100, 0, 0, new byte[8])) })];
            foreach (Enrolment e in seeded.Take(5))
            {
                batch.TryAddAsync(e, ReEntryPolicy.Never).GetAwaiter().GetResult();
                single.TryAddAsync(e, ReEntryPolicy.Never).GetAwaiter().GetResult();
            }

            int step = 0;
            foreach ((int Index, int Skew)[] ops in batches)
            {
                List<(Enrolment Current, Enrolment Replacement)> updates = [];
                foreach ((int index, int skew) in ops.DistinctBy(static o => o.Index))
                {
                    Enrolment known = single.FindAsync(seeded[index].Id).GetAwaiter().GetResult() ?? seeded[index];
                    Enrolment current = known with { Version = Math.Max(0, known.Version + skew) };
                    updates.Add((current, current with { LastSentAt = Start + Duration.FromMinutes(++step) }));
                }

                List<EnrolmentId> looped = [];
                foreach ((Enrolment current, Enrolment replacement) in updates)
                {
                    if (single.TryUpdateAsync(current, replacement).GetAwaiter().GetResult())
                    {
                        looped.Add(current.Id);
                    }
                }

                if (!batch.TryUpdateManyAsync(updates).GetAwaiter().GetResult().SequenceEqual(looped))
                {
                    return false;
                }
            }

            return seeded.All(e => Same(batch.FindAsync(e.Id).GetAwaiter().GetResult(), single.FindAsync(e.Id).GetAwaiter().GetResult()));
        });

    [Property(MaxTest = 50)]
    public Property TryReserveDaysAsync_RandomBatches_AgreesWithALoopOfTryReserveDayAsync() => Prop.ForAll(
        Gen.Choose(0, 2).Zip(Gen.Choose(0, 2)).Zip(Gen.Choose(0, 5)).ArrayOf().ArrayOf().ToArbitrary(),
        batches =>
        {
            LeadId[] leads = [.. Enumerable.Range(0, 3).Select(i => new LeadId(new Guid(i + 1, 0, 0, new byte[8])))];
            IEnrolmentStore batch = CreateStore();
            IEnrolmentStore single = CreateStore();
            foreach (((int Lead, int Day) First, int Key)[] ops in batches)
            {
                List<(LeadId Lead, LocalDate Day, string Key)> reservations = [.. ops
                    .Select(o => (leads[o.First.Lead], Monday.PlusDays(o.First.Day), "k" + o.Key))
                    .DistinctBy(static r => r.Item3)];
                List<string> looped = [];
                foreach ((LeadId lead, LocalDate day, string key) in reservations)
                {
                    if (single.TryReserveDayAsync(lead, day, key).GetAwaiter().GetResult())
                    {
                        looped.Add(key);
                    }
                }

                if (!batch.TryReserveDaysAsync(reservations).GetAwaiter().GetResult().SequenceEqual(looped))
                {
                    return false;
                }
            }

            // Equal final states: every (lead, day) is held by the same key in both stores.
            return leads.All(lead => Enumerable.Range(0, 3).All(d => Enumerable.Range(0, 6).All(k =>
                batch.TryReserveDayAsync(lead, Monday.PlusDays(d), "probe" + k).GetAwaiter().GetResult()
                == single.TryReserveDayAsync(lead, Monday.PlusDays(d), "probe" + k).GetAwaiter().GetResult()
                && batch.TryReserveDayAsync(lead, Monday.PlusDays(d), "k" + k).GetAwaiter().GetResult()
                == single.TryReserveDayAsync(lead, Monday.PlusDays(d), "k" + k).GetAwaiter().GetResult())));
        });

    private static bool Same(Enrolment? a, Enrolment? b) =>
        a is null ? b is null : b is not null && (a.Id, a.Status, a.LastSentAt, a.EndedAt, a.Version) == (b.Id, b.Status, b.LastSentAt, b.EndedAt, b.Version);

    private static Enrolment NewEnrolment(LeadId lead, string sequence) =>
        new() { Id = EnrolmentId.New(), LeadId = lead, Sequence = sequence, EnrolledAt = Start };
}
