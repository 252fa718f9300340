using System.Collections.Immutable;

namespace Funnel.Privacy;

/// <summary>One record an <see cref="IPersonalDataStore"/> holds about a lead: where it is, what it is and its fields.</summary>
/// <param name="Store">The store's <see cref="IPersonalDataStore.Name"/>.</param>
/// <param name="Kind">What the record is, such as <c>lead</c>, an event type or a table name.</param>
/// <param name="Id">The record's key in its store, such as the lead id, an event id or a row's key.</param>
/// <param name="Fields">The record's fields by name, as text (documents as their JSON).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PersonalRecord(string Store, string Kind, string Id, ImmutableSortedDictionary<string, string?> Fields);
