using System.Collections.Immutable;
using FluentValidation;

namespace Funnel.Definitions;

/// <summary>Builds a validated <see cref="FunnelDefinition"/> step by step.</summary>
/// <example>
/// <code>
/// FunnelDefinition funnel = FunnelBuilder.Create("ebook-masterclass", "The E-Book Masterclass")
///     .WithDefaultStages()
///     .AddStep("visit", "Website visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed))
///     .AddStep("opt-in", "Lead magnet downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "quick-start-guide"))
///     .Build();
/// </code>
/// </example>
/// <threadsafety>Instances are not thread-safe; the definitions they build are immutable.</threadsafety>
public sealed class FunnelBuilder
{
    private static readonly FunnelDefinitionValidator Validator = new();
    private readonly FunnelId id;
    private readonly string name;
    private readonly ImmutableArray<StageDefinition>.Builder stages = ImmutableArray.CreateBuilder<StageDefinition>();
    private readonly ImmutableArray<StepDefinition>.Builder steps = ImmutableArray.CreateBuilder<StepDefinition>();

    private FunnelBuilder(FunnelId id, string name)
    {
        this.id = id;
        this.name = name;
    }

    /// <summary>Starts a funnel definition.</summary>
    /// <param name="id">The funnel's key, such as <c>ebook-masterclass</c>.</param>
    /// <param name="name">The display name.</param>
    /// <returns>A new builder.</returns>
    public static FunnelBuilder Create(FunnelId id, string name) => new(id, name);

    /// <summary>Adds the five default stages (Awareness, Interest, Decision, Action, Retention &amp; Advocacy).</summary>
    /// <returns>This builder.</returns>
    public FunnelBuilder WithDefaultStages()
    {
        stages.AddRange(DefaultStages.All);
        return this;
    }

    /// <summary>Adds a stage after the ones already added.</summary>
    /// <param name="key">The stage key.</param>
    /// <param name="name">The display name.</param>
    /// <param name="label">The short label, such as <c>TOFU</c>.</param>
    /// <returns>This builder.</returns>
    public FunnelBuilder AddStage(StageKey key, string name, string? label = null)
    {
        stages.Add(new StageDefinition { Key = key, Name = name, Label = label });
        return this;
    }

    /// <summary>Adds a step after the ones already added.</summary>
    /// <param name="key">The step key.</param>
    /// <param name="name">The display name.</param>
    /// <param name="stage">The key of the stage the step belongs to.</param>
    /// <param name="kind">The kind of step.</param>
    /// <param name="trigger">Which events mean a lead reached the step.</param>
    /// <returns>This builder.</returns>
    public FunnelBuilder AddStep(StepKey key, string name, StageKey stage, StepKind kind, EventMatch trigger)
    {
        steps.Add(new StepDefinition { Key = key, Name = name, Stage = stage, Kind = kind, Trigger = trigger });
        return this;
    }

    /// <summary>Validates and returns the definition.</summary>
    /// <returns>The funnel definition.</returns>
    /// <exception cref="ValidationException">The definition is invalid; each error names the property path and the problem.</exception>
    public FunnelDefinition Build()
    {
        var funnel = new FunnelDefinition { Id = id, Name = name, Stages = stages.ToImmutable(), Steps = steps.ToImmutable() };
        Validator.ValidateAndThrow(funnel);
        return funnel;
    }
}
