namespace Funnel.Definitions;

/// <summary>A stage of a funnel, such as Awareness (top of funnel).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StageDefinition
{
    /// <summary>Gets the stable key of the stage, unique in its funnel.</summary>
    public required StageKey Key { get; init; }

    /// <summary>Gets the display name, such as <c>Awareness</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the short label, such as <c>TOFU</c>.</summary>
    /// <value><see langword="null"/> when the stage has none.</value>
    public string? Label { get; init; }
}

/// <summary>A step of a funnel: a page or touch point that belongs to a stage and is reached by an event.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StepDefinition
{
    /// <summary>Gets the stable key of the step, unique in its funnel.</summary>
    public required StepKey Key { get; init; }

    /// <summary>Gets the display name, such as <c>Sales page visitors</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the key of the stage the step belongs to.</summary>
    public required StageKey Stage { get; init; }

    /// <summary>Gets the kind of step.</summary>
    /// <value>Defaults to <see cref="StepKind.Custom"/>.</value>
    public StepKind Kind { get; init; } = StepKind.Custom;

    /// <summary>Gets which events mean a lead reached this step.</summary>
    public required EventMatch Trigger { get; init; }
}

/// <summary>The five stages of the guide's funnel, used by <see cref="FunnelBuilder.WithDefaultStages"/>.</summary>
/// <threadsafety>This type is immutable and safe to use from any thread.</threadsafety>
public static class DefaultStages
{
    /// <summary>Gets Awareness, the top of the funnel (TOFU): attract a broad audience.</summary>
    public static StageDefinition Awareness { get; } = new() { Key = "awareness", Name = "Awareness", Label = "TOFU" };

    /// <summary>Gets Interest, the middle of the funnel (MOFU): capture and nurture leads.</summary>
    public static StageDefinition Interest { get; } = new() { Key = "interest", Name = "Interest", Label = "MOFU" };

    /// <summary>Gets Decision, the bottom of the funnel (BOFU): present the offer.</summary>
    public static StageDefinition Decision { get; } = new() { Key = "decision", Name = "Decision", Label = "BOFU" };

    /// <summary>Gets Action: the purchase.</summary>
    public static StageDefinition Action { get; } = new() { Key = "action", Name = "Action", Label = "Purchase" };

    /// <summary>Gets Retention &amp; Advocacy: onboarding, repeat purchases, reviews and referrals.</summary>
    public static StageDefinition RetentionAndAdvocacy { get; } = new() { Key = "retention", Name = "Retention & Advocacy", Label = "Retention" };

    /// <summary>Gets all five stages in funnel order.</summary>
    public static System.Collections.Immutable.ImmutableArray<StageDefinition> All { get; } =
        [Awareness, Interest, Decision, Action, RetentionAndAdvocacy];
}
