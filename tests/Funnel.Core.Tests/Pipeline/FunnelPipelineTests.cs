using Funnel.Events;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Pipeline;

public sealed class FunnelPipelineTests
{
    [Fact]
    public async Task DeliverAllAsync_EventsInLog_DeliversEachToEveryHandlerInOrder()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start();
        FunnelEvent[] events = await kit.AppendViewsAsync(10);

        PipelineDelivery delivery = await app.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        delivery.Delivered.ShouldBe(20);
        delivery.CaughtUp.ShouldBeTrue();
        delivery.Failures.ShouldBeEmpty();
        app.GetRequiredService<FirstHandler>().Handled.ShouldBe(events);
        app.GetRequiredService<SecondHandler>().Handled.ShouldBe(events);
    }

    [Fact]
    public async Task DeliverAllAsync_LaterHandlerAppendsEvents_EarlierHandlerGetsThemInTheSameCall()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start(services: s => s.AddFunnelHandler<EchoHandler>("echo"));
        await kit.AppendViewsAsync(3);

        PipelineDelivery delivery = await app.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        delivery.CaughtUp.ShouldBeTrue();
        kit.Log.Head.ShouldBe(6);
        app.GetRequiredService<FirstHandler>().Handled.Count.ShouldBe(6);
        (await app.GetRequiredService<FunnelPipeline>().GetStatusAsync()).ShouldAllBe(s => s.Pending == 0);
    }

    [Fact]
    public async Task DeliverAllAsync_CalledAgain_DeliversOnlyNewEvents()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start();
        FunnelPipeline pipeline = app.GetRequiredService<FunnelPipeline>();
        await kit.AppendViewsAsync(3);
        await pipeline.DeliverAllAsync();

        await kit.Log.AppendAsync([PipelineTestKit.View(50)]);
        PipelineDelivery second = await pipeline.DeliverAllAsync();

        second.Delivered.ShouldBe(2);
        app.GetRequiredService<FirstHandler>().Handled.Count.ShouldBe(4);
        (await pipeline.GetStatusAsync()).ShouldAllBe(s => s.Position == 4 && s.Pending == 0 && s.Attempts == 0);
    }

    [Fact]
    public async Task DeliverAsync_HandlerFailsTwice_RetriesAfterBackoffThenMovesOn()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start(o => o.MaxAttempts = 5);
        FunnelPipeline pipeline = app.GetRequiredService<FunnelPipeline>();
        FunnelEvent[] events = await kit.AppendViewsAsync(3);
        FirstHandler first = app.GetRequiredService<FirstHandler>();
        first.FailOn(events[1].Id, times: 2);

        PipelineDelivery pass1 = await pipeline.DeliverAsync();
        pass1.Failures.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            f => f.Handler.ShouldBe("first"),
            f => f.Position.ShouldBe(2),
            f => f.Attempt.ShouldBe(1),
            f => f.Parked.ShouldBeFalse(),
            f => f.RetryAt.ShouldBe(kit.Clock.GetCurrentInstant() + Duration.FromSeconds(1)));
        first.Handled.ShouldBe([events[0]]);

        // Not due yet: nothing happens, and the other handler was not held up.
        (await pipeline.DeliverAsync()).Failures.ShouldBeEmpty();
        app.GetRequiredService<SecondHandler>().Handled.ShouldBe(events);
        PipelineHandlerStatus waiting = (await pipeline.GetStatusAsync())[0];
        waiting.ShouldSatisfyAllConditions(
            s => s.Position.ShouldBe(1), s => s.Pending.ShouldBe(2), s => s.Attempts.ShouldBe(1), s => s.LastError!.ShouldContain("Handler failed"));

        kit.Clock.Advance(Duration.FromSeconds(1));
        (await pipeline.DeliverAsync()).Failures.ShouldHaveSingleItem().RetryAt.ShouldBe(kit.Clock.GetCurrentInstant() + Duration.FromSeconds(2));
        kit.Clock.Advance(Duration.FromSeconds(2));
        PipelineDelivery last = await pipeline.DeliverAllAsync();

        last.Failures.ShouldBeEmpty();
        last.CaughtUp.ShouldBeTrue();
        first.Handled.ShouldBe(events);
        (await pipeline.ListParkedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_HandlerKeepsFailing_ParksEventAndGoesOn()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start(o => o.MaxAttempts = 3);
        FunnelPipeline pipeline = app.GetRequiredService<FunnelPipeline>();
        FunnelEvent[] events = await kit.AppendViewsAsync(3);
        FirstHandler first = app.GetRequiredService<FirstHandler>();
        first.FailOn(events[0].Id, times: int.MaxValue);

        for (int i = 0; i < 3; i++)
        {
            await pipeline.DeliverAsync();
            kit.Clock.Advance(Duration.FromMinutes(10));
        }

        await pipeline.DeliverAllAsync();

        first.Handled.ShouldBe(events[1..]);
        ParkedEvent parked = (await pipeline.ListParkedAsync()).ShouldHaveSingleItem();
        parked.ShouldSatisfyAllConditions(
            p => p.Handler.ShouldBe("first"),
            p => p.Position.ShouldBe(1),
            p => p.EventId.ShouldBe(events[0].Id),
            p => p.EventType.ShouldBe(EventTypes.PageViewed),
            p => p.Attempts.ShouldBe(3),
            p => p.Error.ShouldContain("InvalidOperationException"));
        (await pipeline.GetStatusAsync())[0].ShouldSatisfyAllConditions(s => s.Position.ShouldBe(3), s => s.Attempts.ShouldBe(0));
    }

    [Fact]
    public async Task RetryParkedAsync_HandlerNowSucceeds_DeliversAndUnparks()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider app = kit.Start(o => o.MaxAttempts = 1);
        FunnelPipeline pipeline = app.GetRequiredService<FunnelPipeline>();
        FunnelEvent[] events = await kit.AppendViewsAsync(2);
        FirstHandler first = app.GetRequiredService<FirstHandler>();
        first.FailOn(events[0].Id, times: 2);
        await pipeline.DeliverAllAsync();
        ParkedEvent parked = (await pipeline.ListParkedAsync()).ShouldHaveSingleItem();

        // Fails once more: stays parked with one more attempt.
        (await pipeline.RetryParkedAsync(parked)).ShouldBeFalse();
        ParkedEvent again = (await pipeline.ListParkedAsync()).ShouldHaveSingleItem();
        again.Attempts.ShouldBe(2);

        (await pipeline.RetryParkedAsync(again)).ShouldBeTrue();
        (await pipeline.ListParkedAsync()).ShouldBeEmpty();
        first.Handled.ShouldBe([events[1], events[0]]);
        (await pipeline.RetryParkedAsync(again)).ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_CrashBetweenAppendAndDelivery_NextInstanceDeliversEverything()
    {
        var kit = new PipelineTestKit();
        FunnelEvent[] events;
        using (ServiceProvider crashed = kit.Start())
        {
            // The process appended, then died before its pipeline ran.
            events = await kit.AppendViewsAsync(6);
        }

        using ServiceProvider restarted = kit.Start();
        await restarted.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        restarted.GetRequiredService<FirstHandler>().Handled.ShouldBe(events);
        restarted.GetRequiredService<SecondHandler>().Handled.ShouldBe(events);
    }

    [Fact]
    public async Task DeliverAsync_CrashMidBatch_NextInstanceRedeliversTheRestWithoutSkipping()
    {
        var kit = new PipelineTestKit();
        FunnelEvent[] events = await kit.AppendViewsAsync(4);
        using var crash = new CancellationTokenSource();
        using (ServiceProvider crashed = kit.Start(services: s => s.AddSingleton(new CrashAfter(2, crash))))
        {
            await Should.ThrowAsync<OperationCanceledException>(() => crashed.GetRequiredService<FunnelPipeline>().DeliverAsync(crash.Token));
            crashed.GetRequiredService<FirstHandler>().Handled.Count.ShouldBeLessThanOrEqualTo(2);
        }

        // The crashed instance gave nothing back: its lease holds the handler until it ends.
        using ServiceProvider restarted = kit.Start();
        await restarted.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        restarted.GetRequiredService<FirstHandler>().Handled.ShouldBeEmpty();
        kit.Clock.Advance(new FunnelPipelineOptions().LeaseDuration);
        await restarted.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        // At least once: what the crashed instance did not finish is delivered now, in order, and nothing is skipped.
        restarted.GetRequiredService<FirstHandler>().Handled.ShouldBe(events[^restarted.GetRequiredService<FirstHandler>().Handled.Count..]);
        restarted.GetRequiredService<FirstHandler>().Handled.Count.ShouldBeGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task DeliverAllAsync_TwoInstancesOnOneStore_EveryEventReachesEveryHandler()
    {
        var kit = new PipelineTestKit();
        using ServiceProvider a = kit.Start();
        using ServiceProvider b = kit.Start();
        Task appending = Task.Run(async () =>
        {
            for (int i = 1; i <= 200; i++)
            {
                await kit.Log.AppendAsync([PipelineTestKit.View(i)]);
            }
        });
        Task<PipelineDelivery>[] running = [.. Enumerable.Range(0, 20).SelectMany(_ => new[]
        {
            Task.Run(() => a.GetRequiredService<FunnelPipeline>().DeliverAllAsync()),
            Task.Run(() => b.GetRequiredService<FunnelPipeline>().DeliverAllAsync()),
        })];
        await appending;
        await Task.WhenAll(running);

        // Whichever instance holds the handler's lease catches up.
        await a.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        await b.GetRequiredService<FunnelPipeline>().DeliverAllAsync();

        HashSet<EventId> seen = [.. a.GetRequiredService<FirstHandler>().Handled.Concat(b.GetRequiredService<FirstHandler>().Handled).Select(e => e.Id)];
        seen.Count.ShouldBe(200);
        (await a.GetRequiredService<FunnelPipeline>().GetStatusAsync()).ShouldAllBe(s => s.Position == 200);
    }

    [Fact]
    public void EnsureHandlers_HandlerWithMissingDependency_ThrowsNamingHandler()
    {
        using ServiceProvider app = new ServiceCollection()
            .AddFunnel()
            .AddFunnelHandler<NeedsSomething>("needy")
            .BuildServiceProvider();

        InvalidOperationException error = Should.Throw<InvalidOperationException>(() => app.GetRequiredService<FunnelPipeline>().EnsureHandlers());

        error.Message.ShouldContain("'needy'");
        error.Message.ShouldContain(nameof(IDisposable));
    }

    [Fact]
    public void AddFunnelHandler_NameTakenByAnotherType_Throws()
    {
        var services = new ServiceCollection().AddFunnelHandler<FirstHandler>("same");

        Should.Throw<ArgumentException>(() => services.AddFunnelHandler<SecondHandler>("same")).Message.ShouldContain("already registered");
        Should.Throw<ArgumentException>(() => services.AddFunnelHandler<SecondHandler>("Bad Name"));
        services.AddFunnelHandler<FirstHandler>("same").Count(d => d.ServiceType == typeof(FirstHandler)).ShouldBe(1);
    }

    [Fact]
    public void Options_Invalid_FailValidationNamingTheOption()
    {
        using ServiceProvider app = new ServiceCollection()
            .AddFunnel()
            .Configure<FunnelPipelineOptions>(o => o.BatchSize = 0)
            .BuildServiceProvider();

        Should.Throw<Microsoft.Extensions.Options.OptionsValidationException>(() => app.GetRequiredService<FunnelPipeline>())
            .Message.ShouldContain("FunnelPipelineOptions.BatchSize");
    }

    [Fact]
    public void Derive_SameCauseAndName_GivesSameVersion8Id()
    {
        EventId cause = EventId.New();

        EventId a = EventId.Derive(cause, "sequences:nurture");

        a.ShouldBe(EventId.Derive(cause, "sequences:nurture"));
        a.ShouldNotBe(EventId.Derive(cause, "sequences:welcome"));
        a.ShouldNotBe(EventId.Derive(EventId.New(), "sequences:nurture"));
        a.Value.Version.ShouldBe(8);
    }

    private sealed class NeedsSomething(IDisposable dependency) : IFunnelHandler
    {
        public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default) =>
            Task.FromResult(dependency);
    }
}

/// <summary>Cancels a token (a process being killed) once the first handler has handled a number of events.</summary>
internal sealed record CrashAfter(int Events, CancellationTokenSource Crash);

/// <summary>Records one derived event per page view it is given, as a handler that causes events does.</summary>
internal sealed class EchoHandler(IFunnelEventLog log) : IFunnelHandler
{
    public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default) =>
        funnelEvent is PageViewed view && view.Page != "/echo"
            ? log.AppendAsync([view with { Id = EventId.Derive(view.Id, "echo"), Page = "/echo" }], cancellationToken)
            : Task.CompletedTask;
}
