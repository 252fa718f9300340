using System.Collections.Immutable;
using Funnel.Definitions;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>The result of an ordered funnel analysis: how many leads reached each step within the window.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelAnalysis
{
    /// <summary>Gets the funnel that was analysed.</summary>
    public required FunnelDefinition Funnel { get; init; }

    /// <summary>Gets the conversion window used.</summary>
    public required Duration Window { get; init; }

    /// <summary>Gets the number of leads in the store, whether or not they entered the funnel.</summary>
    public required long Leads { get; init; }

    /// <summary>Gets the number of events analysed.</summary>
    public required long Events { get; init; }

    /// <summary>Gets the steps with their counts, in funnel order; counts never increase from one step to the next.</summary>
    public required ImmutableArray<FunnelStepAnalysis> Steps { get; init; }

    /// <summary>Gets the breakdown rows, largest first; empty when the query asked for no breakdown.</summary>
    public required ImmutableArray<FunnelBreakdownRow> Breakdown { get; init; }

    /// <summary>Gets the share of leads who entered the funnel and reached the last step.</summary>
    public Ratio OverallConversion => Steps.IsDefaultOrEmpty ? Ratio.Undefined : Ratio.Of(Steps[^1].Reached, Steps[0].Reached);
}

/// <summary>One step of a <see cref="FunnelAnalysis"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelStepAnalysis
{
    /// <summary>Gets the step.</summary>
    public required StepDefinition Step { get; init; }

    /// <summary>Gets the number of leads who reached this step within the window.</summary>
    public required long Reached { get; init; }

    /// <summary>Gets the conversion from the previous step (for the first step: from itself, 1).</summary>
    public required Ratio FromPrevious { get; init; }

    /// <summary>Gets the conversion from the first step.</summary>
    public required Ratio FromStart { get; init; }

    /// <summary>Gets the median time from the first step's event to this step's event, over the leads who reached it.</summary>
    /// <value><see langword="null"/> for the first step, when no lead reached the step, or when not asked for.</value>
    public Duration? MedianTimeToConvert { get; init; }

    /// <summary>Gets the 90th percentile (nearest rank) of the time from the first step's event to this step's event.</summary>
    /// <value><see langword="null"/> for the first step, when no lead reached the step, or when not asked for.</value>
    public Duration? P90TimeToConvert { get; init; }

    /// <summary>Gets the leads who reached this step and not the next one, in store order (for retargeting).</summary>
    /// <value>Empty for the last step, or when not asked for.</value>
    public ImmutableArray<LeadId> DroppedOff { get; init; } = [];

    /// <summary>Gets the revenue, ad spend, acquisition cost, ROAS and payback period of the leads who reached this step.</summary>
    /// <value><see langword="null"/> unless <see cref="FunnelQuery.IncludeMoney"/> was set.</value>
    public FunnelMoney? Money { get; init; }
}

/// <summary>One group of a funnel breakdown: its value and the leads who reached each step.</summary>
/// <param name="Value">The channel, campaign, property value, variant or cohort week; <see langword="null"/> for leads without one.</param>
/// <param name="Reached">The leads who reached each step, in funnel order.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelBreakdownRow(string? Value, ImmutableArray<long> Reached)
{
    /// <summary>Gets the money of this group's leads who reached each step, in funnel order.</summary>
    /// <value>Empty unless <see cref="FunnelQuery.IncludeMoney"/> was set. Ad spend is divided only in a breakdown by channel.</value>
    public ImmutableArray<FunnelMoney> Money { get; init; } = [];

    /// <summary>Gets the share of this group's leads who entered the funnel and reached the last step.</summary>
    public Ratio OverallConversion => Reached.IsDefaultOrEmpty ? Ratio.Undefined : Ratio.Of(Reached[^1], Reached[0]);
}
