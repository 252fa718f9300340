using System.Collections.Concurrent;

namespace Funnel.Email;

/// <summary>An <see cref="IEmailSender"/> for tests that accepts every message and records it.</summary>
/// <remarks>
/// Register it as the <see cref="IEmailSender"/> of a test host, run the code under test, then assert on
/// <see cref="Sent"/>. Each message is answered <see cref="EmailSendResult.Sent"/> with the message id
/// <c>&lt;{IdempotencyKey}&gt;</c>; a retried send of the same message is recorded again.
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class RecordingEmailSender : IEmailSender
{
    private readonly ConcurrentQueue<EmailMessage> _sent = new();

    /// <summary>Gets the messages accepted so far, in the order they were sent.</summary>
    /// <value>A snapshot; empty until the first send.</value>
    public IReadOnlyList<EmailMessage> Sent => [.. _sent];

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is <see langword="null"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> is cancelled; nothing is recorded.</exception>
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        _sent.Enqueue(message);
        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + ">"));
    }
}
