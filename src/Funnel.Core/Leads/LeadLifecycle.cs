using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;

namespace Funnel.Leads;

/// <summary>A rule that moves a lead to a later lifecycle stage when an event happens.</summary>
/// <param name="When">The events that trigger the rule.</param>
/// <param name="MovesTo">The stage the lead moves to.</param>
/// <param name="RequiresAtLeast">The stage the lead must already have reached for the rule to apply, or <see langword="null"/> for any.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LifecycleRule(EventMatch When, LifecycleStage MovesTo, LifecycleStage? RequiresAtLeast = null);

/// <summary>Moves leads through the lifecycle (visitor → lead → MQL → SQL → customer → advocate) by rules over events.</summary>
/// <remarks>
/// <para>
/// A lead only ever moves forward: an event whose rule targets an earlier or the same stage changes nothing,
/// so replaying events in any order of arrival ends in the same stage as long as rules without
/// <see cref="LifecycleRule.RequiresAtLeast"/> are used. The <see cref="Default"/> rules are:
/// </para>
/// <list type="bullet">
/// <item><description><c>opted_in</c> → <see cref="LifecycleStage.Lead"/>;</description></item>
/// <item><description><c>lifecycle_stage_changed</c> to MQL or SQL (emitted by lead scoring) → that stage;</description></item>
/// <item><description><c>sales_page_visited</c>, <c>checkout_started</c> and <c>webinar_attended</c> → <see cref="LifecycleStage.SalesQualified"/> for a lead who opted in;</description></item>
/// <item><description><c>order_placed</c> and <c>payment_succeeded</c> → <see cref="LifecycleStage.Customer"/>;</description></item>
/// <item><description><c>review_submitted</c> and <c>referral_made</c> → <see cref="LifecycleStage.Advocate"/> for a customer.</description></item>
/// </list>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadLifecycle
{
    /// <summary>Initializes a lifecycle with the given rules.</summary>
    /// <param name="rules">The rules, applied in order; the furthest stage any of them reaches wins.</param>
    /// <exception cref="ArgumentNullException"><paramref name="rules"/> or one of its items is <see langword="null"/>.</exception>
    public LeadLifecycle(IEnumerable<LifecycleRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = [.. rules];
        foreach (LifecycleRule rule in Rules)
        {
            ArgumentNullException.ThrowIfNull(rule, nameof(rules));
        }
    }

    /// <summary>Gets the lifecycle with the default rules described in the remarks.</summary>
    /// <value>A shared instance.</value>
    public static LeadLifecycle Default { get; } = new(
    [
        new(EventMatch.For(EventTypes.OptedIn), LifecycleStage.Lead),
        new(EventMatch.For(EventTypes.LifecycleStageChanged, LifecycleStage.MarketingQualified.ToKey()), LifecycleStage.MarketingQualified),
        new(EventMatch.For(EventTypes.LifecycleStageChanged, LifecycleStage.SalesQualified.ToKey()), LifecycleStage.SalesQualified),
        new(EventMatch.For(EventTypes.SalesPageVisited), LifecycleStage.SalesQualified, LifecycleStage.Lead),
        new(EventMatch.For(EventTypes.CheckoutStarted), LifecycleStage.SalesQualified, LifecycleStage.Lead),
        new(EventMatch.For(EventTypes.WebinarAttended), LifecycleStage.SalesQualified, LifecycleStage.Lead),
        new(EventMatch.For(EventTypes.OrderPlaced), LifecycleStage.Customer),
        new(EventMatch.For(EventTypes.PaymentSucceeded), LifecycleStage.Customer),
        new(EventMatch.For(EventTypes.ReviewSubmitted), LifecycleStage.Advocate, LifecycleStage.Customer),
        new(EventMatch.For(EventTypes.ReferralMade), LifecycleStage.Advocate, LifecycleStage.Customer),
    ]);

    /// <summary>Gets the rules, in order.</summary>
    public ImmutableArray<LifecycleRule> Rules { get; }

    /// <summary>Returns the stage a lead is in after an event.</summary>
    /// <param name="current">The lead's stage before the event.</param>
    /// <param name="funnelEvent">The event.</param>
    /// <returns>The furthest stage a matching rule (or a <see cref="LifecycleStageSet"/>) reaches, or <paramref name="current"/> when none moves the lead forward.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    public LifecycleStage Apply(LifecycleStage current, FunnelEvent funnelEvent)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        LifecycleStage next = funnelEvent is LifecycleStageSet set && set.Stage > current ? set.Stage : current;
        foreach (LifecycleRule rule in Rules)
        {
            if (rule.MovesTo > next
                && (rule.RequiresAtLeast is not { } minimum || current >= minimum)
                && rule.When.Matches(funnelEvent))
            {
                next = rule.MovesTo;
            }
        }

        return next;
    }

    /// <summary>Replays a lead's events in time order and returns the stage they end in.</summary>
    /// <param name="events">The lead's events, in any order; they are sorted by <see cref="FunnelEvent.OccurredAt"/>.</param>
    /// <param name="start">The stage before the first event.</param>
    /// <returns>The final stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public LifecycleStage Replay(IEnumerable<FunnelEvent> events, LifecycleStage start = LifecycleStage.Visitor)
    {
        ArgumentNullException.ThrowIfNull(events);
        LifecycleStage stage = start;
        foreach (FunnelEvent e in events.OrderBy(e => e.OccurredAt))
        {
            stage = Apply(stage, e);
        }

        return stage;
    }

    /// <summary>Applies an event to a lead and describes the change, if any, as a <see cref="LifecycleStageChanged"/> event.</summary>
    /// <param name="current">The lead's stage before the event.</param>
    /// <param name="leadEvent">The event.</param>
    /// <returns>The change event at the same instant and attribution, or <see langword="null"/> when the stage did not change.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="leadEvent"/> is <see langword="null"/>.</exception>
    public LifecycleStageChanged? Transition(LifecycleStage current, LeadEvent leadEvent)
    {
        LifecycleStage next = Apply(current, leadEvent);
        return next == current
            ? null
            : new LifecycleStageChanged
            {
                LeadId = leadEvent.LeadId,
                OccurredAt = leadEvent.OccurredAt,
                Attribution = leadEvent.Attribution,
                From = current,
                To = next,
            };
    }
}
