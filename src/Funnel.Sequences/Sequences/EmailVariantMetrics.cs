using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The results of one variant of an email's A/B test, each count in distinct leads.</summary>
/// <param name="Email">The email key (the step key), such as <c>nurture-3</c>.</param>
/// <param name="Variant">The variant key, such as <c>control</c>.</param>
/// <param name="Sent">The leads the variant was sent to (<c>email_sent</c> with this variant).</param>
/// <param name="Opened">Of those, the leads who opened the email.</param>
/// <param name="Clicked">Of those, the leads who clicked a link in it.</param>
/// <param name="Unsubscribed">Of those, the leads who unsubscribed through it.</param>
/// <param name="Converted">Of those, the leads with a goal event at or after the send; 0 without a goal.</param>
/// <remarks>
/// Feed a rate to the experiment statistics of <c>Funnel.Analytics</c> as a conversion sample, such as
/// <c>new ConversionSample(m.Opened, m.Sent)</c> for the open rate, and compare the variants with the control.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailVariantMetrics(string Email, string Variant, long Sent, long Opened, long Clicked, long Unsubscribed, long Converted)
{
    /// <summary>Counts, per email and variant, the leads sent, opened, clicked, unsubscribed and converted.</summary>
    /// <remarks>
    /// <para>
    /// A lead belongs to the variant of its first <see cref="EmailSent"/> of the email that carries a
    /// <see cref="EmailEvent.Variant"/>; sends without a variant are not counted. Opens, clicks and unsubscribes of
    /// the email are attributed through that send (or by their own <see cref="EmailEvent.Variant"/> when set), so a
    /// feedback event needs no variant of its own; feedback of a lead with no such send is ignored. A goal event
    /// (<paramref name="goal"/>, such as <c>order_placed</c>) converts each variant the lead was sent at or before it.
    /// </para>
    /// <para>
    /// Email keys are step keys, unique within a sequence: two sequences that test steps of the same key are counted
    /// together. The result does not depend on the order of the events.
    /// </para>
    /// </remarks>
    /// <param name="events">The events, such as those of the event log.</param>
    /// <param name="goal">The event that counts as a conversion; <see langword="null"/> for none.</param>
    /// <returns>One entry per email and variant, ordered by email, then variant (ordinal).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of them is <see langword="null"/>.</exception>
    public static ImmutableArray<EmailVariantMetrics> Compute(IEnumerable<FunnelEvent> events, EventMatch? goal = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        List<FunnelEvent> all = [.. events];
        // First the sends, so the result does not depend on the order of the events: a lead's variant of an email is
        // that of its earliest send with a variant.
        Dictionary<(LeadId Lead, string Email), (string Variant, Instant At)> sendOf = [];
        foreach (FunnelEvent e in all)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            if (e is EmailSent { Variant: { } variant } sent
                && (!sendOf.TryGetValue((sent.LeadId, sent.Email), out var known) || sent.OccurredAt < known.At))
            {
                sendOf[(sent.LeadId, sent.Email)] = (variant, sent.OccurredAt);
            }
        }

        Dictionary<(string Email, string Variant), Counts> counts = [];
        Dictionary<LeadId, List<(string Email, string Variant, Instant At)>> sendsOf = [];
        foreach (((LeadId lead, string email), (string variant, Instant at)) in sendOf)
        {
            Of(counts, email, variant).Sent.Add(lead);
            if (!sendsOf.TryGetValue(lead, out List<(string, string, Instant)>? sends))
            {
                sendsOf[lead] = sends = [];
            }

            sends.Add((email, variant, at));
        }

        foreach (FunnelEvent e in all)
        {
            if (e is EmailOpened or EmailClicked or EmailUnsubscribed)
            {
                EmailEvent email = (EmailEvent)e;
                if (!sendOf.TryGetValue((email.LeadId, email.Email), out var send)
                    || email.Variant is not null && email.Variant != send.Variant)
                {
                    continue; // no send of a variant to this lead, or feedback about another variant.
                }

                Counts c = Of(counts, email.Email, send.Variant);
                (e switch { EmailOpened => c.Opened, EmailClicked => c.Clicked, _ => c.Unsubscribed }).Add(email.LeadId);
            }

            if (goal is not null && e is LeadEvent lead && goal.Matches(e)
                && sendsOf.TryGetValue(lead.LeadId, out List<(string Email, string Variant, Instant At)>? leadSends))
            {
                foreach ((string email, string variant, Instant at) in leadSends)
                {
                    if (at <= e.OccurredAt)
                    {
                        Of(counts, email, variant).Converted.Add(lead.LeadId);
                    }
                }
            }
        }

        return [.. counts
            .OrderBy(static p => p.Key.Email, StringComparer.Ordinal)
            .ThenBy(static p => p.Key.Variant, StringComparer.Ordinal)
            .Select(static p => new EmailVariantMetrics(
                p.Key.Email, p.Key.Variant, p.Value.Sent.Count, p.Value.Opened.Count, p.Value.Clicked.Count,
                p.Value.Unsubscribed.Count, p.Value.Converted.Count))];
    }

    private static Counts Of(Dictionary<(string, string), Counts> counts, string email, string variant)
    {
        if (!counts.TryGetValue((email, variant), out Counts? c))
        {
            counts[(email, variant)] = c = new Counts();
        }

        return c;
    }

    /// <summary>The distinct leads of one email and variant.</summary>
    private sealed class Counts
    {
        public HashSet<LeadId> Sent { get; } = [];

        public HashSet<LeadId> Opened { get; } = [];

        public HashSet<LeadId> Clicked { get; } = [];

        public HashSet<LeadId> Unsubscribed { get; } = [];

        public HashSet<LeadId> Converted { get; } = [];
    }
}
