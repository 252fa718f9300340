using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Sequences;
using Funnel.Tests.Sequences;
using Funnel.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Automations;

/// <summary>Branching automations run end to end: the pipeline enrols, the dispatcher evaluates branches and records actions, and the handlers apply them.</summary>
public sealed class AutomationTests
{
    private const string Secret = "automation-webhook-secret-of-32-chars!";

    /// <summary>The guide's nurture: the guide at once, then after two days a branch on whether it was opened.</summary>
    private static SequenceDefinition Nurture(params SequenceStep[] afterBranch) => new()
    {
        Key = "guide-nurture",
        Steps =
        [
            new SequenceStep { Key = "guide", Subject = "Your guide", TextBody = "Here it is, {{ email }}." },
            new SequenceStep
            {
                Key = "opened-guide",
                Delay = Period.FromDays(2),
                If = new EmailRule("guide", EmailAction.Opened),
                Then =
                [
                    new SequenceStep { Key = "tag-engaged", Action = new AddTag("engaged") },
                    new SequenceStep { Key = "case-study", Subject = "How Ana sold 50 copies", TextBody = "A case study." },
                ],
                Else = [new SequenceStep { Key = "resend-guide", Subject = "Did you miss this?", TextBody = "Your guide again." }],
            },
            .. afterBranch,
        ],
    };

    [Fact]
    public async Task A_branch_on_an_opened_email_sends_each_lead_down_their_path_and_both_meet_after_it()
    {
        using AutomationWorld world = new(Nurture(new SequenceStep { Key = "offer", Delay = Period.FromDays(1), Subject = "The Masterclass", TextBody = "Doors are open." }));
        LeadId opener = await world.AddLeadAsync(1);
        LeadId other = await world.AddLeadAsync(2);
        await world.EnrolAsync(opener, "guide-nurture");
        await world.EnrolAsync(other, "guide-nurture");

        await world.RunAsync();
        await world.AppendAsync(new EmailOpened { LeadId = opener, OccurredAt = world.Clock.GetCurrentInstant(), Email = "guide" });
        await world.RunForAsync(Duration.FromDays(5));

        world.Sender.EmailsTo(1).ShouldBe(["guide", "case-study", "offer"]);
        world.Sender.EmailsTo(2).ShouldBe(["guide", "resend-guide", "offer"]);
        (await world.Leads.FindAsync(opener)).ShouldNotBeNull().Tags.ShouldContain("engaged");
        (await world.Leads.FindAsync(other)).ShouldNotBeNull().Tags.ShouldNotContain("engaged");
        ImmutableArray<FunnelEvent> events = world.Events;
        events.OfType<SequenceBranched>().Select(b => (b.LeadId, b.Path)).ShouldBe([(opener, SequenceBranched.ThenPath), (other, SequenceBranched.ElsePath)], ignoreOrder: true);
        events.OfType<SequenceCompleted>().Count().ShouldBe(2);
        events.OfType<LeadTagged>().ShouldHaveSingleItem().LeadId.ShouldBe(opener);
    }

    [Fact]
    public async Task A_branch_is_evaluated_when_it_comes_due_not_when_it_is_scheduled()
    {
        using AutomationWorld world = new(Nurture());
        LeadId lead = await world.AddLeadAsync(1);
        await world.EnrolAsync(lead, "guide-nurture");
        await world.RunAsync();

        // Opened a day and a half later: still before the branch's two days.
        world.Clock.Advance(Duration.FromHours(36));
        await world.AppendAsync(new EmailOpened { LeadId = lead, OccurredAt = world.Clock.GetCurrentInstant(), Email = "guide" });
        await world.RunForAsync(Duration.FromDays(3));

        world.Sender.EmailsTo(1).ShouldBe(["guide", "case-study"]);
    }

