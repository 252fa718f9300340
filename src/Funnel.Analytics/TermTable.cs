using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Funnel.Analytics;

/// <summary>Numbers the (event type, subject) pairs of a store as they are first seen: the store's term codes.</summary>
/// <remarks>A small cache by reference skips hashing the strings, which callers usually reuse.</remarks>
internal sealed class TermTable
{
    private readonly (string? Type, string? Subject, int Term)[] cache = new (string?, string?, int)[16];
    private readonly Dictionary<(string Type, string? Subject), int> index = [];

    /// <summary>Creates an empty table.</summary>
    public TermTable()
    {
    }

    /// <summary>Creates a table that continues a store's terms, keeping their codes.</summary>
    /// <param name="types">The store's term types.</param>
    /// <param name="subjects">The store's term subjects.</param>
    public TermTable(IEnumerable<string> types, IEnumerable<string?> subjects)
    {
        Types.AddRange(types);
        Subjects.AddRange(subjects);
        for (int t = 0; t < Types.Count; t++)
        {
            index.TryAdd((Types[t], Subjects[t]), t);
        }
    }

    /// <summary>Gets each term's event type, by code.</summary>
    public List<string> Types { get; } = [];

    /// <summary>Gets each term's subject, by code.</summary>
    public List<string?> Subjects { get; } = [];

    /// <summary>Returns the code of a type and subject, numbering it when new.</summary>
    public int Code(string eventType, string? subject)
    {
        int slot = (RuntimeHelpers.GetHashCode(eventType) ^ (subject is null ? 0 : RuntimeHelpers.GetHashCode(subject))) & (cache.Length - 1);
        ref (string? Type, string? Subject, int Term) cached = ref cache[slot];
        if (ReferenceEquals(cached.Type, eventType) && ReferenceEquals(cached.Subject, subject))
        {
            return cached.Term;
        }

        ref int term = ref CollectionsMarshal.GetValueRefOrAddDefault(index, (eventType, subject), out bool exists);
        if (!exists)
        {
            term = Types.Count;
            Types.Add(eventType);
            Subjects.Add(subject);
        }

        cached = (eventType, subject, term);
        return term;
    }
}
