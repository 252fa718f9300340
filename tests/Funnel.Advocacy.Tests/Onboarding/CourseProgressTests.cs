using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Offers;
using Funnel.Onboarding;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Onboarding;

public class CourseProgressTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);
    private static readonly LeadId Buyer = new(new Guid(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6));
    private static readonly OrderId Order = new(new Guid(9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6));
    private static readonly Course Masterclass = new() { Key = "masterclass-course", Modules = ["plan", "write", "launch"] };

    private static (CourseProgressTracker Tracker, EntitlementLedger Ledger) Tracker(bool entitled = true)
    {
        var ledger = InMemoryEngines.Entitlements();
        if (entitled)
        {
            ledger.Apply(new EntitlementGranted { LeadId = Buyer, OccurredAt = T0, Order = Order, Product = "masterclass-course" });
        }

        return (new CourseProgressTracker([Masterclass], new InMemoryCourseProgressStore(), ledger, new FakeClock(T0), new InMemoryFunnelEventLog()), ledger);
    }

    [Fact]
    public async Task CompleteModuleAsync_AllModules_EmitsCourseCompletedOnceOnTheLast()
    {
        var (tracker, _) = Tracker();

        ProgressResult first = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "write");
        ProgressResult second = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "plan");
        ProgressResult last = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "launch");

        first.Events.ShouldHaveSingleItem().ShouldBeOfType<ModuleCompleted>().Module.ShouldBe("write");
        second.CourseCompleted.ShouldBeFalse();
        last.CourseCompleted.ShouldBeTrue();
        last.Events.Select(e => e.EventType).ShouldBe([AdvocacyEventTypes.ModuleCompleted, EventTypes.CourseCompleted]);
        last.Events[1].Subject.ShouldBe("masterclass-course");
        (await tracker.CompletedModulesAsync(Buyer, "masterclass-course")).ShouldBe(["plan", "write", "launch"]);
    }

    [Fact]
    public async Task CompleteModuleAsync_StoreHoldsAModuleTheCourseNoLongerHas_CompletesOnTheCurrentModules()
    {
        var ledger = InMemoryEngines.Entitlements();
        ledger.Apply(new EntitlementGranted { LeadId = Buyer, OccurredAt = T0, Order = Order, Product = "masterclass-course" });
        var store = new InMemoryCourseProgressStore();
        await store.AddAsync(Buyer, "masterclass-course", "old-intro");          // completed before the course was revised
        var tracker = new CourseProgressTracker([Masterclass], store, ledger, new FakeClock(T0), new InMemoryFunnelEventLog());

        await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "plan");
        ProgressResult second = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "write");
        ProgressResult last = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "launch");

        second.CompletedModules.ShouldBe(2);
        second.CourseCompleted.ShouldBeFalse();
        second.Events.ShouldHaveSingleItem();
        last.CompletedModules.ShouldBe(3);
        last.CourseCompleted.ShouldBeTrue();
        last.Events.Select(e => e.EventType).ShouldBe([AdvocacyEventTypes.ModuleCompleted, EventTypes.CourseCompleted]);
    }

    [Fact]
    public async Task EntitlementLedger_GrantReplayedAfterItsRevocation_StaysRevoked()
    {
        var ledger = InMemoryEngines.Entitlements();
        var granted = new EntitlementGranted { LeadId = Buyer, OccurredAt = T0, Order = Order, Product = "masterclass-course" };
        ledger.Apply(granted);
        ledger.Apply(new EntitlementRevoked { LeadId = Buyer, OccurredAt = T0 + Duration.FromDays(3), Order = Order, Product = "masterclass-course" });

        ledger.Apply(granted);                                             // redelivered by an at-least-once bus

        (await ledger.HoldsAsync(Buyer, "masterclass-course")).ShouldBeFalse();
        ledger.Apply(granted with { Id = EventId.New(), OccurredAt = T0 + Duration.FromDays(4) });   // access restored later
        (await ledger.HoldsAsync(Buyer, "masterclass-course")).ShouldBeTrue();
    }

    [Fact]
    public async Task CompleteModuleAsync_Repeated_IsIdempotent()
    {
        var (tracker, _) = Tracker();
        foreach (string module in Masterclass.Modules)
        {
            await tracker.CompleteModuleAsync(Buyer, "masterclass-course", module);
        }

        ProgressResult again = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "launch");

        again.Outcome.ShouldBe(ProgressOutcome.AlreadyCompleted);
        again.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task CompleteModuleAsync_ConcurrentLastModules_CompleteTheCourseExactlyOnce()
    {
        var (tracker, _) = Tracker();
        await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "plan");

        ProgressResult[] results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => tracker.CompleteModuleAsync(Buyer, "masterclass-course", i % 2 == 0 ? "write" : "launch"))));

        results.SelectMany(r => r.Events).OfType<CourseCompleted>().Count().ShouldBe(1);
        results.SelectMany(r => r.Events).OfType<ModuleCompleted>().Count().ShouldBe(2);
    }

    [Fact]
    public async Task CompleteModuleAsync_WithoutOrAfterRevokedEntitlement_RecordsNothing()
    {
        var (tracker, ledger) = Tracker(entitled: false);
        (await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "plan")).Outcome.ShouldBe(ProgressOutcome.NotEntitled);

        ledger.Apply(new EntitlementGranted { LeadId = Buyer, OccurredAt = T0, Order = Order, Product = "masterclass-course" });
        (await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "plan")).Outcome.ShouldBe(ProgressOutcome.Recorded);
        ledger.Apply(new EntitlementRevoked { LeadId = Buyer, OccurredAt = T0, Order = Order, Product = "masterclass-course" });

        ProgressResult afterRefund = await tracker.CompleteModuleAsync(Buyer, "masterclass-course", "write");
        afterRefund.Outcome.ShouldBe(ProgressOutcome.NotEntitled);
        afterRefund.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task CompleteModuleAsync_UnknownCourseOrModule_Throws()
    {
        var (tracker, _) = Tracker();

        await Should.ThrowAsync<ArgumentException>(() => tracker.CompleteModuleAsync(Buyer, "nope", "plan"));
        (await Should.ThrowAsync<ArgumentException>(() => tracker.CompleteModuleAsync(Buyer, "masterclass-course", "nope"))).ParamName.ShouldBe("module");
    }

    [Fact]
    public void Constructor_InvalidCourse_NamesTheModule()
    {
        var bad = new Course { Key = "c", Modules = ["ok", "Not OK", "ok"] };

        var error = Should.Throw<ValidationException>(() => new CourseProgressTracker([bad], new InMemoryCourseProgressStore(), InMemoryEngines.Entitlements(), new FakeClock(T0), new InMemoryFunnelEventLog()));

        error.Errors.ShouldContain(e => e.PropertyName == "Modules[1]");
        error.Errors.ShouldContain(e => e.ErrorMessage.Contains("repeat", StringComparison.Ordinal));
    }
}
