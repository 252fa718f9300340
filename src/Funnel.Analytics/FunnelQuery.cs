using System.Collections.Immutable;
using FluentValidation;
using Funnel.Definitions;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>An ordered funnel question: which steps, within which conversion window, with which options.</summary>
/// <remarks>
/// <para>The steps are the <see cref="FunnelDefinition.Steps"/> of <see cref="Funnel"/>, matched by their triggers.
/// A lead reaches step <c>k</c> when it has a <i>chain</i> of events e<sub>0</sub> … e<sub>k</sub>, with these semantics:</para>
/// <list type="bullet">
/// <item><description>e<sub>i</sub> matches step <c>i</c>, and each event serves one step at most;</description></item>
/// <item><description>the window is measured from the first step's event and is inclusive: every e<sub>i</sub> is at or before
/// e<sub>0</sub> + <see cref="Window"/>;</description></item>
/// <item><description>time never goes backwards along the chain, and events at the same instant chain in step order (an
/// opt-in and a sales-page visit recorded at the same instant count as opt-in then visit, whatever their load order);</description></item>
/// <item><description>unrelated events in between do not break the chain (unless <see cref="StrictOrder"/> is set);</description></item>
/// <item><description>every event of step 0 is a possible start: a later re-entry that gives a longer chain counts, and among the
/// starts that give the longest chain the latest one wins (its times and breakdown values are reported);</description></item>
/// <item><description>from a start, each next step takes the earliest matching event (greedy); when one event matches several
/// steps it serves the earliest step still needed.</description></item>
/// </list>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelQuery
{
    /// <summary>Gets the funnel whose steps are analysed, in order.</summary>
    public required FunnelDefinition Funnel { get; init; }

    /// <summary>Gets the conversion window, measured from the first step's event, inclusive.</summary>
    /// <value>Defaults to 7 days.</value>
    public Duration Window { get; init; } = Duration.FromDays(7);

    /// <summary>Gets whether no other funnel step's event may occur strictly between two consecutive steps of a chain.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool StrictOrder { get; init; }

    /// <summary>Gets events that end a chain: an exclusion event strictly after the start stops the chain before any later step.</summary>
    /// <value>Defaults to empty. A step event at the same instant as the exclusion still counts.</value>
    public ImmutableArray<EventMatch> Exclusions { get; init; } = [];

    /// <summary>Gets how to break the counts down, or <see langword="null"/> for no breakdown.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public FunnelBreakdown? Breakdown { get; init; }

    /// <summary>Gets whether to measure the time to convert per step (median and 90th percentile).</summary>
    /// <value>Defaults to <see langword="false"/>; costs 8 bytes per converting lead and step.</value>
    public bool IncludeTimeToConvert { get; init; }

    /// <summary>Gets whether to list, per step, the leads who reached it and stopped there (for retargeting).</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool IncludeDropOffs { get; init; }

    /// <summary>
    /// Gets whether to add the money of each step and breakdown row: revenue, ad spend, acquisition cost, ROAS and
    /// payback period (see <see cref="FunnelMoney"/>).
    /// </summary>
    /// <value>Defaults to <see langword="false"/>; costs 32 bytes per counted order or refund.</value>
    public bool IncludeMoney { get; init; }

    /// <summary>Gets the most threads the analysis may use, or <see langword="null"/> for one per processor.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public int? MaxDegreeOfParallelism { get; init; }
}

/// <summary>What a funnel breakdown groups leads by.</summary>
public enum FunnelBreakdownKind
{
    /// <summary>The channel of the chain's first event.</summary>
    Channel = 0,

    /// <summary>The campaign of the chain's first event.</summary>
    Campaign = 1,

    /// <summary>A captured property of the chain's first event (see <see cref="AnalyticsStoreOptions.PropertyKeys"/>).</summary>
    Property = 2,

    /// <summary>The variant of an experiment the lead was first exposed to.</summary>
    Variant = 3,

    /// <summary>The week (starting Monday) of the lead's first event: cohorts by first touch.</summary>
    FirstTouchWeek = 4,
}

