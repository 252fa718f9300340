namespace Funnel.Events;

/// <summary>Declares the stable type name and the JSON shape version of an event record.</summary>
/// <remarks>
/// <para>
/// The name is written as <c>"type"</c> and the version as <c>"v"</c> in the event's JSON (see
/// <see cref="FunnelEventSerializer"/>). It must equal the record's <see cref="FunnelEvent.EventType"/>;
/// <see cref="FunnelEventTypes"/> checks this when it registers the type.
/// </para>
/// <para>
/// Adding an optional field keeps the version. A change an older reader cannot understand (a renamed, removed or
/// retyped field, a new required field) raises the version and needs an upcaster from the old shape
/// (<see cref="FunnelEventTypesBuilder.AddUpcaster"/>), or a new event type with a new name.
/// </para>
/// </remarks>
/// <param name="name">The stable, snake_case name, such as <c>order_placed</c>.</param>
/// <threadsafety>Instances are immutable once constructed by the runtime.</threadsafety>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class FunnelEventTypeAttribute(string name) : Attribute
{
    /// <summary>Gets the stable, snake_case name of the event type, such as <c>order_placed</c>.</summary>
    public string Name { get; } = name;

    /// <summary>Gets or sets the version of the event's JSON shape.</summary>
    /// <value>Defaults to 1. Raise it only for a breaking change, together with an upcaster.</value>
    public int Version { get; set; } = 1;
}
