using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics.Experiments;

/// <summary>A lead was shown a variant of an A/B test; analyses break funnels down by these exposures.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ExperimentExposed)]
public sealed record ExperimentExposed : LeadEvent
{
    /// <summary>Gets the key of the experiment, such as <c>sales-page-headline</c>.</summary>
    public required string Experiment { get; init; }

    /// <summary>Gets the key of the variant shown, such as <c>control</c>.</summary>
    public required string Variant { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ExperimentExposed;

    /// <inheritdoc/>
    /// <value>The <see cref="Experiment"/> key.</value>
    public override string? Subject => Experiment;
}

/// <summary>A variant of an experiment and its share of the traffic.</summary>
/// <param name="Key">The stable key of the variant, such as <c>control</c>.</param>
/// <param name="Weight">The relative weight; 1 and 1 split evenly, 3 and 1 give 75 % and 25 %.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ExperimentVariant(string Key, int Weight = 1);

/// <summary>An A/B test: its key, weighted variants (the first is the control) and an optional holdout.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Experiment
{
    /// <summary>Gets the stable key of the experiment; it seeds the assignment, so never change it while the test runs.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the variants; the first is the control.</summary>
    /// <value>Defaults to empty, which does not validate.</value>
    public ImmutableArray<ExperimentVariant> Variants { get; init; } = [];

    /// <summary>Gets the share of leads, in percent, kept out of the experiment entirely (they see the default experience and are not exposed).</summary>
    /// <value>Defaults to 0.</value>
    public decimal HoldoutPercent { get; init; }
}

/// <summary>Validates an <see cref="Experiment"/>; errors name the field, such as <c>Variants[1].Weight</c>.</summary>
/// <threadsafety>Instances are stateless and safe to share between threads.</threadsafety>
public sealed class ExperimentValidator : AbstractValidator<Experiment>
{
    /// <summary>Creates the validator.</summary>
    public ExperimentValidator()
    {
        RuleFor(e => e.Key).NotEmpty();
        RuleFor(e => e.Variants).Must(v => !v.IsDefault && v.Length >= 2).WithMessage("'Variants' must list at least two variants.");
        RuleForEach(e => e.Variants).ChildRules(v =>
        {
            v.RuleFor(x => x.Key).NotEmpty();
            v.RuleFor(x => x.Weight).GreaterThan(0);
        }).When(e => !e.Variants.IsDefault);
        RuleFor(e => e.Variants).Must(v => v.Select(x => x?.Key).Distinct(StringComparer.Ordinal).Count() == v.Length)
            .WithMessage("'Variants' must have unique keys.").When(e => !e.Variants.IsDefault);
        RuleFor(e => e.HoldoutPercent).GreaterThanOrEqualTo(0m).LessThan(100m);
    }
}

/// <summary>Where a lead landed in an experiment.</summary>
/// <param name="Experiment">The experiment key.</param>
/// <param name="Variant">The variant key, or <see langword="null"/> when the lead is in the holdout.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ExperimentAssignment(string Experiment, string? Variant)
{
    /// <summary>Gets whether the lead is held out of the experiment.</summary>
    public bool IsHoldout => Variant is null;
}

/// <summary>Assigns leads to experiment variants: deterministic, sticky, and identical across processes, machines and versions.</summary>
/// <remarks>
/// <para>
/// The assignment hashes the UTF-8 bytes of <c>experimentKey + ":" + leadId</c> (the lead id in the GUID "D"
/// format, lower case) with SHA-256. The first 8 bytes, read big-endian as an unsigned 64-bit number <c>h1</c>, decide the
/// holdout: the lead is held out when <c>⌊h1 × 1,000,000 / 2⁶⁴⌋</c> (parts per million) is below
/// <c>HoldoutPercent × 10,000</c>. The next 8 bytes, <c>h2</c>, pick the variant: <c>⌊h2 × totalWeight / 2⁶⁴⌋</c>
/// falls into the variants' cumulative weights in order. Only integer arithmetic is used, so the result never
/// depends on the platform. Changing the experiment key, the variants' order or their weights reshuffles leads.
/// </para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public sealed class ExperimentAssigner
{
    private readonly ExperimentValidator validator = new();

    /// <summary>Assigns a lead to a variant (or the holdout).</summary>
    /// <param name="experiment">The experiment.</param>
    /// <param name="lead">The lead.</param>
    /// <returns>The assignment; the same for the same experiment and lead, always.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="experiment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The experiment is invalid.</exception>
    public ExperimentAssignment Assign(Experiment experiment, LeadId lead)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        validator.ValidateAndThrow(experiment);
        (ulong holdoutRoll, ulong variantRoll) = StickyBuckets.Rolls(experiment.Key, lead);
        ulong ppm = Math.BigMul(holdoutRoll, 1_000_000UL, out _);
        if (ppm < (ulong)(experiment.HoldoutPercent * 10_000m))
        {
            return new ExperimentAssignment(experiment.Key, null);
        }

        ExperimentVariant picked = StickyBuckets.Pick(variantRoll, experiment.Variants, static v => v.Weight);
        return new ExperimentAssignment(experiment.Key, picked.Key);
    }

    /// <summary>Assigns a lead and returns the exposure event to record when the lead sees the variant.</summary>
    /// <param name="experiment">The experiment.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="occurredAt">When the lead saw the variant (from an injected <see cref="IClock"/>).</param>
    /// <returns>The exposure, or <see langword="null"/> when the lead is in the holdout (record nothing).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="experiment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The experiment is invalid.</exception>
    public ExperimentExposed? Expose(Experiment experiment, LeadId lead, Instant occurredAt)
    {
        ExperimentAssignment assignment = Assign(experiment, lead);
        return assignment.Variant is null
            ? null
            : new ExperimentExposed { LeadId = lead, OccurredAt = occurredAt, Experiment = experiment.Key, Variant = assignment.Variant };
    }

}
