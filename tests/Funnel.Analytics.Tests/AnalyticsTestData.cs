using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics.Tests;

/// <summary>Small helpers to write analytics events tersely.</summary>
internal static class AnalyticsTestData
{
    public static readonly Instant Start = Instant.FromUtc(2026, 10, 5, 0, 0);

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    public static Instant At(double minutes) => Start + Duration.FromSeconds((long)(minutes * 60));

    /// <summary>A generic lead event of a type, for funnel steps given as plain event types.</summary>
    public static FunnelEvent E(int lead, string type, double minute, string? channel = null) =>
        new GenericEvent { LeadId = Lead(lead), OccurredAt = At(minute), Type = type, Attribution = channel is null ? Attribution.None : new Attribution { Channel = channel } };

    /// <summary>A funnel whose steps are the given event types.</summary>
    public static FunnelDefinition FunnelOf(params string[] types)
    {
        FunnelBuilder builder = FunnelBuilder.Create("test", "Test").WithDefaultStages();
        for (int i = 0; i < types.Length; i++)
        {
            builder = builder.AddStep("s" + i, "Step " + i, DefaultStages.Awareness.Key, StepKind.Custom, EventMatch.For(types[i]));
        }

        return builder.Build();
    }
}

/// <summary>A lead event with a free type, as an application would define its own.</summary>
internal sealed record GenericEvent : LeadEvent
{
    public required string Type { get; init; }

    public string? About { get; init; }

    public override string EventType => Type;

    public override string? Subject => About;
}
