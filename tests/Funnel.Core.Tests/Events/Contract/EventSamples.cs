using System.Reflection;
using System.Text.Json.Nodes;
using Funnel.Events;

namespace Funnel.Tests.Events.Contract;

/// <summary>The checked-in JSON samples, one per event type, and the registry <c>AddFunnel</c> builds.</summary>
internal static class EventSamples
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Events", "Contract", "Samples");

    /// <summary>Gets the registry of every Funnel assembly the tests load (Funnel.Analytics comes with the sample).</summary>
    public static FunnelEventTypes Registry { get; } = FunnelEventTypes.FromAssemblies(FunnelAssemblies());

    public static FunnelEventSerializer Serializer { get; } = new(Registry);

    public static IEnumerable<string> Names =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    public static string Read(string type) => File.ReadAllText(Path.Combine(Directory, type + ".json"));

    public static JsonObject ReadNode(string type) => JsonNode.Parse(Read(type))!.AsObject();

    /// <summary>Every public, concrete event record in the Funnel assemblies the tests load (not test or sample code).</summary>
    public static IEnumerable<Type> ConcreteEventTypes() =>
        FunnelAssemblies()
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t.IsClass && !t.IsAbstract && typeof(FunnelEvent).IsAssignableFrom(t) && t != typeof(UnknownEvent))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    /// <summary>The Funnel package assemblies this test assembly references, directly or through the samples.</summary>
    public static IReadOnlyList<Assembly> FunnelAssemblies()
    {
        var found = new Dictionary<string, Assembly>(StringComparer.Ordinal);
        var pending = new Stack<Assembly>([typeof(EventSamples).Assembly]);
        while (pending.TryPop(out Assembly? assembly))
        {
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is { } name && name.StartsWith("Funnel.", StringComparison.Ordinal) && !found.ContainsKey(name))
                {
                    Assembly loaded = Assembly.Load(reference);
                    found.Add(name, loaded);
                    pending.Push(loaded);
                }
            }
        }

        found.TryAdd(typeof(FunnelEvent).Assembly.GetName().Name!, typeof(FunnelEvent).Assembly);
        return [.. found.Values.Where(a => !IsTestOrSample(a.GetName().Name!)).OrderBy(a => a.GetName().Name, StringComparer.Ordinal)];
    }

    private static bool IsTestOrSample(string name) =>
        name.Contains("Test", StringComparison.Ordinal) || name.Contains("Samples", StringComparison.Ordinal)
        || name.Contains("Benchmarks", StringComparison.Ordinal);
}