    [Fact]
    public async Task Actions_tag_untag_score_move_the_stage_and_enrol_in_and_exit_other_sequences()
    {
        SequenceDefinition webinar = new()
        {
            Key = "webinar-invite",
            Steps =
            [
                new SequenceStep { Key = "invite", Subject = "Join the webinar", TextBody = "Thursday." },
                new SequenceStep { Key = "invite-reminder", Delay = Period.FromDays(3), Subject = "Tomorrow", TextBody = "Reminder." },
            ],
        };
        SequenceDefinition flow = new()
        {
            Key = "hot-lead",
            Steps =
            [
                new SequenceStep { Key = "tag-hot", Action = new AddTag("hot") },
                new SequenceStep { Key = "untag-cold", Action = new RemoveTag("cold") },
                new SequenceStep { Key = "bonus", Action = new AddScore(40) },
                new SequenceStep { Key = "qualify", Action = new SetStage(LifecycleStage.SalesQualified) },
                new SequenceStep { Key = "invite-to-webinar", Action = new EnrolInSequence("webinar-invite") },
                new SequenceStep { Key = "stop-webinar", Delay = Period.FromDays(1), Action = new ExitSequence("webinar-invite") },
            ],
        };
        using AutomationWorld world = new([flow, webinar], services => services.AddSingleton(new ScoringModel { Rules = [new ScoringRule(Definitions.EventMatch.For(EventTypes.PageViewed), 1, 10)], MarketingQualifiedAt = 1000, SalesQualifiedAt = 2000 }));
        LeadId lead = await world.AddLeadAsync(1, p => p with { Tags = p.Tags.Add("cold") });
        await world.EnrolAsync(lead, "hot-lead");

        await world.RunForAsync(Duration.FromDays(5));

        LeadProfile profile = (await world.Leads.FindAsync(lead)).ShouldNotBeNull();
        profile.Tags.ShouldBe(["hot"]);
        profile.Score.ShouldBe(40);
        profile.Stage.ShouldBe(LifecycleStage.SalesQualified);
        world.Sender.EmailsTo(1).ShouldBe(["invite"]); // the reminder was due after the exit.
        SequenceExited exited = world.Events.OfType<SequenceExited>().ShouldHaveSingleItem();
        exited.Sequence.ShouldBe("webinar-invite");
        exited.Goal.ShouldBe("sequence_exit_requested:webinar-invite");
        world.Events.OfType<SequenceEnrolRequested>().Where(r => r.RequestedBy != "test").ShouldHaveSingleItem().RequestedBy.ShouldBe("hot-lead/invite-to-webinar");
        world.Events.OfType<SequenceCompleted>().ShouldHaveSingleItem().Sequence.ShouldBe("hot-lead");
    }

    [Fact]
    public async Task Action_steps_ignore_the_frequency_cap_and_consent_but_keep_their_tag_conditions()
    {
        SequenceDefinition flow = new()
        {
            Key = "tagger",
            Steps =
            [
                new SequenceStep { Key = "welcome", Subject = "Welcome", TextBody = "Hi." },
                new SequenceStep { Key = "tag-vip", Action = new AddTag("vip"), RequiredTags = ["customer"] },
                new SequenceStep { Key = "tag-reader", Action = new AddTag("reader") },
            ],
        };
        using AutomationWorld world = new(flow);
        LeadId lead = await world.AddLeadAsync(1, p => p with { UnsubscribedAt = AutomationWorld.Start });
        await world.EnrolAsync(lead, "tagger");

        await world.RunForAsync(Duration.FromHours(1));

        world.Sender.Sent.ShouldBeEmpty(); // unsubscribed: no email, but the automation goes on.
        (await world.Leads.FindAsync(lead)).ShouldNotBeNull().Tags.ShouldBe(["reader"]);
        world.Events.OfType<EmailSuppressed>().ShouldHaveSingleItem().Reason.ShouldBe("unsubscribed");
    }

    [Fact]
    public async Task A_seller_notification_goes_to_the_seller_with_the_leads_fields_and_is_retried_on_failure()
    {
        SequenceDefinition flow = new()
        {
            Key = "alert",
            Steps = [new SequenceStep { Key = "tell-jane", Action = new NotifySeller("Hot lead: {{ email }}", "{{ email }} is at stage {{ stage }}.") }],
        };
        using AutomationWorld world = new(
            [flow],
            options: o => o.SellerEmail = "jane@example.com",
            script: (n, _) => n == 1 ? EmailSendResult.Transient("421 try later") : null);
        LeadId lead = await world.AddLeadAsync(1);
        await world.EnrolAsync(lead, "alert");

        await world.RunForAsync(Duration.FromHours(1));

        EmailMessage message = world.Sender.Sent.ShouldHaveSingleItem().Message;
        message.To.Value.ShouldBe("jane@example.com");
        message.Subject.ShouldBe("Hot lead: reader1@example.com");
        message.TextBody.ShouldBe("reader1@example.com is at stage lead.");
        message.LeadId.ShouldBeNull();
        message.HtmlBody.ShouldBeNull();
        world.Sender.Calls.ShouldBe(2);
        world.Events.OfType<SellerNotified>().ShouldHaveSingleItem().Step.ShouldBe("tell-jane");
        world.Events.OfType<EmailSent>().ShouldBeEmpty();
    }

