using System.Collections.Concurrent;
using Funnel.Email;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>An email sender that accepts every message and adds it to a bag shared by the app instances of a test.</summary>
internal sealed class CollectingEmailSender(ConcurrentBag<EmailMessage> sent) : IEmailSender
{
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        sent.Add(message);
        return Task.FromResult(EmailSendResult.Sent());
    }
}
