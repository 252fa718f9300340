using Funnel.CartRecovery;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.CartRecovery;

public sealed class CheckoutAbandonmentTests
{
    private static readonly Instant T0 = CartRecoveryWorld.T0;
    private static readonly OfferId Offer = new(GuideSequences.Offer);

    [Fact]
    public async Task EmitDueAsync_RunManyTimesAndRedelivered_EmitsOneAbandonmentWithAnIdDerivedFromTheCheckout()
    {
        using var world = new CartRecoveryWorld(o => o.AbandonAfter = Duration.FromMinutes(30));
        LeadId lead = await world.AddLeadAsync();
        Checkout checkout = await world.StartCheckoutAsync(lead);
        await world.SettleAsync();
        world.Clock.Advance(Duration.FromMinutes(30));

        CheckoutAbandonment abandonment = world.Services.GetRequiredService<CheckoutAbandonment>();
        (await abandonment.EmitDueAsync()).ShouldBe(1);
        (await abandonment.EmitDueAsync()).ShouldBe(0);
        await world.SettleAsync();
        world.Clock.Advance(Duration.FromDays(1));
        await world.SettleAsync();

        CheckoutAbandoned abandoned = (await world.EventsAsync()).OfType<CheckoutAbandoned>().ShouldHaveSingleItem();
        abandoned.Id.ShouldBe(EventId.Derive(checkout.Events.OfType<CheckoutStarted>().Single().Id, EventTypes.CheckoutAbandoned));
        abandoned.OccurredAt.ShouldBe(T0 + Duration.FromMinutes(30));
        (await world.Services.GetRequiredService<ICheckoutStore>().FindAsync(lead, Offer)).ShouldNotBeNull().Status.ShouldBe(CheckoutStatus.Abandoned);
    }

