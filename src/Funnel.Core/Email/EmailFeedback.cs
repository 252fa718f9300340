using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Email;

/// <summary>What an email provider reported about an email.</summary>
public enum EmailFeedbackKind
{
    /// <summary>The recipient's server rejected the email for good (an unknown mailbox): recorded as a hard <see cref="EmailBounced"/>; the lead is suppressed at once.</summary>
    HardBounce = 0,

    /// <summary>The recipient's server rejected the email for now (a full mailbox): recorded as a soft <see cref="EmailBounced"/>; the lead is suppressed after the soft-bounce threshold.</summary>
    SoftBounce = 1,

    /// <summary>The recipient marked the email as spam: recorded as <see cref="EmailComplained"/>; the lead is suppressed and consent withdrawn.</summary>
    Complaint = 2,

    /// <summary>The recipient unsubscribed through the provider: recorded as <see cref="EmailUnsubscribed"/>; consent is withdrawn.</summary>
    Unsubscribe = 3,

    /// <summary>The recipient's server accepted the email: recorded as <see cref="EmailDelivered"/>; the soft-bounce count starts again.</summary>
    Delivered = 4,

    /// <summary>The email was opened: recorded as <see cref="EmailOpened"/>.</summary>
    Opened = 5,

    /// <summary>A link in the email was clicked: recorded as <see cref="EmailClicked"/>.</summary>
    Clicked = 6,
}

/// <summary>One report from an email provider (a webhook event), to be recorded for its lead by an <see cref="IEmailFeedbackRecorder"/>.</summary>
/// <remarks>
/// <see cref="Provider"/> and <see cref="ProviderEventId"/> identify the report: recording the same pair again (a
/// replayed webhook) records nothing twice. The lead is found by <see cref="LeadId"/> when given (the adapter reads it
/// back from the data it attached to the message), otherwise by <see cref="Recipient"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailFeedback
{
    /// <summary>The email key recorded when the report does not say which email it is about.</summary>
    public const string UnknownEmail = "unknown";

    /// <summary>Gets the provider's name, such as <c>sendgrid</c>.</summary>
    public required string Provider { get; init; }

    /// <summary>Gets the provider's unique id of this report, such as SendGrid's <c>sg_event_id</c>.</summary>
    public required string ProviderEventId { get; init; }

    /// <summary>Gets what happened.</summary>
    public required EmailFeedbackKind Kind { get; init; }

    /// <summary>Gets when the provider says it happened.</summary>
    public required Instant OccurredAt { get; init; }

    /// <summary>Gets the lead the email went to, when the report carries it.</summary>
    /// <value><see langword="null"/> to find the lead by <see cref="Recipient"/>.</value>
    public LeadId? LeadId { get; init; }

    /// <summary>Gets the recipient's address.</summary>
    /// <value><see langword="null"/> when the report names none.</value>
    public EmailAddress? Recipient { get; init; }

    /// <summary>Gets the key of the email (a sequence step or broadcast), such as <c>nurture-3</c>.</summary>
    /// <value><see langword="null"/> when unknown; recorded as <see cref="UnknownEmail"/>.</value>
    public string? Email { get; init; }

    /// <summary>Gets the clicked URL, for <see cref="EmailFeedbackKind.Clicked"/>.</summary>
    /// <value><see langword="null"/> when none.</value>
    public string? Url { get; init; }

    /// <summary>Gets the email topic the lead left, for an <see cref="EmailFeedbackKind.Unsubscribe"/> from one topic only (a provider's unsubscribe group mapped to a topic).</summary>
    /// <value><see langword="null"/> (the default): the lead left all marketing email.</value>
    public string? Topic { get; init; }
}

/// <summary>How recording an <see cref="EmailFeedback"/> ended.</summary>
public enum EmailFeedbackStatus
{
    /// <summary>The event was recorded and the lead updated.</summary>
    Recorded = 0,

    /// <summary>The report was recorded before (a replay): nothing was recorded again.</summary>
    Duplicate = 1,

    /// <summary>No lead matches the report: nothing was recorded.</summary>
    UnknownLead = 2,
}

/// <summary>The outcome of recording one <see cref="EmailFeedback"/>.</summary>
/// <param name="Status">How recording ended.</param>
/// <param name="Event">The event recorded (or recorded before, for a duplicate); <see langword="null"/> for an unknown lead.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailFeedbackResult(EmailFeedbackStatus Status, EmailEvent? Event);
