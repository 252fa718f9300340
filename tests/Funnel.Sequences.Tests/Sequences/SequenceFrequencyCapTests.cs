using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceFrequencyCapTests
{
    [Fact]
    public async Task Dispatch_ManyDispatchersSameLeadSameInstant_SendExactlyOneEmailPerLocalDay()
    {
        const int Sequences = 16;
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        ImmutableArray<SequenceDefinition> definitions = [.. Enumerable.Range(0, Sequences).Select(i => new SequenceDefinition
        {
            Key = "promo-" + i,
            Triggers = [EventMatch.For(EventTypes.SalesPageVisited)],
            Steps = [new SequenceStep { Key = "promo-" + i + "-1", Timing = StepTiming.AfterEnrolment, Subject = "Offer " + i, TextBody = "Hello" }],
        })];
        SequenceOptions options = new() { BatchSize = 1 };
        SequenceEngine[] engines = [.. Enumerable.Range(0, Sequences).Select(i => world.Engine(sender, definitions, options, "d" + i))];
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        Instant visit = Instant.FromUtc(2026, 3, 24, 8, 0); // 09:00 in Berlin
        world.Clock.Reset(visit);
        await engines[0].HandleAsync(new SalesPageVisited { LeadId = lead.Id, OccurredAt = visit, Offer = GuideSequences.Offer });

        using Barrier barrier = new(Sequences);
        DispatchResult[] results = await Task.WhenAll(engines.Select(e => Task.Run(() =>
        {
            barrier.SignalAndWait();
            return e.DispatchDueAsync();
        })));

        results.Sum(r => r.Claimed).ShouldBe(Sequences);
        results.Sum(r => r.Sent).ShouldBe(1);
        results.Sum(r => r.Deferred).ShouldBe(Sequences - 1);
        sender.Sent.Count.ShouldBe(1);

        // The deferred ones go out one per local day, never two on the same day.
        await world.RunUntilAsync(engines[1], visit + Duration.FromDays(Sequences + 1), Duration.FromHours(1));
        sender.Sent.Count.ShouldBe(Sequences);
        sender.Sent.Select(s => s.At.InZone(DateTimeZoneProviders.Tzdb["Europe/Berlin"]).Date).ShouldBeUnique();
    }

    [Fact]
    public async Task TryReserveDayAsync_SameKeyAgain_KeepsTheDayAndOtherKeysAreRefused()
    {
        InMemoryEnrolmentStore store = new();
        LeadId lead = new(Guid.NewGuid());
        LocalDate day = new(2026, 3, 24);

        (await store.TryReserveDayAsync(lead, day, "a:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(lead, day, "a:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(lead, day, "b:1")).ShouldBeFalse();
        (await store.TryReserveDayAsync(lead, day.PlusDays(1), "b:1")).ShouldBeTrue();
        (await store.TryReserveDayAsync(new LeadId(Guid.NewGuid()), day, "b:1")).ShouldBeTrue();
    }
}
