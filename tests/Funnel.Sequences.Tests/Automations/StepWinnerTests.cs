using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Automations;

/// <summary>A sequence email's automatic winner: tallied per lead from the log, decided once at its sample, and sent to every later lead.</summary>
public sealed class StepWinnerTests
{
    private const string Test = "course-launch/launch-1";

    private static SequenceDefinition Launch(StepWinnerTest? test = null) => new()
    {
        Key = "course-launch",
        Steps =
        [
            new SequenceStep
            {
                Key = "launch-1",
                Subject = "The Masterclass is open",
                TextBody = "Doors are open.",
                Variants =
                [
                    new EmailVariant { Key = EmailVariant.ControlKey },
                    new EmailVariant { Key = "short", Subject = "Doors open" },
                ],
                WinnerTest = test ?? new StepWinnerTest { Wait = Duration.FromDays(1), MinimumSamplePerVariant = 50 },
            },
        ],
    };

    [Fact]
    public async Task A_significantly_better_variant_is_chosen_after_the_wait_and_every_later_lead_gets_it()
    {
        using AutomationWorld world = new([Launch()], s => s.AddFunnelAnalytics());
        await EnrolAsync(world, 1, 200);
        // The short subject is opened by 60 % of its readers, the control by 15 %; some open twice, some click.
        await OpenAsync(world, short60: 3, control20: 3, twice: true);

        world.Clock.Advance(Duration.FromHours(12));
        (await world.Engine.DecideTestsAsync()).ShouldBeEmpty("no send has had the day to be opened yet");
        world.Clock.Advance(Duration.FromHours(12));
        ImmutableArray<FunnelEvent> recorded = await world.Engine.DecideTestsAsync();

        SequenceTestDecided decided = recorded.ShouldHaveSingleItem().ShouldBeOfType<SequenceTestDecided>();
        (decided.Sequence, decided.Step, decided.Winner, decided.Significant).ShouldBe(("course-launch", "launch-1", "short", true));
        decided.Results.Sum(r => r.Sent).ShouldBe(200);
        ImmutableArray<EmailVariantMetrics> metrics = EmailVariantMetrics.Compute(world.Events);
        decided.Results.ShouldBe(metrics.Select(m => new VariantResult(m.Variant, m.Sent, m.Opened)), "the store counts each lead once, as the log does");
        world.Events.OfType<SequenceTestDecided>().ShouldHaveSingleItem();
        (await world.Engine.DecideTestsAsync()).ShouldBeEmpty();

        await EnrolAsync(world, 201, 100);

        world.Sender.Sent.Skip(200).Select(s => s.Message.Subject).ShouldAllBe(s => s == "Doors open");
        world.Sender.Sent.Count.ShouldBe(300);
        world.Events.OfType<EmailSent>().Skip(200).ShouldAllBe(e => e.Variant == "short");
        (await world.Services.GetRequiredService<ISequenceTestStore>().TallyAsync(Test, world.Clock.GetCurrentInstant())).ShouldBeEmpty("a decided test keeps no tally");
    }

    [Fact]
    public async Task Without_a_significant_difference_the_control_is_kept_for_every_later_lead()
    {
        using AutomationWorld world = new([Launch()], s => s.AddFunnelAnalytics());
        await EnrolAsync(world, 1, 120);
        await OpenAsync(world, short60: 1, control20: 4, twice: false); // 20 % and 20 %
        world.Clock.Advance(Duration.FromDays(1));

        SequenceTestDecided decided = (await world.Engine.DecideTestsAsync()).ShouldHaveSingleItem().ShouldBeOfType<SequenceTestDecided>();
        await EnrolAsync(world, 121, 40);

        (decided.Winner, decided.Significant).ShouldBe((EmailVariant.ControlKey, false));
        world.Sender.Sent.Skip(120).ShouldAllBe(s => s.Message.Subject == "The Masterclass is open");
    }

    [Fact]
    public async Task Until_every_variant_has_its_sample_the_test_runs_and_leads_keep_their_sticky_variants()
    {
        using AutomationWorld world = new([Launch(new StepWinnerTest { Wait = Duration.FromHours(1), MinimumSamplePerVariant = 80 })], s => s.AddFunnelAnalytics());
        await EnrolAsync(world, 1, 120); // about 60 per variant
        await OpenAsync(world, short60: 3, control20: 1, twice: false);
        world.Clock.Advance(Duration.FromDays(3));

        (await world.Engine.DecideTestsAsync()).ShouldBeEmpty();
        await EnrolAsync(world, 121, 60);

        world.Events.OfType<SequenceTestDecided>().ShouldBeEmpty();
        world.Events.OfType<EmailSent>().Select(e => e.Variant).Distinct().Order(StringComparer.Ordinal).ShouldBe([EmailVariant.ControlKey, "short"]);
        ImmutableArray<VariantResult> tally = await world.Services.GetRequiredService<ISequenceTestStore>().TallyAsync(Test, world.Clock.GetCurrentInstant());
        tally.Sum(r => r.Sent).ShouldBe(180);
    }

    [Fact]
    public async Task A_redelivered_send_or_open_counts_once()
    {
        using AutomationWorld world = new([Launch()], s => s.AddFunnelAnalytics());
        await EnrolAsync(world, 1, 4);
        await OpenAsync(world, short60: 5, control20: 20, twice: false);
        ISequenceTestStore store = world.Services.GetRequiredService<ISequenceTestStore>();
        ImmutableArray<VariantResult> before = await store.TallyAsync(Test, world.Clock.GetCurrentInstant());

        foreach (FunnelEvent e in world.Events.Where(e => e is EmailSent or EmailOpened))
        {
            await world.Engine.HandleAsync(e); // as the pipeline does after a crash
        }

        (await store.TallyAsync(Test, world.Clock.GetCurrentInstant())).ShouldBe(before);
        before.Sum(r => r.Sent).ShouldBe(4);
        before.Sum(r => r.Converted).ShouldBe(4);
    }

