using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The dispatcher's part of email feedback: a bounce the sender reports suppresses the lead.</summary>
public sealed partial class SequenceEngine
{
    /// <summary>Applies a bounced send to its lead (a hard bounce at once, soft ones at the threshold) and returns the event to record with the outcome; on an accepted send, starts the soft-bounce count again.</summary>
    private async Task<EmailBounced?> ApplyBounceAsync(BatchItem item, EmailSendResult result, Instant at, CancellationToken cancellationToken)
    {
        LeadId lead = item.Entry.LeadId;
        if (result.Bounce is { } kind && result.Status != EmailSendStatus.Sent)
        {
            EmailBounced bounced = new() { LeadId = lead, OccurredAt = at, Email = item.Step.Key, Kind = kind };
            await LeadFeedback.ApplyAsync(settings.Leads, lead, bounced, settings.Options.SoftBounceThreshold, cancellationToken).ConfigureAwait(false);
            return bounced;
        }

        if (result.Status == EmailSendStatus.Sent && item.Lead is { SoftBounces: > 0 })
        {
            await LeadFeedback.ResetSoftBouncesAsync(settings.Leads, lead, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private static ImmutableArray<FunnelEvent> WithBounce(FunnelEvent outcome, EmailBounced? bounced) =>
        bounced is null ? [outcome] : [outcome, bounced];
}