    [Fact]
    public async Task A_webhook_posts_a_signed_body_about_the_lead_and_a_retry_sends_the_same_body_and_key()
    {
        RecordingWebhooks hooks = new() { Script = n => n == 1 ? WebhookCallResult.FromStatusCode(503) : WebhookCallResult.FromStatusCode(202) };
        SequenceDefinition flow = new()
        {
            Key = "to-crm",
            Steps = [new SequenceStep { Key = "push", Action = new CallWebhook(new Uri("https://crm.example.com/hooks/funnel")) }],
        };
        using AutomationWorld world = new(
            [flow],
            services => services.AddSingleton<IOutgoingWebhookClient>(hooks),
            options: o => o.WebhookSigningSecret = Secret);
        LeadId lead = await world.AddLeadAsync(1, p => p with { Tags = p.Tags.Add("reader") });
        await world.EnrolAsync(lead, "to-crm");

        await world.RunForAsync(Duration.FromHours(1));

        hooks.Calls.Count.ShouldBe(2);
        (OutgoingWebhook first, Instant firstAt) = hooks.Calls[0];
        (OutgoingWebhook second, Instant secondAt) = hooks.Calls[1];
        second.IdempotencyKey.ShouldBe(first.IdempotencyKey);
        second.Body.ToArray().ShouldBe(first.Body.ToArray());
        WebhookSignature.Verify(Secret, second.Signature, second.Body.Span, secondAt, Duration.FromMinutes(5)).ShouldBeTrue();
        WebhookSignature.Verify("another-secret-that-is-32-chars-long!", second.Signature, second.Body.Span, secondAt, Duration.FromMinutes(5)).ShouldBeFalse();
        JsonNode body = JsonNode.Parse(second.Body.Span).ShouldNotBeNull();
        body["sequence"]!.GetValue<string>().ShouldBe("to-crm");
        body["step"]!.GetValue<string>().ShouldBe("push");
        body["lead"]!["email"]!.GetValue<string>().ShouldBe("reader1@example.com");
        body["lead"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["reader"]);
        AutomationWebhookCalled called = world.Events.OfType<AutomationWebhookCalled>().ShouldHaveSingleItem();
        called.StatusCode.ShouldBe(202);
        called.Attempt.ShouldBe(2);
    }

    [Fact]
    public async Task A_webhook_refused_for_good_stays_recorded_with_its_reason_and_the_sequence_goes_on()
    {
        RecordingWebhooks hooks = new() { Script = _ => WebhookCallResult.FromStatusCode(410) };
        SequenceDefinition flow = new()
        {
            Key = "to-crm",
            Steps =
            [
                new SequenceStep { Key = "push", Action = new CallWebhook(new Uri("https://crm.example.com/gone")) },
                new SequenceStep { Key = "tag-pushed", Action = new AddTag("pushed") },
            ],
        };
        using AutomationWorld world = new([flow], services => services.AddSingleton<IOutgoingWebhookClient>(hooks), options: o => o.WebhookSigningSecret = Secret);
        LeadId lead = await world.AddLeadAsync(1);
        await world.EnrolAsync(lead, "to-crm");

        await world.RunForAsync(Duration.FromHours(1));

        OutboxEntry failed = (await world.Outbox.ListAsync(SendState.FailedPermanent, 10)).ShouldHaveSingleItem();
        failed.Reason.ShouldBe("HTTP 410");
        hooks.Calls.Count.ShouldBe(1);
        (await world.Leads.FindAsync(lead)).ShouldNotBeNull().Tags.ShouldContain("pushed");
    }

