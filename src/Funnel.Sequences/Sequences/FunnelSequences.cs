using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;

namespace Funnel.Sequences;

/// <summary>The sequences the library itself relies on, registered by <c>AddFunnelSequences()</c>.</summary>
/// <remarks>
/// Replace one by registering a <see cref="SequenceDefinition"/> with the same key (before or after
/// <c>AddFunnelSequences()</c>): yours is used instead, so you can word the email your way.
/// </remarks>
/// <threadsafety>All members are immutable and safe to share between threads.</threadsafety>
public static class FunnelSequences
{
    /// <summary>Gets the double opt-in confirmation email: sent at once on every <c>confirmation_requested</c>, through the outbox.</summary>
    /// <remarks>
    /// Key <c>opt-in-confirmation</c>; not marketing (it asks for consent, so it is sent while consent is pending);
    /// <see cref="ReEntryPolicy.Always"/>, so each request mails its own new link. The templates may use
    /// <c>{{ confirmation_url }}</c>, <c>{{ magnet_title }}</c> and <c>{{ magnet }}</c>, taken from the
    /// <see cref="Leads.ConfirmationRequested"/> event and stored with the enrolment, so a send retried after a restart
    /// mails the same link. A failed send is recorded (<c>email_failed</c>) and retried by the outbox.
    /// </remarks>
    public static SequenceDefinition OptInConfirmation { get; } = new()
    {
        Key = "opt-in-confirmation",
        Triggers = [EventMatch.For(EventTypes.ConfirmationRequested)],
        IsMarketing = false,
        ReEntry = ReEntryPolicy.Always,
        Fields = ImmutableDictionary<string, string>.Empty
            .Add("confirmation_url", string.Empty)
            .Add("magnet_title", "your download")
            .Add("magnet", string.Empty),
        Steps =
        [
            new SequenceStep
            {
                Key = "confirm",
                Timing = StepTiming.AfterEnrolment,
                Delay = NodaTime.Period.Zero,
                Subject = "Please confirm your email to get {{ magnet_title }}",
                TextBody = "Please confirm your email address to receive {{ magnet_title }}:\n\n{{ confirmation_url }}\n\n"
                    + "If you did not ask for it, ignore this email: you will not hear from us.",
                HtmlBody = "<p>Please confirm your email address to receive {{ magnet_title }}:</p>"
                    + "<p><a href=\"{{ confirmation_url }}\">Confirm my email</a></p>"
                    + "<p>If you did not ask for it, ignore this email: you will not hear from us.</p>",
            },
        ],
    };

    /// <summary>Gets the lead magnet delivery email: sent at once on every <c>magnet_delivery_requested</c>, through the outbox.</summary>
    /// <remarks>
    /// Key <c>lead-magnet-delivery</c>; not marketing (the lead asked for the magnet), yet, like every sequence email,
    /// never sent to a lead who unsubscribed, bounced or complained; <see cref="ReEntryPolicy.Always"/>, so each request
    /// mails its own link. The templates may use <c>{{ download_url }}</c>, <c>{{ magnet_title }}</c> and
    /// <c>{{ magnet }}</c>, taken from the <see cref="Leads.LeadMagnetDeliveryRequested"/> event and stored with the
    /// enrolment, so a send retried after a restart mails the same link. Funnel.AspNetCore records that event once the
    /// opt-in is complete: at once for a single opt-in, after the confirmation for a double opt-in.
    /// </remarks>
    public static SequenceDefinition LeadMagnetDelivery { get; } = new()
    {
        Key = "lead-magnet-delivery",
        Triggers = [EventMatch.For(EventTypes.MagnetDeliveryRequested)],
        IsMarketing = false,
        ReEntry = ReEntryPolicy.Always,
        Fields = ImmutableDictionary<string, string>.Empty
            .Add("download_url", string.Empty)
            .Add("magnet_title", "your download")
            .Add("magnet", string.Empty),
        Steps =
        [
            new SequenceStep
            {
                Key = "deliver",
                Timing = StepTiming.AfterEnrolment,
                Delay = NodaTime.Period.Zero,
                Subject = "Here is {{ magnet_title }}",
                TextBody = "Thanks for asking for {{ magnet_title }}. Get it here:\n\n{{ download_url }}\n\n"
                    + "The link is yours alone; if it has expired, ask for the download again.",
                HtmlBody = "<p>Thanks for asking for {{ magnet_title }}.</p>"
                    + "<p><a href=\"{{ download_url }}\">Get {{ magnet_title }}</a></p>"
                    + "<p>The link is yours alone; if it has expired, ask for the download again.</p>",
            },
        ],
    };
}
