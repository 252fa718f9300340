using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Broadcasts;

/// <summary>A broadcast's automatic winner: the variants go to a test share, the results are read after the wait, and the winner goes to the rest.</summary>
public sealed class BroadcastWinnerTests
{
    private static readonly Instant SendAt = BroadcastWorld.Start + Duration.FromHours(1);

    private static BroadcastDefinition Tested(BroadcastWinnerTest? test = null) => BroadcastWorld.Promo() with
    {
        Variants =
        [
            new EmailVariant { Key = EmailVariant.ControlKey },
            new EmailVariant { Key = "short", Subject = "Thursday, live" },
        ],
        WinnerTest = test ?? new BroadcastWinnerTest { TestPercent = 20, Wait = Duration.FromHours(4), MinimumSamplePerVariant = 20 },
    };

    [Fact]
    public async Task A_significantly_better_variant_wins_and_goes_to_everyone_outside_the_test_group()
    {
        using BroadcastWorld world = new(s => s.AddFunnelAnalytics());
        await world.AddMembersAsync(1_000);
        await world.Broadcasts.ScheduleAsync(Tested());
        world.Clock.Reset(SendAt);

        int testSends = await world.Broadcasts.QueueDueAsync();
        await world.DispatchAllAsync();

        BroadcastWinnerTest test = Tested().WinnerTest!;
        IReadOnlyList<(EmailMessage Message, Instant At)> tested = world.Sender.Sent;
        tested.Count.ShouldBe(testSends);
        testSends.ShouldBeInRange(140, 260); // 20 % of 1,000
        tested.ShouldAllBe(s => test.IsInTestGroup("webinar-promo", s.Message.LeadId!.Value));
        (await world.Broadcasts.FindAsync("webinar-promo")).ShouldNotBeNull().Test.ShouldNotBeNull().Stage.ShouldBe(BroadcastTestStage.Waiting);

        // The short subject is opened by 60 % of its readers, the control by 15 %.
        List<FunnelEvent> opens = [];
        int n = 0;
        foreach (EmailSent sent in world.Events.OfType<EmailSent>())
        {
            bool opens60 = sent.Variant == "short" ? n % 5 < 3 : n % 20 < 3;
            if (opens60)
            {
                opens.Add(new EmailOpened { LeadId = sent.LeadId, OccurredAt = SendAt + Duration.FromMinutes(30), Email = "webinar-promo" });
            }

            n++;
        }

        await world.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(opens);
        world.Clock.Reset(SendAt + Duration.FromHours(3));
        (await world.Broadcasts.QueueDueAsync()).ShouldBe(0, "the results are read after the wait");
        world.Clock.Reset(SendAt + Duration.FromHours(4));

        int rest = await world.Broadcasts.QueueDueAsync();
        await world.DispatchAllAsync();

        Broadcast decided = (await world.Broadcasts.FindAsync("webinar-promo")).ShouldNotBeNull();
        BroadcastTestState state = decided.Test.ShouldNotBeNull();
        (decided.Status, state.Stage, state.Winner, state.Significant).ShouldBe((BroadcastStatus.Queued, BroadcastTestStage.Decided, "short", true));
        decided.Queued.ShouldBe(1_000);
        rest.ShouldBe(1_000 - testSends);
        state.Tallies.Sum(t => t.Sent).ShouldBe(testSends);
        state.Tallies.Single(t => t.Variant == "short").Converted.ShouldBeGreaterThan(state.Tallies.Single(t => t.Variant == EmailVariant.ControlKey).Converted);
        world.Sender.Sent.Skip(testSends).ShouldAllBe(s => s.Message.Subject == "Thursday, live");
        world.Sender.Sent.Select(s => s.Message.To).Distinct().Count().ShouldBe(1_000, "one email per member");
    }

    [Fact]
    public async Task Without_a_significant_difference_the_control_goes_to_the_rest()
    {
        using BroadcastWorld world = new(s => s.AddFunnelAnalytics());
        await world.AddMembersAsync(400);
        await world.Broadcasts.ScheduleAsync(Tested());
        world.Clock.Reset(SendAt);
        int testSends = await world.Broadcasts.QueueDueAsync();
        await world.DispatchAllAsync();
        world.Clock.Reset(SendAt + Duration.FromHours(4));

        await world.Broadcasts.QueueDueAsync(); // nobody opened anything
        await world.DispatchAllAsync();

        Broadcast decided = (await world.Broadcasts.FindAsync("webinar-promo")).ShouldNotBeNull();
        (decided.Test!.Winner, decided.Test.Significant).ShouldBe((EmailVariant.ControlKey, false));
        world.Sender.Sent.Skip(testSends).ShouldAllBe(s => s.Message.Subject == "Live webinar on Thursday");
    }

    [Fact]
    public async Task A_winner_test_needs_variants_one_instant_and_a_selector_and_says_so()
    {
        using BroadcastWorld world = new(s => s.AddFunnelAnalytics());
        ArgumentException local = await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(
            Tested() with { SendAt = null, LocalSendAt = new LocalDateTime(2026, 12, 8, 9, 0), WinnerTest = new BroadcastWinnerTest { TestPercent = 70, Wait = Duration.FromMinutes(5) } }));
        local.Message.ShouldContain("'WinnerTest' needs SendAt (one instant)");
        local.Message.ShouldContain("'WinnerTest.TestPercent' is 70: use 5 to 50.");
        local.Message.ShouldContain("'WinnerTest.Wait' must be from 1 hour to 7 days.");
        (await Should.ThrowAsync<ArgumentException>(() => world.Broadcasts.ScheduleAsync(BroadcastWorld.Promo() with { WinnerTest = new BroadcastWinnerTest() })))
            .Message.ShouldContain("'WinnerTest' needs Variants");

        using BroadcastWorld bare = new();
        (await Should.ThrowAsync<ArgumentException>(() => bare.Broadcasts.ScheduleAsync(Tested())))
            .Message.ShouldContain("call services.AddFunnelAnalytics()");
    }
}