    [Fact]
    public async Task A_branch_on_a_tracked_segment_reads_its_membership_when_due()
    {
        SequenceDefinition flow = new()
        {
            Key = "segment-branch",
            Steps =
            [
                new SequenceStep
                {
                    Key = "is-hot",
                    IfInSegment = "hot",
                    Then = [new SequenceStep { Key = "tag-hot", Action = new AddTag("was-hot") }],
                    Else = [new SequenceStep { Key = "tag-cold", Action = new AddTag("was-cold") }],
                },
            ],
        };
        using AutomationWorld world = new([flow], services => services.AddSingleton(new SegmentDefinition("hot", new TagRule("hot"))));
        LeadId hot = await world.AddLeadAsync(1, p => p with { Tags = p.Tags.Add("hot") });
        LeadId cold = await world.AddLeadAsync(2);
        await world.EnrolAsync(hot, "segment-branch");
        await world.EnrolAsync(cold, "segment-branch");

        await world.RunForAsync(Duration.FromHours(1));

        (await world.Services.GetRequiredService<ISegmentMembershipStore>().FindAsync("hot", hot)).ShouldNotBeNull().IsMember.ShouldBeTrue();
        (await world.Leads.FindAsync(hot)).ShouldNotBeNull().Tags.ShouldBe(["hot", "was-hot"]);
        (await world.Leads.FindAsync(cold)).ShouldNotBeNull().Tags.ShouldBe(["was-cold"]);
    }

    [Fact]
    public async Task A_recorded_branch_outcome_is_finished_on_its_path_after_a_crash_and_never_evaluated_again()
    {
        using AutomationWorld world = new(Nurture());
        LeadId lead = await world.AddLeadAsync(1);
        await world.EnrolAsync(lead, "guide-nurture");
        await world.RunAsync();

        // A dispatcher evaluated the branch (else: not opened), recorded that outcome, and died before the follow-up.
        world.Clock.Advance(Duration.FromDays(2));
        OutboxEntry branch = (await world.Outbox.ClaimDueAsync(world.Clock.GetCurrentInstant(), 10, Duration.FromMinutes(5), "crashed")).ShouldHaveSingleItem();
        OutboxEntry recorded = branch with { Outcome = SendState.Sent, Reason = SequenceBranched.ElsePath, Events = [] };
        (await world.Outbox.TryUpdateAsync(branch, recorded)).ShouldBeTrue();

        // Meanwhile the lead opens the guide: the path stays the one recorded.
        await world.AppendAsync(new EmailOpened { LeadId = lead, OccurredAt = world.Clock.GetCurrentInstant(), Email = "guide" });
        await world.RunForAsync(Duration.FromDays(2));

        world.Sender.EmailsTo(1).ShouldBe(["guide", "resend-guide"]);
    }

    [Fact]
    public void The_engine_refuses_automations_whose_needs_are_missing_naming_the_step()
    {
        SequenceDefinition enrol = new() { Key = "a", Steps = [new SequenceStep { Key = "go", Action = new EnrolInSequence("nowhere") }] };
        Should.Throw<ArgumentException>(() => new AutomationWorld(enrol).Dispose()).Message
            .ShouldContain("Sequence 'a' step 'go' enrols in the sequence 'nowhere', which is not registered.");
        SequenceDefinition notify = new() { Key = "b", Steps = [new SequenceStep { Key = "tell", Action = new NotifySeller("s", "t") }] };
        Should.Throw<ArgumentException>(() => new AutomationWorld(notify).Dispose()).Message.ShouldContain("SequenceOptions.SellerEmail is not set");
        SequenceDefinition hook = new() { Key = "c", Steps = [new SequenceStep { Key = "push", Action = new CallWebhook(new Uri("https://example.com/h")) }] };
        Should.Throw<ArgumentException>(() => new AutomationWorld(hook).Dispose()).Message.ShouldContain("AddFunnelHttpWebhooks()");
    }

    /// <summary>Records webhook calls and answers as scripted (call number from 1).</summary>
    private sealed class RecordingWebhooks : IOutgoingWebhookClient
    {
        private readonly ConcurrentQueue<(OutgoingWebhook, Instant)> calls = new();

        public Func<int, WebhookCallResult>? Script { get; init; }

        public IReadOnlyList<(OutgoingWebhook Webhook, Instant At)> Calls => [.. calls];

        public IClock Clock { get; set; } = SystemClock.Instance;

        public Task<WebhookCallResult> PostAsync(OutgoingWebhook webhook, CancellationToken cancellationToken = default)
        {
            calls.Enqueue((webhook, Instant.FromUnixTimeSeconds(long.Parse(webhook.Signature.AsSpan(2, webhook.Signature.IndexOf(',', StringComparison.Ordinal) - 2), System.Globalization.CultureInfo.InvariantCulture))));
            return Task.FromResult(Script?.Invoke(calls.Count) ?? WebhookCallResult.FromStatusCode(200));
        }
    }
}
