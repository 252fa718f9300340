namespace Funnel.Events;

/// <content>The event type names of the analytics package (Funnel.Analytics).</content>
public static partial class EventTypes
{
    /// <summary>A lead was shown a variant of an A/B test (<c>ExperimentExposed</c> in Funnel.Analytics).</summary>
    public const string ExperimentExposed = "experiment_exposed";
}
