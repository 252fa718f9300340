using System.Collections.Immutable;

namespace Funnel.Definitions;

/// <summary>A funnel: its ordered stages, and the ordered steps (pages and touch points) that map to them.</summary>
/// <remarks>
/// Build one with <see cref="FunnelBuilder"/>, or as a plain object and validate it with
/// <see cref="FunnelDefinitionValidator"/>. Steps are listed in the order a lead passes them, and in stage
/// order: a step never belongs to an earlier stage than the step before it. A stage may have no steps.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelDefinition
{
    /// <summary>Gets the stable key of the funnel.</summary>
    public required FunnelId Id { get; init; }

    /// <summary>Gets the display name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the stages, in funnel order.</summary>
    /// <value>Defaults to empty, which does not validate.</value>
    public ImmutableArray<StageDefinition> Stages { get; init; } = [];

    /// <summary>Gets the steps, in the order a lead passes them.</summary>
    /// <value>Defaults to empty, which does not validate.</value>
    public ImmutableArray<StepDefinition> Steps { get; init; } = [];

    /// <summary>Returns the steps of one stage, in order.</summary>
    /// <param name="stage">The stage key.</param>
    /// <returns>The steps; empty when the stage has none or does not exist.</returns>
    public ImmutableArray<StepDefinition> StepsIn(StageKey stage) => [.. Steps.Where(s => s.Stage == stage)];
}
