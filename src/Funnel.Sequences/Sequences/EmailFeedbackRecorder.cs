using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;

namespace Funnel.Sequences;

/// <summary>Records email provider feedback as funnel events and applies it to the lead: the <see cref="IEmailFeedbackRecorder"/> that <c>AddFunnelSequences()</c> registers.</summary>
/// <remarks>
/// <para>
/// The event's id is derived from the provider and its event id, so the event log, which appends idempotently by id,
/// is the store that remembers which reports were recorded: a replayed report appends nothing and returns
/// <see cref="EmailFeedbackStatus.Duplicate"/>.
/// </para>
/// <para>
/// The event is appended first, then the lead updated with <see cref="LeadProfile.ApplyFeedback"/>. If a process
/// dies in between, the replay finds the event recorded and still applies a hard bounce, complaint or unsubscribe
/// (they keep their first instant, so applying again changes nothing); only a soft bounce is not counted twice, so
/// at worst one soft bounce goes uncounted.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class EmailFeedbackRecorder : IEmailFeedbackRecorder
{
    // The root every feedback event id is derived from; never change it, or replays recorded before would record again.
    private static readonly EventId Root = new(new Guid("6f1d2c1e-6a0b-4c55-9a43-0a8f0e2d5b17"));
    private readonly ILeadStore _leads;
    private readonly IFunnelEventLog _eventLog;
    private readonly int _softBounceThreshold;

    /// <summary>Initializes the recorder.</summary>
    /// <param name="leads">The lead store.</param>
    /// <param name="eventLog">The event log the events are appended to.</param>
    /// <param name="options">The sequence options, for <see cref="SequenceOptions.SoftBounceThreshold"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The soft-bounce threshold is not positive.</exception>
    public EmailFeedbackRecorder(ILeadStore leads, IFunnelEventLog eventLog, SequenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(eventLog);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SoftBounceThreshold, "options.SoftBounceThreshold");
        _leads = leads;
        _eventLog = eventLog;
        _softBounceThreshold = options.SoftBounceThreshold;
    }

    /// <inheritdoc/>
    public async Task<EmailFeedbackResult> RecordAsync(EmailFeedback feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        ArgumentException.ThrowIfNullOrWhiteSpace(feedback.Provider, "feedback.Provider");
        ArgumentException.ThrowIfNullOrWhiteSpace(feedback.ProviderEventId, "feedback.ProviderEventId");
        LeadProfile? lead = feedback.LeadId is { } id ? await _leads.FindAsync(id, cancellationToken).ConfigureAwait(false) : null;
        if (lead is null && feedback.Recipient is { } recipient)
        {
            lead = await _leads.FindByEmailAsync(recipient, cancellationToken).ConfigureAwait(false);
        }

        if (lead is null)
        {
            return new EmailFeedbackResult(EmailFeedbackStatus.UnknownLead, null);
        }

        EmailEvent e = EventOf(feedback, lead.Id);
        bool appended = await _eventLog.AppendAsync([e], cancellationToken).ConfigureAwait(false) > 0;
        if (appended || feedback.Kind is EmailFeedbackKind.HardBounce or EmailFeedbackKind.Complaint or EmailFeedbackKind.Unsubscribe)
        {
            await LeadFeedback.ApplyAsync(_leads, lead.Id, e, _softBounceThreshold, cancellationToken).ConfigureAwait(false);
        }

        return new EmailFeedbackResult(appended ? EmailFeedbackStatus.Recorded : EmailFeedbackStatus.Duplicate, e);
    }

    /// <summary>Returns the event id of a provider's report: the same for the same provider and event id.</summary>
    internal static EventId IdOf(string provider, string providerEventId) =>
        EventId.Derive(Root, "email-feedback:" + provider + ":" + providerEventId);

    private static EmailEvent EventOf(EmailFeedback feedback, LeadId lead)
    {
        EventId id = IdOf(feedback.Provider, feedback.ProviderEventId);
        string email = string.IsNullOrEmpty(feedback.Email) ? EmailFeedback.UnknownEmail : feedback.Email;
        return feedback.Kind switch
        {
            EmailFeedbackKind.HardBounce => new EmailBounced { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email, Kind = BounceKind.Hard },
            EmailFeedbackKind.SoftBounce => new EmailBounced { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email, Kind = BounceKind.Soft },
            EmailFeedbackKind.Complaint => new EmailComplained { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email },
            EmailFeedbackKind.Unsubscribe => new EmailUnsubscribed { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email, Topic = feedback.Topic },
            EmailFeedbackKind.Delivered => new EmailDelivered { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email },
            EmailFeedbackKind.Opened => new EmailOpened { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email },
            EmailFeedbackKind.Clicked => new EmailClicked { Id = id, LeadId = lead, OccurredAt = feedback.OccurredAt, Email = email, Url = feedback.Url },
            _ => throw new ArgumentOutOfRangeException(nameof(feedback), feedback.Kind, "Unknown feedback kind."),
        };
    }
}