/// <summary>How a funnel analysis breaks its counts down.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelBreakdown
{
    private FunnelBreakdown(FunnelBreakdownKind kind, string? key, DateTimeZone? zone)
    {
        Kind = kind;
        Key = key;
        Zone = zone;
    }

    /// <summary>Gets a breakdown by the channel of the chain's first event.</summary>
    public static FunnelBreakdown Channel { get; } = new(FunnelBreakdownKind.Channel, null, null);

    /// <summary>Gets a breakdown by the campaign of the chain's first event.</summary>
    public static FunnelBreakdown Campaign { get; } = new(FunnelBreakdownKind.Campaign, null, null);

    /// <summary>Gets what the breakdown groups by.</summary>
    public FunnelBreakdownKind Kind { get; }

    /// <summary>Gets the property key or experiment key, for <see cref="FunnelBreakdownKind.Property"/> and <see cref="FunnelBreakdownKind.Variant"/>.</summary>
    public string? Key { get; }

    /// <summary>Gets the time zone in which weeks start, for <see cref="FunnelBreakdownKind.FirstTouchWeek"/>.</summary>
    public DateTimeZone? Zone { get; }

    /// <summary>Creates a breakdown by a captured property of the chain's first event.</summary>
    /// <param name="key">The property key; it must be in <see cref="AnalyticsStoreOptions.PropertyKeys"/>.</param>
    /// <returns>The breakdown.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is blank.</exception>
    public static FunnelBreakdown Property(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return new(FunnelBreakdownKind.Property, key, null);
    }

    /// <summary>Creates a breakdown by the variant of an experiment (from <see cref="Experiments.ExperimentExposed"/> events).</summary>
    /// <param name="experimentKey">The experiment key.</param>
    /// <returns>The breakdown.</returns>
    /// <exception cref="ArgumentException"><paramref name="experimentKey"/> is blank.</exception>
    public static FunnelBreakdown Variant(string experimentKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experimentKey);
        return new(FunnelBreakdownKind.Variant, experimentKey, null);
    }

    /// <summary>Creates a breakdown into cohorts by the week of each lead's first event.</summary>
    /// <param name="zone">The zone in which weeks start on Monday at midnight; defaults to UTC.</param>
    /// <returns>The breakdown; each row's value is the week's Monday as <c>yyyy-MM-dd</c>.</returns>
    public static FunnelBreakdown FirstTouchWeek(DateTimeZone? zone = null) => new(FunnelBreakdownKind.FirstTouchWeek, null, zone ?? DateTimeZone.Utc);
}

/// <summary>Validates a <see cref="FunnelQuery"/>; errors name the property, such as <c>Window</c>.</summary>
/// <threadsafety>Instances are stateless and safe to share between threads.</threadsafety>
public sealed class FunnelQueryValidator : AbstractValidator<FunnelQuery>
{
    /// <summary>The most steps a funnel query may have.</summary>
    public const int MaxSteps = 32;

    /// <summary>Gets the longest <see cref="FunnelQuery.Window"/> accepted: 10,000 years, past which the tick arithmetic of the analysis would overflow.</summary>
    public static Duration MaxWindow { get; } = Duration.FromDays(3_652_425);

    /// <summary>Creates the validator.</summary>
    public FunnelQueryValidator()
    {
        RuleFor(q => q.Funnel).NotNull();
        RuleFor(q => q.Funnel.Steps).Must(s => !s.IsDefaultOrEmpty).WithName("Funnel.Steps").WithMessage("'Funnel.Steps' must list at least one step.")
            .Must(s => s.IsDefaultOrEmpty || s.Length <= MaxSteps).WithMessage($"'Funnel.Steps' may list at most {MaxSteps} steps.")
            .When(q => q.Funnel is not null);
        RuleForEach(q => q.Funnel.Steps).Must(s => s is not null).WithMessage("'{PropertyName}' must not be null.")
            .Must(s => s is null || s.Trigger is not null).WithMessage("'{PropertyName}.Trigger' must not be null.")
            .Must(s => s?.Trigger is null || !string.IsNullOrWhiteSpace(s.Trigger.EventType))
            .WithMessage("'{PropertyName}.Trigger.EventType' must not be blank.")
            .OverridePropertyName("Funnel.Steps")
            .When(q => q.Funnel is not null && !q.Funnel.Steps.IsDefault);
        RuleFor(q => q.Window).Must(w => w >= Duration.Zero).WithMessage("'Window' must not be negative.")
            .Must(w => w <= MaxWindow).WithMessage($"'Window' must be at most {MaxWindow.Days} days (10,000 years).");
        RuleForEach(q => q.Exclusions).NotNull()
            .Must(e => e is null || !string.IsNullOrWhiteSpace(e.EventType)).WithMessage("'{PropertyName}.EventType' must not be blank.")
            .When(q => !q.Exclusions.IsDefault);
        RuleFor(q => q.MaxDegreeOfParallelism).GreaterThanOrEqualTo(1).When(q => q.MaxDegreeOfParallelism is not null);
    }
}
