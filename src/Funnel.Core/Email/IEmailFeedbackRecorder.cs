namespace Funnel.Email;

/// <summary>Records an email provider's feedback (bounces, complaints, unsubscribes, deliveries) as funnel events of the right lead: the seam between a provider's webhook and the funnel.</summary>
/// <remarks>
/// Recording is idempotent on (<see cref="EmailFeedback.Provider"/>, <see cref="EmailFeedback.ProviderEventId"/>):
/// a webhook the provider delivers again records nothing twice. A hard bounce or a complaint suppresses the lead at
/// once; soft bounces after a threshold. <c>AddFunnelSequences()</c> registers the implementation; provider adapters
/// such as Funnel.Email.SendGrid call it.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IEmailFeedbackRecorder
{
    /// <summary>Records one report for its lead.</summary>
    /// <param name="feedback">The report.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether the report was recorded, a replay, or for no known lead.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="feedback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The provider or its event id is empty.</exception>
    Task<EmailFeedbackResult> RecordAsync(EmailFeedback feedback, CancellationToken cancellationToken = default);
}
