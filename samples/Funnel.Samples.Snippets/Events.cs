using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/events.md.</summary>
internal static class EventsSnippets
{
    public static FunnelEvent RoundTrip(IServiceCollection services, IServiceProvider provider, FunnelEvent orderPlaced)
    {
        // <snippet:events-serialize>
        services.AddFunnel();                       // registers Funnel.Core's event types
        var serializer = provider.GetRequiredService<FunnelEventSerializer>();

        string json = serializer.Serialize(orderPlaced);          // or SerializeToUtf8Bytes
        FunnelEvent again = serializer.Deserialize(json);         // or Deserialize(ReadOnlySpan<byte>)
        // </snippet:events-serialize>
        return again;
    }

    public static void Register(IServiceCollection services)
    {
        // <snippet:events-register>
        services.AddFunnelEventTypes(typeof(QuizCompleted).Assembly);
        // </snippet:events-register>
    }

    public static object Upcast()
    {
        return
        // <snippet:events-upcaster>
        new FunnelEventTypesBuilder()
            .AddAssembly(typeof(QuizCompleted).Assembly)
            .AddUpcaster("quiz_completed", fromVersion: 1, json =>
            {
                json["quiz"] = json["quizKey"]!.DeepClone();   // v1 called it quizKey
                json.Remove("quizKey");
                return json;
            })
            .Build();
        // </snippet:events-upcaster>
    }
}

// <snippet:events-custom-type>
[FunnelEventType("quiz_completed")]              // Version = 1 by default
public sealed record QuizCompleted : LeadEvent
{
    public required string Quiz { get; init; }

    public override string EventType => "quiz_completed";
}
// </snippet:events-custom-type>
