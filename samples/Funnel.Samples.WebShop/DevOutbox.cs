using System.Collections.Immutable;
using Funnel.AspNetCore;

namespace Funnel.Samples.WebShop;

/// <summary>An email the shop would send.</summary>
public sealed record OutboxMessage(string To, string Subject, string Text, Uri? ConfirmationLink);

/// <summary>Keeps the guide emails the shop would send, shown at <c>/dev/outbox</c> while the sample has no mail server.</summary>
public sealed class DevOutbox : IOptInNotifier
{
    private readonly Lock gate = new();
    private readonly List<OutboxMessage> messages = [];

    /// <inheritdoc/>
    public Task NotifyAsync(OptInNotification notification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        string text = notification.ConfirmationLink is { } link
            ? $"Thanks for asking for {notification.Magnet.Title}. Please confirm your address to get it: {link}"
            : $"Here is {notification.Magnet.Title}. Enjoy!";
        var message = new OutboxMessage(notification.Result.Lead.Email.ToString(), notification.Magnet.Title, text, notification.ConfirmationLink);
        lock (gate)
        {
            messages.Add(message);
        }

        return Task.CompletedTask;
    }

    /// <summary>Returns the messages, newest first.</summary>
    public ImmutableArray<OutboxMessage> Snapshot()
    {
        lock (gate)
        {
            return [.. Enumerable.Reverse(messages)];
        }
    }
}
