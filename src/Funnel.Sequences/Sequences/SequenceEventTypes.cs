namespace Funnel.Sequences;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the email sequence events (Funnel.Sequences).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class SequenceEventTypes
{
    /// <summary>A send failed, transiently or for good (<see cref="Sequences.EmailFailed"/>).</summary>
    public const string EmailFailed = "email_failed";

    /// <summary>A send was suppressed because the lead may not receive it (<see cref="Sequences.EmailSuppressed"/>).</summary>
    public const string EmailSuppressed = "email_suppressed";

    /// <summary>A send was skipped because it no longer applied, such as a broadcast to a lead who left its segment (<see cref="Sequences.EmailSkipped"/>).</summary>
    public const string EmailSkipped = "email_skipped";

    /// <summary>A lead was enrolled in a sequence (<see cref="Sequences.SequenceEnrolled"/>).</summary>
    public const string SequenceEnrolled = "sequence_enrolled";

    /// <summary>An exit goal ended a lead's enrolment (<see cref="Sequences.SequenceExited"/>).</summary>
    public const string SequenceExited = "sequence_exited";

    /// <summary>A lead's enrolment sent or skipped its last step (<see cref="Sequences.SequenceCompleted"/>).</summary>
    public const string SequenceCompleted = "sequence_completed";

    /// <summary>A branch step of an enrolment took its <c>then</c> or <c>else</c> path (<see cref="Sequences.SequenceBranched"/>).</summary>
    public const string SequenceBranched = "sequence_branched";

    /// <summary>A step emailed the seller about a lead (<see cref="Sequences.SellerNotified"/>).</summary>
    public const string SellerNotified = "seller_notified";

    /// <summary>A step's outgoing webhook was delivered (<see cref="Sequences.AutomationWebhookCalled"/>).</summary>
    public const string AutomationWebhookCalled = "automation_webhook_called";

    /// <summary>A lead is to be enrolled in a sequence (<see cref="Sequences.SequenceEnrolRequested"/>).</summary>
    public const string SequenceEnrolRequested = "sequence_enrol_requested";

    /// <summary>A lead's active enrolments in a sequence are to end (<see cref="Sequences.SequenceExitRequested"/>).</summary>
    public const string SequenceExitRequested = "sequence_exit_requested";

    /// <summary>A sequence email's automatic winner test was decided (<see cref="Sequences.SequenceTestDecided"/>).</summary>
    public const string SequenceTestDecided = "sequence_test_decided";
}
