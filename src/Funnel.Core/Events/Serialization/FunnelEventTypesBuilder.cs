using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Funnel.Events;

/// <summary>Collects event types, by assembly or one by one, and upcasters into a <see cref="FunnelEventTypes"/>.</summary>
/// <remarks>
/// An event type is a concrete record deriving from <see cref="FunnelEvent"/> with a
/// <see cref="FunnelEventTypeAttribute"/> whose name equals its <see cref="FunnelEvent.EventType"/>. Adding the same
/// type twice (or the same assembly twice) registers it once; two types with the same name are an error.
/// </remarks>
/// <threadsafety>Use an instance from one thread; the registry it builds is thread-safe.</threadsafety>
public sealed class FunnelEventTypesBuilder
{
    private readonly Dictionary<string, FunnelEventTypeInfo> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, int FromVersion), Func<JsonObject, JsonObject>> _upcasters = [];

    /// <summary>Adds every public, concrete event record of an assembly.</summary>
    /// <param name="assembly">The assembly, such as <c>typeof(OrderPlaced).Assembly</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="assembly"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event type is not declared correctly, or two types share a name.</exception>
    public FunnelEventTypesBuilder AddAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.IsClass && !type.IsAbstract && typeof(FunnelEvent).IsAssignableFrom(type) && type != typeof(UnknownEvent))
            {
                Add(type);
            }
        }

        return this;
    }

    /// <summary>Adds one event record type.</summary>
    /// <param name="eventType">The type, such as <c>typeof(OrderPlaced)</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// The type is not a concrete <see cref="FunnelEvent"/>, has no valid <see cref="FunnelEventTypeAttribute"/>, its
    /// attribute's name differs from its <see cref="FunnelEvent.EventType"/>, or another type has the same name.
    /// </exception>
    public FunnelEventTypesBuilder Add(Type eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        if (!eventType.IsClass || eventType.IsAbstract || eventType.ContainsGenericParameters
            || !typeof(FunnelEvent).IsAssignableFrom(eventType) || eventType == typeof(UnknownEvent))
        {
            throw new ArgumentException(
                $"'{eventType.FullName}' is not a concrete event record deriving from FunnelEvent.", nameof(eventType));
        }

        FunnelEventTypeAttribute attribute = eventType.GetCustomAttribute<FunnelEventTypeAttribute>(inherit: false)
            ?? throw new ArgumentException(
                $"The event type '{eventType.FullName}' has no [FunnelEventType(\"...\")] attribute declaring its stable name.",
                nameof(eventType));
        if (string.IsNullOrWhiteSpace(attribute.Name) || attribute.Version < 1)
        {
            throw new ArgumentException(
                $"The event type '{eventType.FullName}' declares name '{attribute.Name}' and version {attribute.Version}: "
                + "the name must not be blank and the version must be at least 1.", nameof(eventType));
        }

        string declared = ((FunnelEvent)RuntimeHelpers.GetUninitializedObject(eventType)).EventType;
        if (!string.Equals(declared, attribute.Name, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The event type '{eventType.FullName}' declares [FunnelEventType(\"{attribute.Name}\")] but its EventType is '{declared}'.",
                nameof(eventType));
        }

        if (_byName.TryGetValue(attribute.Name, out FunnelEventTypeInfo? existing))
        {
            if (existing.Type == eventType)
            {
                return this;
            }

            throw new ArgumentException(
                $"The event type name '{attribute.Name}' is declared by both '{existing.Type.FullName}' and '{eventType.FullName}'.",
                nameof(eventType));
        }

        _byName.Add(attribute.Name, new FunnelEventTypeInfo(attribute.Name, attribute.Version, eventType));
        return this;
    }

    /// <summary>Adds an upcaster that turns the JSON of one version of an event type into the next version's shape.</summary>
    /// <remarks>
    /// When a stored event has an older <c>"v"</c> than its registered type, the serializer applies the upcasters from
    /// that version up, one version at a time, before reading the fields. The JSON object passed in holds the whole
    /// event, envelope included; return the changed object (or a new one).
    /// </remarks>
    /// <param name="name">The event type name, such as <c>order_placed</c>.</param>
    /// <param name="fromVersion">The version the upcaster reads; it writes <paramref name="fromVersion"/> + 1.</param>
    /// <param name="upcast">The transformation.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="upcast"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromVersion"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">An upcaster from that version of that type was already added.</exception>
    public FunnelEventTypesBuilder AddUpcaster(string name, int fromVersion, Func<JsonObject, JsonObject> upcast)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(upcast);
        ArgumentOutOfRangeException.ThrowIfLessThan(fromVersion, 1);
        if (!_upcasters.TryAdd((name, fromVersion), upcast))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"An upcaster from version {fromVersion} of '{name}' was already added."),
                nameof(fromVersion));
        }

        return this;
    }

    /// <summary>Builds the registry.</summary>
    /// <returns>The registry of the types added so far.</returns>
    /// <exception cref="InvalidOperationException">An upcaster names an unregistered type, or a version not below the type's.</exception>
    public FunnelEventTypes Build()
    {
        foreach ((string name, int fromVersion) in _upcasters.Keys)
        {
            if (!_byName.TryGetValue(name, out FunnelEventTypeInfo? type) || fromVersion >= type.Version)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The upcaster from version {fromVersion} of '{name}' has no registered event type of a later version."));
            }
        }

        return new FunnelEventTypes(_byName.Values, _upcasters);
    }
}