    [Fact]
    public async Task EmitDueAsync_TwoInstancesOnOneStoreAndLog_EmitEachAbandonmentOnce()
    {
        var clock = new FakeClock(T0 + Duration.FromHours(2));
        var store = new InMemoryCheckoutStore();
        var log = new InMemoryFunnelEventLog();
        LeadId[] leads = [.. Enumerable.Range(0, 40).Select(_ => LeadId.New())];
        foreach (LeadId lead in leads)
        {
            await store.TryAddAsync(Tracked(lead, T0));
        }

        IOptions<CartRecoveryOptions> options = Options.Create(new CartRecoveryOptions { BatchSize = 3 });
        CheckoutAbandonment[] instances = [new(store, log, clock, options), new(store, log, clock, options)];

        int[] emitted = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => instances[i % 2].EmitDueAsync())));

        emitted.Sum().ShouldBe(leads.Length);
        CheckoutAbandoned[] events = [.. log.Snapshot().OfType<CheckoutAbandoned>()];
        events.Select(e => e.LeadId).Distinct().Count().ShouldBe(leads.Length);
        events.Length.ShouldBe(leads.Length);
    }

    [Fact]
    public async Task EmitDueAsync_ClaimLostAfterTheAppend_TheNextClaimerAppendsNothingTwice()
    {
        var clock = new FakeClock(T0 + Duration.FromHours(2));
        var store = new InMemoryCheckoutStore();
        var log = new InMemoryFunnelEventLog();
        TrackedCheckout tracked = Tracked(LeadId.New(), T0);
        await store.TryAddAsync(tracked);
        var abandonment = new CheckoutAbandonment(store, log, clock, Options.Create(new CartRecoveryOptions()));

        // An instance claimed it, appended the event and died before marking it abandoned.
        TrackedCheckout claimed = (await store.ClaimDueAsync(clock.GetCurrentInstant(), 10, Duration.FromMinutes(5), "dead")).ShouldHaveSingleItem();
        await log.AppendAsync([new CheckoutAbandoned
        {
            Id = EventId.Derive(tracked.Checkout, EventTypes.CheckoutAbandoned), LeadId = tracked.Lead, OccurredAt = tracked.DueAt, Offer = tracked.Offer,
        }]);
        (await abandonment.EmitDueAsync()).ShouldBe(0, "the dead instance's claim still holds");
        clock.Advance(Duration.FromMinutes(5));

        (await abandonment.EmitDueAsync()).ShouldBe(0, "the event is already in the log");

        log.Snapshot().OfType<CheckoutAbandoned>().ShouldHaveSingleItem();
        TrackedCheckout stored = (await store.FindAsync(tracked.Lead, Offer)).ShouldNotBeNull();
        (stored.Status, stored.Version).ShouldBe((CheckoutStatus.Abandoned, claimed.Version + 2));
    }

    [Fact]
    public async Task EmitDueAsync_OrderInTheLogNotYetSeenByTheHandler_ClosesTheCheckoutInsteadOfEmitting()
    {
        var clock = new FakeClock(T0 + Duration.FromHours(2));
        var store = new InMemoryCheckoutStore();
        var log = new InMemoryFunnelEventLog();
        TrackedCheckout tracked = Tracked(LeadId.New(), T0);
        await store.TryAddAsync(tracked);
        await log.AppendAsync([new OrderPlaced
        {
            LeadId = tracked.Lead, OccurredAt = T0 + Duration.FromMinutes(90), Order = OrderId.New(), Offer = Offer,
            Total = new Money(497_00, Currency.USD),
        }]);

        (await new CheckoutAbandonment(store, log, clock, Options.Create(new CartRecoveryOptions())).EmitDueAsync()).ShouldBe(0);

        log.Snapshot().OfType<CheckoutAbandoned>().ShouldBeEmpty();
        (await store.FindAsync(tracked.Lead, Offer)).ShouldNotBeNull().Status.ShouldBe(CheckoutStatus.Ordered);
    }

    [Fact]
    public async Task Handler_CheckoutStartedAgain_RestartsTheClockAndRedeliveryChangesNothing()
    {
        using var world = new CartRecoveryWorld();
        LeadId lead = await world.AddLeadAsync();
        Checkout first = await world.StartCheckoutAsync(lead);
        await world.SettleAsync();
        world.Clock.Advance(Duration.FromMinutes(45));
        Checkout second = await world.StartCheckoutAsync(lead);
        await world.SettleAsync();

        CheckoutTrackingHandler handler = world.Services.GetRequiredService<CheckoutTrackingHandler>();
        await handler.HandleAsync(first.Events.Single());
        await handler.HandleAsync(second.Events.Single());

        TrackedCheckout tracked = (await world.Services.GetRequiredService<ICheckoutStore>().FindAsync(lead, Offer)).ShouldNotBeNull();
        (tracked.Checkout, tracked.DueAt, tracked.Version).ShouldBe((second.Events.Single().Id, T0 + Duration.FromMinutes(105), 1L));
        await world.PassAsync(Duration.FromMinutes(59), Duration.FromMinutes(1));
        (await world.EventsAsync()).OfType<CheckoutAbandoned>().ShouldBeEmpty("the second checkout is 59 minutes old");
        await world.PassAsync(Duration.FromMinutes(1), Duration.FromMinutes(1));
        (await world.EventsAsync()).OfType<CheckoutAbandoned>().ShouldHaveSingleItem().OccurredAt.ShouldBe(T0 + Duration.FromMinutes(105));
    }

    [Fact]
    public async Task Job_IsRegisteredWithTheConfiguredInterval()
    {
        using var world = new CartRecoveryWorld(o => o.Interval = TimeSpan.FromSeconds(20));

        IFunnelJob job = world.Services.GetServices<IFunnelJob>().Single(j => j.Name == "cart-recovery");

        job.Interval.ShouldBe(TimeSpan.FromSeconds(20));
        world.Services.GetServices<Kpis.IFunnelReportSection>().Select(s => s.Key).ShouldContain(CartRecoveryReport.SectionKey);
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData("AbandonAfter")]
    [InlineData("RecoveryWindow")]
    [InlineData("Interval")]
    [InlineData("BatchSize")]
    public async Task StartAsync_InvalidOption_FailsNamingIt(string field)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddFunnelCartRecovery(o =>
        {
            switch (field)
            {
                case "AbandonAfter": o.AbandonAfter = Duration.FromSeconds(10); break;
                case "RecoveryWindow": o.RecoveryWindow = Duration.Zero; break;
                case "Interval": o.Interval = TimeSpan.Zero; break;
                default: o.BatchSize = 0; break;
            }
        });
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain($"CartRecoveryOptions.{field}");
    }

    [Fact]
    public void AddFunnelCartRecovery_CalledTwice_RegistersOneHandlerJobAndSection()
    {
        ServiceCollection services = new();

        services.AddFunnelCartRecovery().AddFunnelCartRecovery(o => o.AbandonAfter = Duration.FromHours(2));

        services.Count(d => d.ServiceType == typeof(IFunnelJob) && d.ImplementationType?.Name == "CheckoutAbandonmentJob").ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<FunnelPipeline>().Handlers.Count(h => h == "cart-recovery").ShouldBe(1);
        provider.GetServices<Kpis.IFunnelReportSection>().Count(s => s.Key == CartRecoveryReport.SectionKey).ShouldBe(1);
        provider.GetRequiredService<IOptions<CartRecoveryOptions>>().Value.AbandonAfter.ShouldBe(Duration.FromHours(2));
    }

    private static TrackedCheckout Tracked(LeadId lead, Instant startedAt) => new()
    {
        Lead = lead,
        Offer = Offer,
        Checkout = EventId.New(),
        StartedAt = startedAt,
        DueAt = startedAt + Duration.FromHours(1),
    };
}
