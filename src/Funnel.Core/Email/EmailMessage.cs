using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;

namespace Funnel.Email;

/// <summary>One rendered email, ready for an <see cref="IEmailSender"/>.</summary>
/// <remarks>
/// <see cref="IdempotencyKey"/> identifies the send: the same key is passed again when a send is retried, so a
/// sender can make the transport message id stable (the SMTP adapter derives the <c>Message-ID</c> from it) and
/// receivers can drop a duplicate.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailMessage
{
    /// <summary>Gets the recipient.</summary>
    public required EmailAddress To { get; init; }

    /// <summary>Gets the sender address, such as <c>Jane &lt;jane@example.com&gt;</c>.</summary>
    /// <value><see langword="null"/> to use the sender's configured default.</value>
    public string? From { get; init; }

    /// <summary>Gets the subject line.</summary>
    public required string Subject { get; init; }

    /// <summary>Gets the plain-text body.</summary>
    public required string TextBody { get; init; }

    /// <summary>Gets the HTML body, sent as an alternative to <see cref="TextBody"/>.</summary>
    /// <value><see langword="null"/> for a text-only email.</value>
    public string? HtmlBody { get; init; }

    /// <summary>Gets the stable key of this send, such as <c>0193…:nurture-3</c>.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets extra headers, such as <c>List-Unsubscribe</c>.</summary>
    /// <value>Defaults to no headers.</value>
    public ImmutableDictionary<string, string> Headers { get; init; } = ImmutableDictionary.Create<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the lead the email goes to, so a provider's feedback on it can name the lead.</summary>
    /// <value><see langword="null"/> when the email is not to a known lead; the sequence engine sets it.</value>
    public LeadId? LeadId { get; init; }

    /// <summary>Gets the key of the email (a sequence step or broadcast), such as <c>nurture-3</c>.</summary>
    /// <value><see langword="null"/> when unknown; the sequence engine sets it.</value>
    public string? EmailKey { get; init; }

    /// <summary>Gets the email topic the message belongs to (its sequence's or broadcast's), such as <c>newsletter</c>.</summary>
    /// <remarks>An adapter can map it to its provider's unsubscribe group, so the provider's own unsubscribe link leaves the topic only.</remarks>
    /// <value><see langword="null"/> when the message has no topic; the sequence engine sets it.</value>
    public string? Topic { get; init; }
}

/// <summary>How an <see cref="IEmailSender"/> send ended.</summary>
public enum EmailSendStatus
{
    /// <summary>The server accepted the message.</summary>
    Sent,

    /// <summary>The send failed in a way that may succeed later (a 4xx reply, a dropped connection); retry with backoff.</summary>
    TransientFailure,

    /// <summary>The send failed for good (a 5xx reply such as an unknown mailbox); do not retry.</summary>
    PermanentFailure,
}

/// <summary>The outcome of one send: sent (with the transport message id) or failed (with the reason).</summary>
/// <remarks>
/// A failure the recipient's mailbox caused is a bounce (<see cref="Bounce"/>): the sequence dispatcher records
/// <see cref="EmailBounced"/> for it and suppresses the lead at once on a hard bounce, or after
/// <c>SequenceOptions.SoftBounceThreshold</c> soft bounces in a row. Other failures (a policy block, a lost connection)
/// do not count against the lead.
/// </remarks>
/// <param name="Status">How the send ended.</param>
/// <param name="MessageId">The transport message id, when sent and known.</param>
/// <param name="Error">The failure reason, when failed.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailSendResult(EmailSendStatus Status, string? MessageId = null, string? Error = null)
{
    /// <summary>Returns a successful result.</summary>
    /// <param name="messageId">The transport message id, if known.</param>
    /// <returns>The result.</returns>
    public static EmailSendResult Sent(string? messageId = null) => new(EmailSendStatus.Sent, messageId);

    /// <summary>Returns a failure worth retrying.</summary>
    /// <param name="error">The reason.</param>
    /// <returns>The result.</returns>
    public static EmailSendResult Transient(string error) => new(EmailSendStatus.TransientFailure, null, error);

    /// <summary>Returns a failure not worth retrying.</summary>
    /// <param name="error">The reason.</param>
    /// <returns>The result.</returns>
    public static EmailSendResult Permanent(string error) => new(EmailSendStatus.PermanentFailure, null, error);

    /// <summary>Gets whether the recipient's mailbox rejected the message, and how.</summary>
    /// <value><see langword="null"/> (the default) when the failure is not a bounce, or the send succeeded.</value>
    public BounceKind? Bounce { get; init; }

    /// <summary>Returns a failure caused by the recipient's mailbox.</summary>
    /// <remarks>
    /// A hard bounce (an unknown mailbox, SMTP 550 5.1.1) is a permanent failure; a soft bounce (a full mailbox, a
    /// 4xx reply to <c>RCPT TO</c>) is a transient failure, retried like any other.
    /// </remarks>
    /// <param name="kind">Whether the bounce is permanent.</param>
    /// <param name="error">The reason.</param>
    /// <returns>The result.</returns>
    public static EmailSendResult Bounced(BounceKind kind, string error) =>
        new(kind == BounceKind.Hard ? EmailSendStatus.PermanentFailure : EmailSendStatus.TransientFailure, null, error) { Bounce = kind };
}

/// <summary>Sends one email: the seam between the sequence dispatcher and a mail transport.</summary>
/// <remarks>
/// Return failures as an <see cref="EmailSendResult"/> (transient or permanent); throw only when cancelled. The sequence
/// dispatcher records any other exception, including a cancellation its token did not ask for (an HTTP client's
/// timeout), as a transient failure. The Funnel.Email.Smtp package implements it with MailKit.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IEmailSender
{
    /// <summary>Sends the message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>Whether the server accepted the message, or why not.</returns>
    Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default);
}