    [Fact]
    public async Task A_decision_stored_by_an_instance_that_stopped_before_recording_it_is_recorded_by_the_next_run()
    {
        using AutomationWorld world = new([Launch()], s => s.AddFunnelAnalytics());
        ISequenceTestStore store = world.Services.GetRequiredService<ISequenceTestStore>();
        SequenceTestDecision stored = await store.DecideAsync(new SequenceTestDecision(Test, "short", true, [new VariantResult("control", 60, 9), new VariantResult("short", 58, 30)], AutomationWorld.Start));

        SequenceTestDecided decided = (await world.Engine.DecideTestsAsync()).ShouldHaveSingleItem().ShouldBeOfType<SequenceTestDecided>();
        await world.Engine.DecideTestsAsync();
        await world.Services.GetRequiredService<IFunnelEventLog>().AppendAsync([decided]); // another instance recording it too

        (decided.Winner, decided.OccurredAt, decided.Results).ShouldBe((stored.Winner, stored.DecidedAt, stored.Results));
        world.Events.OfType<SequenceTestDecided>().ShouldHaveSingleItem();
        await EnrolAsync(world, 1, 10);
        world.Sender.Sent.ShouldAllBe(s => s.Message.Subject == "Doors open");
    }

    [Fact]
    public void A_winner_test_needs_a_selector_and_a_step_key_of_its_own_and_says_so()
    {
        Should.Throw<ArgumentException>(() => new AutomationWorld(Launch()))
            .Message.ShouldBe("Sequence 'course-launch' step 'launch-1' has a winner test, but no IVariantWinnerSelector is registered to judge it: call services.AddFunnelAnalytics(). (Parameter 'settings')");
        SequenceDefinition other = new()
        {
            Key = "relaunch",
            Steps = [new SequenceStep { Key = "launch-1", Subject = "Again", TextBody = "Open again." }],
        };
        Should.Throw<ArgumentException>(() => new AutomationWorld([Launch(), other], s => s.AddFunnelAnalytics()))
            .Message.ShouldStartWith("Sequence 'course-launch' step 'launch-1' has a winner test, but sequence 'relaunch' has an email step with the same key");
    }

    [Fact]
    public void A_winner_test_is_validated_as_data_with_paths()
    {
        SequenceDefinitionValidator validator = new(PlaceholderTemplateRenderer.Instance);
        SequenceDefinition bad = Launch(new StepWinnerTest { Wait = Duration.FromMinutes(5), MinimumSamplePerVariant = 0, Metric = (VariantWinnerMetric)7 }) with
        {
            Steps =
            [
                Launch().Steps[0] with { WinnerTest = new StepWinnerTest { Wait = Duration.FromDays(31), MinimumSamplePerVariant = 0, Metric = (VariantWinnerMetric)7 } },
                new SequenceStep { Key = "plain", Subject = "Hi", TextBody = "Hello.", WinnerTest = new StepWinnerTest() },
                new SequenceStep { Key = "tag", Action = new AddTag("x"), WinnerTest = new StepWinnerTest() },
            ],
        };

        string[] errors = [.. validator.Validate(bad).Errors.Select(e => e.ErrorMessage)];

        errors.ShouldBe(
        [
            "'Steps[0].WinnerTest.Wait' must be from 1 hour to 30 days.",
            "'Steps[0].WinnerTest.Metric' is not a defined metric.",
            "'Steps[0].WinnerTest.MinimumSamplePerVariant' must be at least 1.",
            "'Steps[1].WinnerTest' needs Variants: a control and at least one challenger.",
            "'Steps[2]' is an action step: it sends no email to the lead, so it takes no Subject, TextBody, HtmlBody, Variants or WinnerTest.",
        ], ignoreOrder: true);
    }

    /// <summary>Adds and enrols leads first … first + count − 1, sending them the launch email now.</summary>
    private static async Task EnrolAsync(AutomationWorld world, int first, int count)
    {
        List<FunnelEvent> enrolments = [];
        for (int n = first; n < first + count; n++)
        {
            LeadId lead = await world.AddLeadAsync(n);
            enrolments.Add(new SequenceEnrolRequested { LeadId = lead, OccurredAt = world.Clock.GetCurrentInstant(), Sequence = "course-launch", RequestedBy = "test" });
        }

        await world.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(enrolments);
        await world.RunAsync();
    }

    /// <summary>Opens the sends so far: of each five short-subject readers <paramref name="short60"/> open, of each twenty control readers <paramref name="control20"/>; with <paramref name="twice"/> every opener opens again and clicks.</summary>
    private static async Task OpenAsync(AutomationWorld world, int short60, int control20, bool twice)
    {
        List<FunnelEvent> feedback = [];
        int n = 0;
        Instant at = world.Clock.GetCurrentInstant() + Duration.FromMinutes(30);
        foreach (EmailSent sent in world.Events.OfType<EmailSent>())
        {
            if (sent.Variant == "short" ? n % 5 < short60 : n % 20 < control20)
            {
                feedback.Add(new EmailOpened { LeadId = sent.LeadId, OccurredAt = at, Email = sent.Email });
                if (twice)
                {
                    feedback.Add(new EmailOpened { LeadId = sent.LeadId, OccurredAt = at + Duration.FromMinutes(1), Email = sent.Email });
                    feedback.Add(new EmailClicked { LeadId = sent.LeadId, OccurredAt = at + Duration.FromMinutes(2), Email = sent.Email, Url = "https://example.com/masterclass" });
                }
            }

            n++;
        }

        await world.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(feedback);
        await world.Services.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
    }
}
