using Funnel.Leads;

namespace Funnel.AspNetCore;

/// <summary>What an accepted opt-in tells the notifiers: the result and the link that confirms it.</summary>
/// <param name="Result">The opt-in result from <see cref="LeadCapture.OptInAsync"/>.</param>
/// <param name="Magnet">The lead magnet opted in to.</param>
/// <param name="ConfirmationLink">The absolute double opt-in link to email to the lead, or <see langword="null"/> when no confirmation is needed.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OptInNotification(OptInResult Result, LeadMagnet Magnet, Uri? ConfirmationLink);

/// <summary>Acts on an accepted opt-in, such as emailing the lead magnet and the confirmation link.</summary>
/// <remarks>
/// Every registered notifier is called after the opt-in is stored and its events recorded. The link carries the
/// secret token, so send it only to the lead's address; the opt-in endpoint never returns it.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many requests at once.</threadsafety>
public interface IOptInNotifier
{
    /// <summary>Handles an accepted opt-in.</summary>
    /// <param name="notification">The opt-in.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the notification is handled.</returns>
    Task NotifyAsync(OptInNotification notification, CancellationToken cancellationToken = default);
}
