using System.Collections.Immutable;
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
