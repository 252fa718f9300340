using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Segments;

/// <summary>A compact, columnar snapshot of many leads and their events, for fast bulk segment evaluation.</summary>
/// <remarks>
/// <para>
/// Build one with <see cref="LeadPopulationBuilder"/>. The profile facts are columns (stage, score and consent
/// per lead, a bitset per tag, a dictionary-encoded column per custom field), and the events are an inverted
/// index: for every distinct (event type, subject) pair, the leads that had one, with the instant and an
/// interned property set, in 16 bytes per event. <see cref="SegmentEvaluator.Evaluate"/> then works column at a
/// time on bitsets of 64 leads per word, reading only the events of the types and subjects a rule names.
/// </para>
/// <para>A population is immutable; rebuild it (for example nightly, or from a change feed) to see new events.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadPopulation
{
    private Dictionary<LeadId, int>? _indexById;

    internal LeadPopulation(
        LeadId[] ids,
        EmailAddress[] emails,
        LifecycleStage[] stages,
        double[] scores,
        ConsentStatus[] consent,
        Dictionary<string, ulong[]> tags,
        Dictionary<string, FieldColumn> fields,
        Dictionary<string, (string? Subject, int Key)[]> keysByType,
        int[] keyStart,
        int[] postLead,
        long[] postTicks,
        int[] postProps,
        ImmutableDictionary<string, string>[] propertySets)
    {
        Ids = ids;
        Emails = emails;
        Stages = stages;
        Scores = scores;
        Consent = consent;
        Tags = tags;
        Fields = fields;
        KeysByType = keysByType;
        KeyStart = keyStart;
        PostLead = postLead;
        PostTicks = postTicks;
        PostProps = postProps;
        PropertySets = propertySets;
    }

    /// <summary>Gets the number of leads.</summary>
    public int Count => Ids.Length;

    /// <summary>Gets the number of events indexed.</summary>
    public int EventCount => PostLead.Length;

    internal LeadId[] Ids { get; }

    internal EmailAddress[] Emails { get; }

    internal LifecycleStage[] Stages { get; }

    internal double[] Scores { get; }

    internal ConsentStatus[] Consent { get; }

    internal Dictionary<string, ulong[]> Tags { get; }

    internal Dictionary<string, FieldColumn> Fields { get; }

    internal Dictionary<string, (string? Subject, int Key)[]> KeysByType { get; }

    internal int[] KeyStart { get; }

    internal int[] PostLead { get; }

    internal long[] PostTicks { get; }

    internal int[] PostProps { get; }

    internal ImmutableDictionary<string, string>[] PropertySets { get; }

    internal int Words => (Ids.Length + 63) >> 6;

    /// <summary>Returns the id of the lead at an index.</summary>
    /// <param name="index">The index, in the order the leads were added.</param>
    /// <returns>The lead id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public LeadId LeadAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Ids.Length);
        return Ids[index];
    }

    /// <summary>Returns the index of a lead, or -1 when the lead is not in the population.</summary>
    /// <param name="id">The lead id.</param>
    /// <returns>The index, or -1.</returns>
    public int IndexOf(LeadId id)
    {
        Dictionary<LeadId, int> index = _indexById ??= BuildIndex();
        return index.GetValueOrDefault(id, -1);
    }

    private Dictionary<LeadId, int> BuildIndex()
    {
        Dictionary<LeadId, int> index = new(Ids.Length);
        for (int i = 0; i < Ids.Length; i++)
        {
            index.TryAdd(Ids[i], i);
        }

        return index;
    }

    internal sealed class FieldColumn(int[] codes, string[] values)
    {
        public int[] Codes { get; } = codes;

        public string[] Values { get; } = values;
    }
}

