using Funnel.Leads;

namespace Funnel.Sequences;

/// <summary>What a step does instead of sending an email to the lead: tag, score, move a stage, notify the seller, call a webhook, enrol in or exit a sequence.</summary>
/// <remarks>
/// <para>
/// Actions are plain data, validated with the sequence (<see cref="SequenceDefinitionValidator"/>) and run by the
/// dispatcher like an email step: at the step's time, exactly once in the records. Each records an event in the same
/// atomic step as its outcome, and the engine that owns the change applies it from the event log:
/// </para>
/// <list type="bullet">
/// <item><description><see cref="AddTag"/> and <see cref="RemoveTag"/> record <c>lead_tagged</c> / <c>lead_untagged</c>, which the <c>tags</c> handler applies to the profile;</description></item>
/// <item><description><see cref="AddScore"/> records <c>score_adjusted</c>, which the scoring model adds to the score;</description></item>
/// <item><description><see cref="SetStage"/> records <c>lifecycle_stage_set</c>, which moves the lead forward (never back);</description></item>
/// <item><description><see cref="EnrolInSequence"/> and <see cref="ExitSequence"/> record <c>sequence_enrol_requested</c> / <c>sequence_exit_requested</c>, which the sequence engine acts on;</description></item>
/// <item><description><see cref="NotifySeller"/> and <see cref="CallWebhook"/> are sends, retried on failure like an email, recording <c>seller_notified</c> / <c>automation_webhook_called</c>.</description></item>
/// </list>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record AutomationAction
{
    private protected AutomationAction()
    {
    }
}

/// <summary>Adds a tag to the lead.</summary>
/// <param name="Tag">The tag, such as <c>engaged</c>: 1 to 64 characters, no control characters.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AddTag(string Tag) : AutomationAction;

/// <summary>Removes a tag from the lead.</summary>
/// <param name="Tag">The tag.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RemoveTag(string Tag) : AutomationAction;

/// <summary>Adds points to the lead's score (or takes them away when negative).</summary>
/// <param name="Points">The points: finite, not zero, and at most 1,000,000 either way.</param>
/// <remarks>Needs a registered <see cref="ScoringModel"/>: a lead's score is computed by it from their events.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AddScore(double Points) : AutomationAction;

/// <summary>Moves the lead forward to a lifecycle stage; a lead already further on stays where they are.</summary>
/// <param name="Stage">The stage, from <see cref="LifecycleStage.Lead"/> on.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SetStage(LifecycleStage Stage) : AutomationAction;

/// <summary>Emails the seller about the lead, such as "a hot lead just opened the sales page twice".</summary>
/// <remarks>
/// The message goes to <see cref="SequenceOptions.SellerEmail"/> (required when a sequence has this action), with the
/// same template fields as the sequence's emails, so it can name the lead (<c>{{ email }}</c>). It is not marketing
/// email: no consent, suppression or frequency cap applies, and it has no tracking links.
/// </remarks>
/// <param name="Subject">The subject template.</param>
/// <param name="TextBody">The plain-text body template.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record NotifySeller(string Subject, string TextBody) : AutomationAction;

/// <summary>Posts a signed JSON body about the lead to a URL, such as a CRM's or Zapier's inbound hook.</summary>
/// <remarks>
/// The JSON body holds <c>id</c> (the idempotency key), <c>type</c> (<c>automation.step</c>), <c>sequence</c>,
/// <c>step</c>, <c>enrolment</c>, <c>occurredAt</c> and <c>lead</c> (<c>id</c>, <c>email</c>, <c>stage</c>,
/// <c>score</c>, <c>tags</c>); it is signed with <see cref="SequenceOptions.WebhookSigningSecret"/> as
/// <see cref="Funnel.Webhooks.WebhookSignature"/> describes. The request is sent through
/// the registered <see cref="Funnel.Webhooks.IOutgoingWebhookClient"/> (<c>AddFunnelHttpWebhooks()</c> in Funnel.Hosting)
/// and retried on failure like an email, with the same idempotency key each time.
/// </remarks>
/// <param name="Url">The absolute <c>https</c> URL (<c>http</c> only for a loopback address, for tests).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CallWebhook(Uri Url) : AutomationAction;

/// <summary>Enrols the lead in another sequence, as its trigger would (its re-entry policy and consent rules apply).</summary>
/// <param name="Sequence">The key of the sequence; it must be registered.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EnrolInSequence(string Sequence) : AutomationAction;

/// <summary>Ends the lead's active enrolments in a sequence (this one included), as an exit goal would.</summary>
/// <param name="Sequence">The key of the sequence; it must be registered.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ExitSequence(string Sequence) : AutomationAction;
