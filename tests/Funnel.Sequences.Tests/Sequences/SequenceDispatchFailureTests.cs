using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequenceDispatchFailureTests
{
    [Fact]
    public async Task Dispatch_SenderThrowsACancellationNobodyAskedFor_RecordsATransientFailureAndFinishesTheBatch()
    {
        SequenceWorld world = new();
        ThrowingSender sender = new(n => n == 1 ? new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.") : null);
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        LeadProfile first = await world.AddLeadAsync(1);
        LeadProfile second = await world.AddLeadAsync(2);
        await engine.HandleAsync(SequenceWorld.OptIn(first.Id, SequenceWorld.Start));
        await engine.HandleAsync(SequenceWorld.OptIn(second.Id, SequenceWorld.Start));

        DispatchResult result = await engine.DispatchDueAsync();

        result.Claimed.ShouldBe(2);
        result.Failed.ShouldBe(1);
        result.Sent.ShouldBe(1);
        EmailFailed failed = result.Events.OfType<EmailFailed>().Single();
        failed.Permanent.ShouldBeFalse();
        failed.Error.ShouldContain("TaskCanceledException");
        OutboxEntry entry = world.Outbox.Snapshot().Single(e => e.StepIndex == 0 && e.State != SendState.Sent);
        entry.State.ShouldBe(SendState.FailedTransient);
        entry.Attempts.ShouldBe(1);
    }

    [Fact]
    public async Task Dispatch_RendererThrows_RecordsTheFailureInsteadOfAbortingTheBatch()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = new(new SequenceEngineSettings
        {
            Definitions = [GuideSequences.Nurture],
            Enrolments = world.Enrolments,
            Outbox = world.Outbox,
            Leads = world.Leads,
            Sender = sender,
            EventLog = world.EventLog,
            Clock = world.Clock,
            Renderer = new FailingRenderer("Broken"),
            Options = new SequenceOptions { MaxAttempts = 1 },
        });
        LeadProfile broken = await world.AddLeadAsync(1, firstName: "Broken");
        LeadProfile fine = await world.AddLeadAsync(2, firstName: "Ada");
        await engine.HandleAsync(SequenceWorld.OptIn(broken.Id, SequenceWorld.Start));
        await engine.HandleAsync(SequenceWorld.OptIn(fine.Id, SequenceWorld.Start));

        DispatchResult result = await engine.DispatchDueAsync();

        result.Sent.ShouldBe(1);
        result.Failed.ShouldBe(1);
        sender.Sent.Single().Message.To.ShouldBe(fine.Email);
        EmailFailed failed = result.Events.OfType<EmailFailed>().Single();
        failed.LeadId.ShouldBe(broken.Id);
        failed.Permanent.ShouldBeTrue();
        failed.Error.ShouldContain("FormatException");
        world.Outbox.Snapshot().Single(e => e.LeadId == broken.Id && e.StepIndex == 0).State.ShouldBe(SendState.FailedPermanent);
    }

    [Fact]
    public async Task HandleAsync_CrashBetweenEnrollingAndSchedulingThenTheTriggerIsRedelivered_SchedulesTheFirstStep()
    {
        SequenceWorld world = new();
        CrashSwitch crash = new() { CrashAt = 1, Armed = true };
        CrashingOutbox outbox = new(world.Outbox, crash);
        RecordingSender sender = new(world.Clock);
        LeadProfile lead = await world.AddLeadAsync(1);
        OptedIn optIn = SequenceWorld.OptIn(lead.Id, SequenceWorld.Start);
        await Should.ThrowAsync<OperationCanceledException>(() => world.Engine(sender, [GuideSequences.Nurture], outbox: outbox).HandleAsync(optIn));
        world.Enrolments.Snapshot().Single().Status.ShouldBe(EnrolmentStatus.Active);
        world.Outbox.Count.ShouldBe(0);

        SequenceEngine restarted = world.Engine(sender, [GuideSequences.Nurture], outbox: outbox);
        // The redelivery finds the enrolment by its derived id, schedules the step and records the lost event once.
        (await restarted.HandleAsync(optIn)).OfType<SequenceEnrolled>().ShouldHaveSingleItem();
        await restarted.HandleAsync(optIn);
        world.EventLog.Snapshot().OfType<SequenceEnrolled>().ShouldHaveSingleItem();
        await world.RunUntilAsync(restarted, SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1));

        world.Enrolments.Snapshot().Count.ShouldBe(1);
        sender.Sent.Select(s => s.Message.IdempotencyKey).ShouldBeUnique();
        sender.Sent.Count.ShouldBe(GuideSequences.Nurture.Steps.Length);
        world.Enrolments.Snapshot().Single().Status.ShouldBe(EnrolmentStatus.Completed);
    }

    [Fact]
    public async Task Dispatch_TransientFailureJustBeforeQuietHours_RetriesWhenTheyEndNotAtNight()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock) { Script = (n, _) => n == 1 ? EmailSendResult.Transient("421 try later") : null };
        SequenceDefinition evening = new()
        {
            Key = "evening",
            Triggers = [global::Funnel.Definitions.EventMatch.For(EventTypes.OptedIn, GuideSequences.Magnet)],
            QuietHours = new QuietHours(new LocalTime(21, 0), new LocalTime(8, 0)),
            Steps = [new SequenceStep { Key = "evening-1", Timing = StepTiming.AfterEnrolment, SendAt = new LocalTime(20, 59), Subject = "Tonight", TextBody = "Hello." }],
        };
        SequenceEngine engine = world.Engine(sender, [evening], new SequenceOptions { RetryDelay = Duration.FromMinutes(1) });
        LeadProfile lead = await world.AddLeadAsync(1, "Europe/Berlin");
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        world.Clock.Reset(Instant.FromUtc(2026, 3, 24, 19, 59)); // 20:59 in Berlin

        DispatchResult result = await engine.DispatchDueAsync();

        result.Failed.ShouldBe(1);
        world.Outbox.Snapshot().Single().DueAt.ShouldBe(Instant.FromUtc(2026, 3, 25, 7, 0)); // 08:00 in Berlin, not 21:00
        await world.RunUntilAsync(engine, Instant.FromUtc(2026, 3, 25, 12, 0), Duration.FromMinutes(1));
        sender.Sent.Single().At.ShouldBe(Instant.FromUtc(2026, 3, 25, 7, 0));
    }

    [Fact]
    public async Task Dispatch_StepInsertedIntoADeployedSequence_SendsEachPendingStepByItsKeyNotItsOldIndex()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        LeadProfile lead = await world.AddLeadAsync(1);
        SequenceEngine before = world.Engine(sender, [GuideSequences.Nurture]);
        await before.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        (await before.DispatchDueAsync()).Sent.ShouldBe(1);

        SequenceStep inserted = new() { Key = "nurture-1b", Subject = "Inserted", TextBody = "A new second email." };
        SequenceDefinition edited = GuideSequences.Nurture with { Steps = GuideSequences.Nurture.Steps.Insert(1, inserted) };
        await world.RunUntilAsync(world.Engine(sender, [edited]), SequenceWorld.Start + Duration.FromDays(10), Duration.FromHours(1));

        // The lead never opens the guide: day 3's branch takes its else path (the reminder), not nurture-4.
        SequenceStep[] emails = [.. GuideSequences.Nurture.AllSteps().Where(s => s.Subject is not null && s.Key != "nurture-4")];
        sender.Sent.Select(s => s.Message.Subject).ShouldBe(emails.Select(s => s.Subject));
        sender.Sent.ShouldAllBe(s => s.Message.IdempotencyKey.EndsWith(":" + emails.Single(step => step.Subject == s.Message.Subject).Key, StringComparison.Ordinal));
        world.Enrolments.Snapshot().Single().Status.ShouldBe(EnrolmentStatus.Completed);
    }

    private sealed class ThrowingSender(Func<int, Exception?> fail) : IEmailSender
    {
        private int calls;

        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
        {
            int n = Interlocked.Increment(ref calls);
            return fail(n) is { } e ? Task.FromException<EmailSendResult>(e) : Task.FromResult(EmailSendResult.Sent());
        }
    }

    /// <summary>The placeholder renderer, except that rendering for a lead whose first name is <c>poison</c> throws.</summary>
    private sealed class FailingRenderer(string poison) : ITemplateRenderer
    {
        public ImmutableArray<string> GetFields(string text) => PlaceholderTemplateRenderer.Instance.GetFields(text);

        public string Render(string text, TemplateModel model, bool html) =>
            model.Fields.TryGetValue("first_name", out string? name) && name == poison
                ? throw new FormatException("The template engine failed.")
                : PlaceholderTemplateRenderer.Instance.Render(text, model, html);
    }
}