/// <summary>Builds a <see cref="LeadPopulation"/> from lead profiles (or anonymous visitors) and their events.</summary>
/// <remarks>
/// Add each lead once, then its events, in any order. Events are grouped by type and subject; feeding them lead
/// by lead in time order is fastest, but any order is accepted. Event types are compared ordinally. Adding the
/// same lead id twice is an error.
/// </remarks>
/// <threadsafety>Instances are not thread-safe: build from one thread.</threadsafety>
public sealed class LeadPopulationBuilder
{
    private readonly List<LeadId> _ids = [];
    private readonly HashSet<LeadId> _seen = [];
    private readonly List<EmailAddress> _emails = [];
    private readonly List<LifecycleStage> _stages = [];
    private readonly List<double> _scores = [];
    private readonly List<ConsentStatus> _consent = [];
    private readonly Dictionary<string, List<int>> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, string>> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, string? Subject), int> _keys = [];
    private readonly List<Posting> _postings = [];
    private readonly Dictionary<string, int> _propertyIndex = new(StringComparer.Ordinal) { [string.Empty] = 0 };
    private readonly List<ImmutableDictionary<string, string>> _propertySets = [ImmutableDictionary<string, string>.Empty];
    private bool _built;

    /// <summary>Gets the number of leads added so far.</summary>
    public int Count => _ids.Count;

    /// <summary>Adds a lead with a profile.</summary>
    /// <param name="profile">The profile: its id, email, stage, score, consent, tags and custom fields are kept.</param>
    /// <returns>The lead's index, to pass to <see cref="AddEvent(int, FunnelEvent)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="profile"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The lead was already added.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public int Add(LeadProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        int index = AddLead(profile.Id, profile.Email, profile.Stage, profile.Score, profile.ConsentStatus);
        foreach (string tag in profile.Tags)
        {
            if (!_tags.TryGetValue(tag, out List<int>? members))
            {
                _tags[tag] = members = [];
            }

            members.Add(index);
        }

        foreach (KeyValuePair<string, string> field in profile.CustomFields)
        {
            if (!_fields.TryGetValue(field.Key, out Dictionary<int, string>? values))
            {
                _fields[field.Key] = values = [];
            }

            values[index] = field.Value;
        }

        return index;
    }

    /// <summary>Adds an anonymous visitor (stage visitor, score 0, no consent, tags or fields).</summary>
    /// <param name="id">The visitor's id.</param>
    /// <returns>The visitor's index.</returns>
    /// <exception cref="ArgumentException">The lead was already added.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public int AddVisitor(LeadId id) => AddLead(id, default, LifecycleStage.Visitor, 0, ConsentStatus.None);

    /// <summary>Adds an event of a lead.</summary>
    /// <param name="lead">The lead's index from <see cref="Add"/> or <see cref="AddVisitor"/>.</param>
    /// <param name="funnelEvent">The event; its type, subject, instant and properties are kept.</param>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lead"/> is not an index of an added lead.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public void AddEvent(int lead, FunnelEvent funnelEvent)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        AddEvent(lead, funnelEvent.EventType, funnelEvent.Subject, funnelEvent.OccurredAt, funnelEvent.Properties);
    }

    /// <summary>Adds an event of a lead from its parts, without creating an event object (for bulk loads from a store).</summary>
    /// <param name="lead">The lead's index from <see cref="Add"/> or <see cref="AddVisitor"/>.</param>
    /// <param name="eventType">The event type, such as <c>page_viewed</c>.</param>
    /// <param name="subject">The subject, such as the page path, or <see langword="null"/>.</param>
    /// <param name="occurredAt">When it happened.</param>
    /// <param name="properties">The event properties, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lead"/> is not an index of an added lead.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public void AddEvent(int lead, string eventType, string? subject, Instant occurredAt, IReadOnlyDictionary<string, string>? properties = null)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        ArgumentOutOfRangeException.ThrowIfNegative(lead);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(lead, _ids.Count);
        ThrowIfBuilt();
        if (!_keys.TryGetValue((eventType, subject), out int key))
        {
            _keys[(eventType, subject)] = key = _keys.Count;
        }

        int props = properties is null || properties.Count == 0 ? 0 : InternProperties(properties);
        _postings.Add(new Posting(key, lead, occurredAt.ToUnixTimeTicks(), props));
    }

    /// <summary>Builds the population; the builder cannot be used afterwards.</summary>
    /// <returns>The population.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was already called.</exception>
    public LeadPopulation Build()
    {
        ThrowIfBuilt();
        _built = true;
        int n = _ids.Count;
        int words = (n + 63) >> 6;
        Dictionary<string, ulong[]> tags = new(StringComparer.Ordinal);
        foreach ((string tag, List<int> members) in _tags)
        {
            ulong[] bits = new ulong[words];
            foreach (int i in members)
            {
                bits[i >> 6] |= 1UL << i;
            }

            tags[tag] = bits;
        }

        Dictionary<string, LeadPopulation.FieldColumn> fields = new(StringComparer.Ordinal);
        foreach ((string name, Dictionary<int, string> values) in _fields)
        {
            int[] codes = new int[n];
            Array.Fill(codes, -1);
            Dictionary<string, int> distinct = new(StringComparer.Ordinal);
            foreach ((int lead, string value) in values)
            {
                if (!distinct.TryGetValue(value, out int code))
                {
                    distinct[value] = code = distinct.Count;
                }

                codes[lead] = code;
            }

            string[] table = new string[distinct.Count];
            foreach ((string value, int code) in distinct)
            {
                table[code] = value;
            }

            fields[name] = new LeadPopulation.FieldColumn(codes, table);
        }

        // Counting sort of the postings by key; a stable sort keeps each key's postings in the order added,
        // and each key's run is then sorted by lead if it was not added lead by lead.
        int keyCount = _keys.Count;
        int[] keyStart = new int[keyCount + 1];
        Span<Posting> postings = CollectionsMarshal.AsSpan(_postings);
        foreach (ref readonly Posting p in postings)
        {
            keyStart[p.Key + 1]++;
        }

        for (int k = 0; k < keyCount; k++)
        {
            keyStart[k + 1] += keyStart[k];
        }

        int total = postings.Length;
        int[] postLead = new int[total];
        long[] postTicks = new long[total];
        int[] postProps = new int[total];
        int[] next = (int[])keyStart.Clone();
        foreach (ref readonly Posting p in postings)
        {
            int at = next[p.Key]++;
            postLead[at] = p.Lead;
            postTicks[at] = p.Ticks;
            postProps[at] = p.Props;
        }

        _postings.Clear();
        _postings.TrimExcess();
        for (int k = 0; k < keyCount; k++)
        {
            SortRunByLead(postLead, postTicks, postProps, keyStart[k], keyStart[k + 1]);
        }

        Dictionary<string, (string? Subject, int Key)[]> keysByType = _keys
            .GroupBy(kv => kv.Key.Type, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(kv => (kv.Key.Subject, kv.Value)).ToArray(), StringComparer.Ordinal);

        return new LeadPopulation(
            [.. _ids],
            [.. _emails],
            [.. _stages],
            [.. _scores],
            [.. _consent],
            tags,
            fields,
            keysByType,
            keyStart,
            postLead,
            postTicks,
            postProps,
            [.. _propertySets]);
    }

    private static void SortRunByLead(int[] leads, long[] ticks, int[] props, int start, int end)
    {
        for (int i = start + 1; i < end; i++)
        {
            if (leads[i] < leads[i - 1])
            {
                int length = end - start;
                int[] order = new int[length];
                for (int j = 0; j < length; j++)
                {
                    order[j] = j;
                }

                int[] keys = leads[start..end];
                Array.Sort(keys, order);
                long[] t = ticks[start..end];
                int[] p = props[start..end];
                for (int j = 0; j < length; j++)
                {
                    leads[start + j] = keys[j];
                    ticks[start + j] = t[order[j]];
                    props[start + j] = p[order[j]];
                }

                return;
            }
        }
    }

    private int AddLead(LeadId id, EmailAddress email, LifecycleStage stage, double score, ConsentStatus consent)
    {
        ThrowIfBuilt();
        if (!_seen.Add(id))
        {
            throw new ArgumentException($"Lead {id} was already added.", nameof(id));
        }

        _ids.Add(id);
        _emails.Add(email);
        _stages.Add(stage);
        _scores.Add(score);
        _consent.Add(consent);
        return _ids.Count - 1;
    }

    private int InternProperties(IReadOnlyDictionary<string, string> properties)
    {
        string canonical = string.Join('\u0001', properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "\u0002" + p.Value));
        if (!_propertyIndex.TryGetValue(canonical, out int index))
        {
            _propertyIndex[canonical] = index = _propertySets.Count;
            _propertySets.Add(properties.ToImmutableDictionary(StringComparer.Ordinal));
        }

        return index;
    }

    private void ThrowIfBuilt()
    {
        if (_built)
        {
            throw new InvalidOperationException("The population was already built; use a new builder.");
        }
    }

    private readonly record struct Posting(int Key, int Lead, long Ticks, int Props);
}
