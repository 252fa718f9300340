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
