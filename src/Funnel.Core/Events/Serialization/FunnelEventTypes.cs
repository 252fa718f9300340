using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Funnel.Events;

/// <summary>The registry of event types: each event record's stable name, JSON shape version and CLR type.</summary>
/// <remarks>
/// <para>
/// Build it with a <see cref="FunnelEventTypesBuilder"/>, or with DI: <c>AddFunnel</c> registers the events of
/// Funnel.Core, and each package (or application) that defines events calls
/// <c>services.AddFunnelEventTypes(typeof(MyEvent).Assembly)</c> for its own. A <see cref="FunnelEventSerializer"/>
/// reads and writes exactly the types registered here; an unregistered name reads as an <see cref="UnknownEvent"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FunnelEventTypes
{
    private readonly FrozenDictionary<string, FunnelEventTypeInfo> _byName;
    private readonly FrozenDictionary<Type, FunnelEventTypeInfo> _byType;

    internal FunnelEventTypes(
        IEnumerable<FunnelEventTypeInfo> types,
        IReadOnlyDictionary<(string Name, int FromVersion), Func<JsonObject, JsonObject>> upcasters)
    {
        All = [.. types.OrderBy(t => t.Name, StringComparer.Ordinal)];
        _byName = All.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        _byType = All.ToFrozenDictionary(t => t.Type);
        Upcasters = upcasters.ToFrozenDictionary();
    }

    /// <summary>Gets every registered event type, ordered by name.</summary>
    public ImmutableArray<FunnelEventTypeInfo> All { get; }

    internal FrozenDictionary<(string Name, int FromVersion), Func<JsonObject, JsonObject>> Upcasters { get; }

    /// <summary>Creates a registry of the public event records in the given assemblies.</summary>
    /// <param name="assemblies">The assemblies, such as <c>typeof(OrderPlaced).Assembly</c>.</param>
    /// <returns>The registry.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="assemblies"/> is or holds <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event type is not declared correctly, or two types share a name.</exception>
    public static FunnelEventTypes FromAssemblies(params IEnumerable<Assembly> assemblies)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        var builder = new FunnelEventTypesBuilder();
        foreach (Assembly assembly in assemblies)
        {
            builder.AddAssembly(assembly);
        }

        return builder.Build();
    }

    /// <summary>Finds the registered event type with a name.</summary>
    /// <param name="name">The stable name, such as <c>order_placed</c>.</param>
    /// <param name="type">The registered type, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the name is registered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    public bool TryFind(string name, [NotNullWhen(true)] out FunnelEventTypeInfo? type)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out type);
    }

    /// <summary>Finds the registration of a CLR event type.</summary>
    /// <param name="clrType">The event record type, such as <c>typeof(OrderPlaced)</c>.</param>
    /// <param name="type">The registered type, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the type is registered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="clrType"/> is <see langword="null"/>.</exception>
    public bool TryFind(Type clrType, [NotNullWhen(true)] out FunnelEventTypeInfo? type)
    {
        ArgumentNullException.ThrowIfNull(clrType);
        return _byType.TryGetValue(clrType, out type);
    }
}

/// <summary>One registered event type: its stable name, the version of its JSON shape, and its CLR type.</summary>
/// <param name="Name">The stable, snake_case name written as <c>"type"</c>, such as <c>order_placed</c>.</param>
/// <param name="Version">The current shape version written as <c>"v"</c>.</param>
/// <param name="Type">The sealed event record type.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelEventTypeInfo(string Name, int Version, Type Type);
