using System.Collections.Immutable;
using Funnel.Events;

namespace Funnel.Sequences;

/// <summary>A send of an email failed.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.EmailFailed)]
public sealed record EmailFailed : EmailEvent
{
    /// <summary>Gets whether the failure is final (no more retries).</summary>
    public required bool Permanent { get; init; }

    /// <summary>Gets the attempt number that failed, from 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>Gets the failure reason.</summary>
    public required string Error { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.EmailFailed;
}

/// <summary>An email was not sent because the lead may not receive it.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.EmailSuppressed)]
public sealed record EmailSuppressed : EmailEvent
{
    /// <summary>Gets the reason, such as <c>unsubscribed</c>, <c>bounced</c>, <c>complained</c>, <c>no_consent</c> or <c>unknown_lead</c>.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.EmailSuppressed;
}

/// <summary>An email was not sent to a lead because it no longer applied: a broadcast's lead had left its segment when the send came due.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.EmailSkipped)]
public sealed record EmailSkipped : EmailEvent
{
    /// <summary>Gets the reason, such as <c>left_segment</c>.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.EmailSkipped;
}

/// <summary>The base of the sequence lifecycle events; the subject is the sequence key.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record SequenceEvent : LeadEvent
{
    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets the enrolment.</summary>
    public required EnrolmentId Enrolment { get; init; }

    /// <inheritdoc/>
    /// <value>The <see cref="Sequence"/> key.</value>
    public override string? Subject => Sequence;
}

/// <summary>A lead was enrolled in a sequence.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceEnrolled)]
public sealed record SequenceEnrolled : SequenceEvent
{
    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceEnrolled;
}

/// <summary>An exit goal ended a lead's enrolment before its last step.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceExited)]
public sealed record SequenceExited : SequenceEvent
{
    /// <summary>Gets the exit goal that matched, such as <c>order_placed:ebook-masterclass</c>.</summary>
    public required string Goal { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceExited;
}

/// <summary>A lead's enrolment sent or skipped its last step.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceCompleted)]
public sealed record SequenceCompleted : SequenceEvent
{
    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceCompleted;
}

/// <summary>The base of the events of a step that sends no email to the lead (a branch or an action).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record SequenceStepEvent : SequenceEvent
{
    /// <summary>Gets the step key.</summary>
    public required string Step { get; init; }
}

/// <summary>A branch step evaluated its condition for a lead and took a path.</summary>
/// <remarks>Count them per path for a branch's figures, such as how many leads opened the guide.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceBranched)]
public sealed record SequenceBranched : SequenceStepEvent
{
    /// <summary>The <see cref="Path"/> when the condition held.</summary>
    public const string ThenPath = "then";

    /// <summary>The <see cref="Path"/> when the condition did not hold.</summary>
    public const string ElsePath = "else";

    /// <summary>Gets the path taken: <see cref="ThenPath"/> or <see cref="ElsePath"/>.</summary>
    public required string Path { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceBranched;
}

/// <summary>A <see cref="NotifySeller"/> step's email to the seller was accepted by the mail server.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SellerNotified)]
public sealed record SellerNotified : SequenceStepEvent
{
    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SellerNotified;
}

/// <summary>A <see cref="CallWebhook"/> step's request was answered with a 2xx status.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.AutomationWebhookCalled)]
public sealed record AutomationWebhookCalled : SequenceStepEvent
{
    /// <summary>Gets the URL called.</summary>
    public required string Url { get; init; }

    /// <summary>Gets the HTTP status code of the answer.</summary>
    public required int StatusCode { get; init; }

    /// <summary>Gets the attempt that was delivered, from 1.</summary>
    public required int Attempt { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.AutomationWebhookCalled;
}

/// <summary>A lead is to be enrolled in a sequence: the sequence engine enrols them as the sequence's trigger would.</summary>
/// <remarks>
/// An <see cref="EnrolInSequence"/> step records it; append one yourself to enrol a lead through the event log (the
/// enrolment's id derives from the event's, so a redelivered event enrols once).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceEnrolRequested)]
public sealed record SequenceEnrolRequested : LeadEvent
{
    /// <summary>Gets the key of the sequence to enrol the lead in.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets what asked for it, such as <c>guide-nurture/move-to-webinar</c> (sequence/step).</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? RequestedBy { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceEnrolRequested;

    /// <inheritdoc/>
    /// <value>The <see cref="Sequence"/> key.</value>
    public override string? Subject => Sequence;
}

/// <summary>A lead's active enrolments in a sequence are to end: the sequence engine exits them as an exit goal would.</summary>
/// <remarks>An <see cref="ExitSequence"/> step records it; append one yourself to take a lead out of a sequence through the event log.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceExitRequested)]
public sealed record SequenceExitRequested : LeadEvent
{
    /// <summary>Gets the key of the sequence to exit.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets what asked for it, such as <c>guide-nurture/stop-webinar-reminders</c> (sequence/step).</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? RequestedBy { get; init; }

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceExitRequested;

    /// <inheritdoc/>
    /// <value>The <see cref="Sequence"/> key.</value>
    public override string? Subject => Sequence;
}

/// <summary>A sequence email's automatic winner test (<see cref="StepWinnerTest"/>) was decided: every send of the step from now on gets <see cref="Winner"/>.</summary>
/// <remarks>About no one lead. Its id derives from the test key, so the decision is recorded once however many instances make it.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(SequenceEventTypes.SequenceTestDecided)]
public sealed record SequenceTestDecided : FunnelEvent
{
    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets the step key (the email key of its sends).</summary>
    public required string Step { get; init; }

    /// <summary>Gets the variant every lead gets from now on: the winner, or the control when no variant was significantly better.</summary>
    public required string Winner { get; init; }

    /// <summary>Gets whether <see cref="Winner"/> was significantly better than the others; <see langword="false"/> when the control was kept.</summary>
    public required bool Significant { get; init; }

    /// <summary>Gets each variant's counted sends and conversions when the test was decided.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<Email.VariantResult> Results { get; init; } = [];

    /// <inheritdoc/>
    public override string EventType => SequenceEventTypes.SequenceTestDecided;

    /// <inheritdoc/>
    /// <value>The <see cref="Sequence"/> key.</value>
    public override string? Subject => Sequence;
}
