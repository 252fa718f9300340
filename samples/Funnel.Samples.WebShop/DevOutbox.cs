using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Funnel.Email;

namespace Funnel.Samples.WebShop;

/// <summary>An email the shop sent to the dev outbox.</summary>
/// <param name="To">The recipient.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Text">The plain-text body.</param>
/// <param name="Links">The links of the text body, in order.</param>
public sealed record OutboxMessage(string To, string Subject, string Text, ImmutableArray<Uri> Links)
{
    /// <summary>Gets the double opt-in link, when the message has one.</summary>
    public Uri? ConfirmationLink => Links.FirstOrDefault(l => l.AbsolutePath.EndsWith("/confirm", StringComparison.Ordinal));
}

/// <summary>The fallback mail "server": keeps the emails and shows them at <c>/dev/outbox</c> when smtp4dev cannot run.</summary>
public sealed partial class DevOutbox : IEmailSender
{
    private readonly Lock gate = new();
    private readonly List<OutboxMessage> messages = [];

    /// <inheritdoc/>
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ImmutableArray<Uri> links = [.. LinkPattern().Matches(message.TextBody).Select(m => new Uri(m.Value))];
        lock (gate)
        {
            messages.Add(new OutboxMessage(message.To.ToString(), message.Subject, message.TextBody, links));
        }

        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + "@outbox.local>"));
    }

    /// <summary>Returns the messages, newest first.</summary>
    public ImmutableArray<OutboxMessage> Snapshot()
    {
        lock (gate)
        {
            return [.. Enumerable.Reverse(messages)];
        }
    }

    [GeneratedRegex(@"https?://[^\s""'<>]+")]
    private static partial Regex LinkPattern();
}
