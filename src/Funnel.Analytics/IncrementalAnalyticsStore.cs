using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>An <see cref="AnalyticsEventStore"/> that takes appended events without a rebuild.</summary>
/// <remarks>
/// <para>
/// The store keeps an immutable base store and an append area: per appended event its time, type-and-subject code,
/// dimension codes and lead id, written at the end of the area, so an append is sequential writes only and nothing of
/// the base is moved. The next read (an analysis, <see cref="Compact"/>, <see cref="LeadCount"/> or an appended
/// identity link) first groups the pending appends in one batch: a lookup of each one's lead and a link into that
/// lead's chain, in append order. Base leads keep their position; a lead first seen in an append gets the next one.
/// New types, subjects, channels and other values extend the base dictionaries.
/// </para>
/// <para>
/// <see cref="FunnelAnalyzer.Analyze(IncrementalAnalyticsStore, FunnelQuery, CancellationToken)"/> answers over the
/// base and the appended events together, exactly as over a store loaded from all of them: a lead without appended
/// events is read straight from the base, a lead with some has its base events and its appended events merged in time
/// order (at one instant, base events first, then appended ones in append order: the order a full load keeps).
/// <see cref="Compact"/> merges the append area into a new base store for the other consumers (KPI series,
/// attribution) and for saving. Leads are numbered base first, then new leads in order of their first append, so drop-off
/// lists follow that order.
/// </para>
/// <para>
/// Replayed event ids count once (with <see cref="AnalyticsStoreOptions.SkipDuplicateIds"/>): against every id
/// appended, and against the ids of the base when it was built by <see cref="Load"/>; a store wrapped with the
/// constructor does not know its base's ids. Identity links (<see cref="Leads.IdentityLinked"/>) known to the store
/// (loaded by <see cref="Load"/> or appended) resolve the visitor ids of later appends to their lead, and an appended
/// link whose visitor already has stored events merges that visitor's lead into its lead. A link that re-links a
/// visitor already stored under another lead (an earlier link arriving late) cannot separate its events from that
/// lead's and throws; such data needs a full <see cref="AnalyticsEventStore.Load"/>. When a merged visitor's and its
/// lead's base events share an instant, their order (which only decides which of the tied events a chain starts from,
/// and so its breakdown row) follows the base positions rather than the original load order.
/// </para>
/// </remarks>
/// <threadsafety>
/// Instances are not thread-safe for writing: use one writer, and do not append while an analysis or
/// <see cref="Compact"/> runs (guard them with one lock, or a reader-writer lock whose readers are analyses).
/// Analyses may run concurrently with each other: the batch grouping they start is serialised by a lock.
/// </threadsafety>
public sealed class IncrementalAnalyticsStore
{
    private readonly bool _skipDuplicateIds;
    private readonly HashSet<EventId> _seen;
    private readonly List<Leads.IdentityLinked> _links;
    private readonly Dictionary<Guid, int> _leadIndex;
    private readonly (string? Type, string? Subject, int Term)[] _termCache = new (string?, string?, int)[16];
    private readonly Dictionary<(string Type, string? Subject), int> _termIndex = [];
    private readonly List<string> _termTypes;
    private readonly List<string?> _termSubjects;
    private readonly List<string?>[] _dimensionValues;
    private readonly Dictionary<string, int>?[] _dimensionIndex;
    private readonly List<(int Event, long Amount)> _money = [];
    private readonly List<(long Time, int Channel, long Amount)> _spend = [];
    private Leads.LeadAliases _aliases;
    private AnalyticsEventStore _base;
    private List<LeadId> _newLeads = [];
    private readonly Lock _grouping = new();
    private AppendedEvent[] _events = new AppendedEvent[1024];
    private Guid[] _pendingLeads = new Guid[1024];
    private int _grouped;
    private int[]?[] _dimensions;
    private int[] _head;
    private int[] _tail;
    private int[] _appendedPerLead;
    private byte[] _flags;
    private Dictionary<int, List<int>> _absorbed = [];
    private int _merged;
    private int _count;
    private Currency? _currency;

    /// <summary>Wraps a built store so that events can be appended to it.</summary>
    /// <param name="baseStore">The store to start from; it is not changed.</param>
    /// <param name="options">
    /// Whether appended ids are checked for replays; its <see cref="AnalyticsStoreOptions.PropertyKeys"/> must be
    /// empty or those of <paramref name="baseStore"/>. Defaults to <see cref="AnalyticsStoreOptions.Default"/>.
    /// </param>
    /// <remarks>The ids and identity links of the base's events are not kept by a store, so they are unknown here.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="baseStore"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The property keys of <paramref name="options"/> differ from the base's.</exception>
    public IncrementalAnalyticsStore(AnalyticsEventStore baseStore, AnalyticsStoreOptions? options = null)
        : this(baseStore, options, [], [], nameof(options))
    {
    }

    private IncrementalAnalyticsStore(AnalyticsEventStore baseStore, AnalyticsStoreOptions? options, HashSet<EventId> seen, List<Leads.IdentityLinked> links, string optionsName)
    {
        ArgumentNullException.ThrowIfNull(baseStore);
        options ??= AnalyticsStoreOptions.Default;
        if (!options.PropertyKeys.IsDefaultOrEmpty && !options.PropertyKeys.SequenceEqual(baseStore.PropertyKeys, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"The options capture the properties [{string.Join(", ", options.PropertyKeys)}] but the base store captured [{string.Join(", ", baseStore.PropertyKeys)}]; leave PropertyKeys empty or give the base's.",
                optionsName);
        }

        _base = baseStore;
        _skipDuplicateIds = options.SkipDuplicateIds;
        _seen = seen;
        _links = links;
        _aliases = links.Count == 0 ? Leads.LeadAliases.Empty : Leads.LeadAliases.From(links);
        _leadIndex = new Dictionary<Guid, int>(baseStore.LeadCount);
        Span<Guid> ids = MemoryMarshal.Cast<LeadId, Guid>(baseStore.Leads.AsSpan());
        for (int i = 0; i < ids.Length; i++)
        {
            _leadIndex.Add(ids[i], i);
        }

        _termTypes = [.. baseStore.TermTypes];
        _termSubjects = [.. baseStore.TermSubjects];
        for (int t = 0; t < _termTypes.Count; t++)
        {
            _termIndex.TryAdd((_termTypes[t], _termSubjects[t]), t);
        }

        int dims = baseStore.Dimensions.Length;
        _dimensionValues = [.. baseStore.DimensionValues.Select(v => new List<string?>(v))];
        _dimensionIndex = new Dictionary<string, int>?[dims];
        _dimensions = new int[]?[dims];
        int leads = Math.Max(16, baseStore.LeadCount);
        _head = new int[leads];
        _tail = new int[leads];
        _appendedPerLead = new int[leads];
        _flags = new byte[leads];
        if (baseStore.MoneyAmounts.Length > 0 || baseStore.SpendAmounts.Length > 0)
        {
            _currency = baseStore.Currency;
        }
    }

    /// <summary>Gets the store the appended events are added to: the one given, or the last <see cref="Compact"/>'s.</summary>
    public AnalyticsEventStore BaseStore => _base;

    /// <summary>Gets the number of events appended since the base store was built.</summary>
    public int AppendedCount => _count;

    /// <summary>Gets the number of lead events in the base store and the append area together.</summary>
    public int EventCount => _base.EventCount + _count;

    /// <summary>Gets the number of distinct leads in the base store and the append area together.</summary>
    public int LeadCount
    {
        get
        {
            GroupPending();
            return _base.LeadCount + _newLeads.Count - _merged;
        }
    }

    internal int BaseLeadCount => _base.LeadCount;

    /// <summary>Gets the number of lead positions, including those of leads merged into others by a link.</summary>
    internal int LeadSlots => _base.LeadCount + _newLeads.Count;

    /// <summary>Gets per lead position: <see cref="MergedAway"/>, <see cref="HasAbsorbed"/> or 0.</summary>
    internal byte[] Flags => _flags;

    internal const byte MergedAway = 1;

    internal const byte HasAbsorbed = 2;

    /// <summary>Gets the appended events, in append order; a lead's are chained from <see cref="Head"/>.</summary>
    internal AppendedEvent[] Appended => _events;

    internal int[]?[] AppendedDimensions => _dimensions;

    internal int[] Head => _head;


    internal int[] AppendedPerLead => _appendedPerLead;

    internal Currency Currency => _currency ?? _base.Currency;

    /// <summary>Encodes events into a new base store that remembers their ids and identity links, for appending.</summary>
    /// <param name="events">The events, in any order, as for <see cref="AnalyticsEventStore.Load"/>.</param>
    /// <param name="options">What to capture; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <returns>The store, with nothing appended yet.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A lead event has the empty (default) lead id, or a property key is blank or listed twice.</exception>
    /// <exception cref="InvalidOperationException">Amounts are in more than one currency.</exception>
    public static IncrementalAnalyticsStore Load(IEnumerable<FunnelEvent> events, AnalyticsStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new AnalyticsEventStoreBuilder(options);
        foreach (FunnelEvent e in events)
        {
            builder.Add(e, nameof(events));
        }

        AnalyticsEventStore store = builder.Build();
        return new IncrementalAnalyticsStore(store, options, builder.SeenIds, builder.Links, nameof(options));
    }

    /// <summary>Appends an event.</summary>
    /// <param name="funnelEvent">
    /// The event; an <see cref="AdSpendRecorded"/> is kept as spend, other events that are not <see cref="LeadEvent"/>s
    /// are skipped, as by <see cref="AnalyticsEventStoreBuilder.Add(FunnelEvent)"/>.
    /// </param>
    /// <returns><see langword="true"/> when the event was stored; <see langword="false"/> when it was skipped (a replayed id, or not a lead event).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="funnelEvent"/> is a <see cref="LeadEvent"/> with the empty (default) <see cref="LeadId"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// The amount is in another currency than the store's, or the event is an identity link that would move a visitor
    /// already linked to another lead (see the remarks on the type).
    /// </exception>
    public bool Append(FunnelEvent funnelEvent)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (funnelEvent is LeadEvent { LeadId.Value: var id } && id == Guid.Empty)
        {
            throw new ArgumentException($"The {funnelEvent.EventType} event {funnelEvent.Id} has the empty (default) lead id; every lead event needs a lead.", nameof(funnelEvent));
        }

        List<(LeadId From, LeadId To)>? merges = null;
        Leads.LeadAliases? aliases = null;
        if (funnelEvent is Leads.IdentityLinked link && !(_skipDuplicateIds && _seen.Contains(link.Id)))
        {
            (aliases, merges) = PlanLink(link);
        }

        if (_skipDuplicateIds && _seen.Contains(funnelEvent.Id))
        {
            return false;
        }

        if (funnelEvent is AdSpendRecorded adSpend)
        {
            CheckCurrency(adSpend.Amount.Currency);
            if (_skipDuplicateIds)
            {
                _seen.Add(funnelEvent.Id);
            }

            _spend.Add((adSpend.OccurredAt.ToUnixTimeTicks(), Code(AnalyticsEventStore.ChannelDimension, adSpend.Attribution.Channel), adSpend.Amount.MinorUnits));
            return true;
        }

        if (funnelEvent is not LeadEvent leadEvent)
        {
            if (_skipDuplicateIds)
            {
                _seen.Add(funnelEvent.Id);
            }

            return false;
        }

        long amount = 0;
        switch (leadEvent)
        {
            case OrderPlaced order:
                CheckCurrency(order.Total.Currency);
                amount = order.Total.MinorUnits;
                break;
            case RefundIssued refund:
                CheckCurrency(refund.Amount.Currency);
                amount = refund.Amount.MinorUnits;
                break;
        }

        if (_skipDuplicateIds)
        {
            _seen.Add(funnelEvent.Id);
        }

        if (leadEvent is Leads.IdentityLinked linked)
        {
            _links.Add(linked);
            _aliases = aliases ?? Leads.LeadAliases.From(_links);
            foreach ((LeadId from, LeadId to) in merges ?? [])
            {
                Merge(from, to);
            }
        }

        int index = Append(leadEvent.LeadId, leadEvent.OccurredAt, leadEvent.EventType, leadEvent.Subject, leadEvent.Attribution.Channel, leadEvent.Attribution.Campaign);
        if (leadEvent is ExperimentExposed exposed)
        {
            SetCode(AnalyticsEventStore.VariantDimension, index, exposed.Variant);
        }

        ImmutableArray<string> keys = _base.PropertyKeys;
        for (int k = 0; k < keys.Length; k++)
        {
            if (leadEvent.Properties.TryGetValue(keys[k], out string? value))
            {
                SetCode(AnalyticsEventStore.FirstPropertyDimension + k, index, value);
            }
        }

        if (leadEvent is OrderPlaced or RefundIssued)
        {
            _money.Add((index, amount));
        }

        return true;
    }

    /// <summary>Appends events in order.</summary>
    /// <param name="events">The events; each is appended as by <see cref="Append(FunnelEvent)"/>.</param>
    /// <returns>The number of events stored.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A lead event has the empty (default) lead id.</exception>
    /// <exception cref="InvalidOperationException">An amount is in another currency, or a link would move stored events.</exception>
    public int AppendRange(IEnumerable<FunnelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        int stored = 0;
        foreach (FunnelEvent e in events)
        {
            if (e is null)
            {
                throw new ArgumentNullException(nameof(events), "The events must not contain null.");
            }

            stored += Append(e) ? 1 : 0;
        }

        return stored;
    }

    /// <summary>Appends a lead event given as raw columns, without creating an event object: the fast path.</summary>
    /// <param name="lead">The lead, or a visitor id that a known identity link resolves to its lead.</param>
    /// <param name="occurredAt">When it happened; any time, before or after the stored events.</param>
    /// <param name="eventType">The event type, such as <c>opted_in</c>.</param>
    /// <param name="subject">The subject, or <see langword="null"/>.</param>
    /// <param name="channel">The attribution channel, or <see langword="null"/>.</param>
    /// <param name="campaign">The attribution campaign, or <see langword="null"/>.</param>
    /// <returns>The position of the event in append order.</returns>
    /// <remarks>An event without an id cannot be recognised as a replay; it is always stored.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lead"/> is the empty (default) id.</exception>
    public int Append(LeadId lead, Instant occurredAt, string eventType, string? subject = null, string? channel = null, string? campaign = null)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        if (lead.Value == Guid.Empty)
        {
            throw new ArgumentException("The lead id is empty (default); every lead event needs a lead.", nameof(lead));
        }

        if (_count == _events.Length)
        {
            Grow();
        }

        int term = Term(eventType, subject);
        int i = _count;
        _events[i] = new AppendedEvent(occurredAt.ToUnixTimeTicks(), term, 0);
        _pendingLeads[i] = _aliases.Resolve(lead).Value;
        if (channel is not null)
        {
            SetCode(AnalyticsEventStore.ChannelDimension, i, channel);
        }

        if (campaign is not null)
        {
            SetCode(AnalyticsEventStore.CampaignDimension, i, campaign);
        }

        _count = i + 1;
        return i;
    }

    /// <summary>Merges the appended events into a new base store, returns it, and continues appending to it.</summary>
    /// <returns>
    /// A store equal, for every analysis, to one loaded from the base's events and the appended ones; leads keep their
    /// positions (base leads first, then new leads in order of their first append).
    /// </returns>
    /// <remarks>
    /// No string is hashed again: codes are kept, each lead's base events are copied and its appended events merged in
    /// by time. The ids and links seen stay known, so replays after a compaction still count once.
    /// </remarks>
    public AnalyticsEventStore Compact()
    {
        GroupPending();
        // Every change comes with an appended event or spend record, except a link that merged stored leads.
        if (_count == 0 && _spend.Count == 0 && _merged == 0)
        {
            return _base;
        }

        AnalyticsEventStore old = _base;
        int[] live = [.. Enumerable.Range(0, LeadSlots).Where(l => _flags[l] != MergedAway)];
        int leadCount = live.Length;
        var offsets = new int[leadCount + 1];
        for (int k = 0; k < leadCount; k++)
        {
            offsets[k + 1] = offsets[k] + EventCountOf(live[k]);
        }

        int total = offsets[leadCount];
        var times = new long[total];
        var terms = new int[total];
        int dims = old.Dimensions.Length;
        var columns = new int[dims][];

        // A dimension no event sets (all "none" in the base, none appended) shares one zeroed column, as in a load.
        int[]? none = null;
        var copied = new List<int>(dims);
        for (int d = 0; d < dims; d++)
        {
            if (_dimensions[d] is null && IsNone(old.Dimensions, d))
            {
                columns[d] = none ??= new int[total];
            }
            else
            {
                columns[d] = new int[total];
                copied.Add(d);
            }
        }

        bool money = old.MoneyEvents.Length > 0 || _money.Count > 0;
        int[] baseToNew = money ? new int[old.EventCount] : [];
        int[] appendedToNew = money ? new int[_count] : [];
        int chunks = Math.Max(1, Math.Min(leadCount, Environment.ProcessorCount * 4));
        Parallel.For(0, chunks, c =>
        {
            var scratch = new LeadScratch();
            int from = (int)((long)leadCount * c / chunks);
            int to = (int)((long)leadCount * (c + 1) / chunks);
            for (int k = from; k < to; k++)
            {
                int lead = live[k];
                if (IsUntouched(lead))
                {
                    // A run of base leads without appends or merged visitors: their slices are one block of the base.
                    int last = k;
                    while (last + 1 < to && live[last + 1] == live[last] + 1 && IsUntouched(live[last + 1]))
                    {
                        last++;
                    }

                    int begin = old.Offsets[lead];
                    int count = old.Offsets[live[last] + 1] - begin;
                    int into = offsets[k];
                    Array.Copy(old.Times, begin, times, into, count);
                    Array.Copy(old.Terms, begin, terms, into, count);
                    foreach (int d in copied)
                    {
                        Array.Copy(old.Dimensions[d], begin, columns[d], into, count);
                    }

                    if (money)
                    {
                        for (int j = 0; j < count; j++)
                        {
                            baseToNew[begin + j] = into + j;
                        }
                    }

                    k = last;
                    continue;
                }

                int length = scratch.Gather(this, lead);
                int at = offsets[k];
                scratch.Times.AsSpan(0, length).CopyTo(times.AsSpan(at));
                scratch.Terms.AsSpan(0, length).CopyTo(terms.AsSpan(at));
                for (int j = 0; j < length; j++)
                {
                    int source = scratch.Sources[j];
                    foreach (int d in copied)
                    {
                        columns[d][at + j] = DimensionCode(d, source);
                    }

                    if (money)
                    {
                        if (source >= 0)
                        {
                            baseToNew[source] = at + j;
                        }
                        else
                        {
                            appendedToNew[~source] = at + j;
                        }
                    }
                }
            }
        });

        (int Event, long Amount)[] moneyRows =
        [
            .. old.MoneyEvents.Select((e, k) => (baseToNew[e], old.MoneyAmounts[k])),
            .. _money.Select(m => (appendedToNew[m.Event], m.Amount)),
        ];
        Array.Sort(moneyRows, (a, b) => a.Event.CompareTo(b.Event));
        (long Time, int Channel, long Amount)[] spendRows =
        [
            .. old.SpendTimes.Select((t, k) => (t, old.SpendChannels[k], old.SpendAmounts[k])),
            .. _spend,
        ];
        spendRows = [.. spendRows.OrderBy(s => s.Time)];
        var store = new AnalyticsEventStore(
            Currency,
            [.. live.Select(LeadAt)],
            offsets,
            times,
            terms,
            [.. _termTypes],
            [.. _termSubjects],
            columns,
            [.. _dimensionValues.Select(v => v.ToArray())],
            old.PropertyKeys,
            [.. moneyRows.Select(m => m.Event)],
            [.. moneyRows.Select(m => m.Amount)],
            [.. spendRows.Select(s => s.Time)],
            [.. spendRows.Select(s => s.Channel)],
            [.. spendRows.Select(s => s.Amount)]);

        if (_merged > 0)
        {
            // Positions closed up over the merged leads: number the live ones again.
            _leadIndex.Clear();
            for (int k = 0; k < leadCount; k++)
            {
                _leadIndex.Add(store.Leads[k].Value, k);
            }
        }

        _base = store;
        _newLeads = [];
        _count = 0;
        _grouped = 0;
        _merged = 0;
        _absorbed = [];
        _money.Clear();
        _spend.Clear();
        Array.Clear(_dimensions);
        int size = Math.Max(16, leadCount);
        _head = new int[size];
        _tail = new int[size];
        _appendedPerLead = new int[size];
        _flags = new byte[size];
        return store;
    }

    /// <summary>Whether a lead position is a base lead with neither appended events nor merged visitors.</summary>
    private bool IsUntouched(int lead) => lead < _base.LeadCount && _head[lead] == 0 && _flags[lead] == 0;

    /// <summary>Whether a base dimension column is all "none": the column the builder shares among unset dimensions, or all zeros.</summary>
    private static bool IsNone(int[][] columns, int d)
    {
        for (int other = 0; other < columns.Length; other++)
        {
            if (other != d && ReferenceEquals(columns[other], columns[d]))
            {
                return true;
            }
        }

        return !columns[d].AsSpan().ContainsAnyExcept(0);
    }

    /// <summary>Returns the number of events of a lead position: its base slice, the slices it absorbed, its appends.</summary>
    internal int EventCountOf(int lead)
    {
        int count = _appendedPerLead[lead];
        if (lead < _base.LeadCount)
        {
            count += _base.Offsets[lead + 1] - _base.Offsets[lead];
        }

        foreach (int x in AbsorbedBy(lead) ?? NoSlices)
        {
            count += _base.Offsets[x + 1] - _base.Offsets[x];
        }

        return count;
    }

    /// <summary>Returns the id of a lead by its position: base leads first, then new ones.</summary>
    internal LeadId LeadAt(int index) => index < _base.LeadCount ? _base.Leads[index] : _newLeads[index - _base.LeadCount];

    /// <summary>The dimension code of an event given as a base position (≥ 0) or the complement of an append index.</summary>
    internal int DimensionCode(int dimension, int source) =>
        source >= 0 ? _base.Dimensions[dimension][source] : _dimensions[dimension] is { } column ? column[~source] : 0;

    /// <summary>The amount of each appended order or refund, by append index.</summary>
    internal Dictionary<int, long> AppendedAmounts()
    {
        var amounts = new Dictionary<int, long>(_money.Count);
        foreach ((int index, long amount) in _money)
        {
            amounts[index] = amount;
        }

        return amounts;
    }

    /// <summary>
    /// A store that shares the base's columns but holds the extended dictionaries, for building term masks, and the
    /// base's and the appended ad spend, for the funnel's money.
    /// </summary>
    internal AnalyticsEventStore DictionaryView()
    {
        bool moreSpend = _spend.Count > 0;
        return new AnalyticsEventStore(
            Currency,
            _base.Leads,
            _base.Offsets,
            _base.Times,
            _base.Terms,
            [.. _termTypes],
            [.. _termSubjects],
            _base.Dimensions,
            [.. _dimensionValues.Select(v => v.ToArray())],
            _base.PropertyKeys,
            _base.MoneyEvents,
            _base.MoneyAmounts,
            moreSpend ? [.. _base.SpendTimes, .. _spend.Select(s => s.Time)] : _base.SpendTimes,
            moreSpend ? [.. _base.SpendChannels, .. _spend.Select(s => s.Channel)] : _base.SpendChannels,
            moreSpend ? [.. _base.SpendAmounts, .. _spend.Select(s => s.Amount)] : _base.SpendAmounts);
    }

    /// <summary>
    /// Gives the events appended since the last call their lead: a lookup per event, done in a batch before any
    /// read, so that an append itself is only sequential writes.
    /// </summary>
    /// <remarks>Serialised by a lock, so analyses running together may call it.</remarks>
    internal void GroupPending()
    {
        if (Volatile.Read(ref _grouped) == _count)
        {
            return;
        }

        lock (_grouping)
        {
            AppendedEvent[] events = _events;
            for (int i = _grouped; i < _count; i++)
            {
                int l = LeadOf(_pendingLeads[i]);
                if (_head[l] == 0)
                {
                    _head[l] = i + 1;
                }
                else
                {
                    events[_tail[l]].Next = i + 1;
                }

                _tail[l] = i;
                _appendedPerLead[l]++;
            }

            Volatile.Write(ref _grouped, _count);
        }
    }

    private int LeadOf(Guid id)
    {
        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_leadIndex, id, out bool exists);
        if (exists)
        {
            return slot;
        }

        int l = _base.LeadCount + _newLeads.Count;
        slot = l;
        _newLeads.Add(new LeadId(id));
        if (l == _head.Length)
        {
            int size = checked(l * 2);
            Array.Resize(ref _head, size);
            Array.Resize(ref _tail, size);
            Array.Resize(ref _appendedPerLead, size);
            Array.Resize(ref _flags, size);
        }

        return l;
    }

    /// <summary>Returns the aliases with a new link and the leads whose stored events it moves, or throws when it cannot move them.</summary>
    private (Leads.LeadAliases Next, List<(LeadId From, LeadId To)> Merges) PlanLink(Leads.IdentityLinked link)
    {
        GroupPending();
        // Stored events were grouped under the lead their id resolved to. Only a link's visitor id can change where it
        // resolves. A visitor stored under its own id (with the visitors linked to it) moves as a whole: its lead is
        // merged into the new one. A visitor stored under another lead that does not move along cannot be told apart
        // from that lead's own events, so only a full load can regroup it.
        Leads.LeadAliases next = Leads.LeadAliases.From([.. _links, link]);
        var merges = new List<(LeadId From, LeadId To)>();
        foreach (LeadId visitor in _links.Select(l => l.VisitorId).Append(link.VisitorId).Distinct())
        {
            LeadId before = _aliases.Resolve(visitor);
            LeadId after = next.Resolve(visitor);
            if (after == before || !_leadIndex.ContainsKey(before.Value))
            {
                continue;
            }

            if (before == visitor)
            {
                merges.Add((visitor, after));
            }
            else if (next.Resolve(before) != after)
            {
                throw new InvalidOperationException(
                    $"The identity link {link.Id} makes {visitor} resolve to lead {after} instead of {before}, whose stored events include that visitor's; "
                    + "an incremental store cannot tell them apart: load all events again with AnalyticsEventStore.Load.");
            }
        }

        return (next, merges);
    }

    /// <summary>Moves a lead's events (base slices and appended chain) to another lead; the first lead's position is left empty.</summary>
    private void Merge(LeadId from, LeadId to)
    {
        int x = _leadIndex[from.Value];
        int y = LeadOf(to.Value);
        if (x < _base.LeadCount || _absorbed.ContainsKey(x))
        {
            if (!_absorbed.TryGetValue(y, out List<int>? slices))
            {
                _absorbed[y] = slices = [];
            }

            if (x < _base.LeadCount)
            {
                slices.Add(x);
            }

            if (_absorbed.Remove(x, out List<int>? moved))
            {
                slices.AddRange(moved);
            }

            _flags[y] |= HasAbsorbed;
        }

        // Both chains hold append positions in increasing order; merge them so that y's chain stays in append order.
        var positions = new List<int>(_appendedPerLead[x] + _appendedPerLead[y]);
        for (int a = _head[x] - 1, b = _head[y] - 1; a >= 0 || b >= 0;)
        {
            if (b < 0 || (a >= 0 && a < b))
            {
                positions.Add(a);
                a = _events[a].Next - 1;
            }
            else
            {
                positions.Add(b);
                b = _events[b].Next - 1;
            }
        }

        for (int k = 0; k < positions.Count; k++)
        {
            _events[positions[k]].Next = k + 1 < positions.Count ? positions[k + 1] + 1 : 0;
        }

        _head[y] = positions.Count == 0 ? 0 : positions[0] + 1;
        _tail[y] = positions.Count == 0 ? 0 : positions[^1];
        _appendedPerLead[y] = positions.Count;
        (_head[x], _appendedPerLead[x]) = (0, 0);
        _flags[x] = MergedAway;
        _leadIndex[from.Value] = y;
        _merged++;
    }

    /// <summary>Gets an empty list of absorbed slices, to loop over without allocating.</summary>
    internal static List<int> NoSlices { get; } = [];

    /// <summary>Returns the base leads whose events a lead absorbed through links, or <see langword="null"/>.</summary>
    internal List<int>? AbsorbedBy(int lead) => _absorbed.Count == 0 ? null : _absorbed.GetValueOrDefault(lead);

    private int Term(string eventType, string? subject)
    {
        int slot = (System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(eventType) ^ (subject is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(subject))) & (_termCache.Length - 1);
        ref (string? Type, string? Subject, int Term) cached = ref _termCache[slot];
        if (ReferenceEquals(cached.Type, eventType) && ReferenceEquals(cached.Subject, subject))
        {
            return cached.Term;
        }

        ref int term = ref CollectionsMarshal.GetValueRefOrAddDefault(_termIndex, (eventType, subject), out bool exists);
        if (!exists)
        {
            term = _termTypes.Count;
            _termTypes.Add(eventType);
            _termSubjects.Add(subject);
        }

        cached = (eventType, subject, term);
        return term;
    }

    private void SetCode(int dimension, int index, string? value)
    {
        int code = Code(dimension, value);
        if (code != 0)
        {
            (_dimensions[dimension] ??= new int[_events.Length])[index] = code;
        }
    }

    private int Code(int dimension, string? value)
    {
        if (value is null)
        {
            return 0;
        }

        Dictionary<string, int> index = _dimensionIndex[dimension] ??= IndexOf(_dimensionValues[dimension]);
        ref int code = ref CollectionsMarshal.GetValueRefOrAddDefault(index, value, out bool exists);
        if (!exists)
        {
            code = _dimensionValues[dimension].Count;
            _dimensionValues[dimension].Add(value);
        }

        return code;
    }

    private static Dictionary<string, int> IndexOf(List<string?> values)
    {
        var index = new Dictionary<string, int>(values.Count, StringComparer.Ordinal);
        for (int i = 1; i < values.Count; i++)
        {
            index.TryAdd(values[i]!, i);
        }

        return index;
    }

    private void Grow()
    {
        int size = checked(_events.Length * 2);
        Array.Resize(ref _events, size);
        Array.Resize(ref _pendingLeads, size);
        for (int d = 0; d < _dimensions.Length; d++)
        {
            if (_dimensions[d] is not null)
            {
                Array.Resize(ref _dimensions[d], size);
            }
        }
    }

    private void CheckCurrency(Currency value)
    {
        if (_currency is null)
        {
            _currency = value;
        }
        else if (_currency.Value != value)
        {
            throw new InvalidOperationException($"All amounts in a store must be in one currency: found {value} after {_currency.Value}.");
        }
    }
}

/// <summary>One thread's buffers for a lead's base and appended events merged in time order.</summary>
internal sealed class LeadScratch
{
    public long[] Times { get; private set; } = new long[64];

    public int[] Terms { get; private set; } = new int[64];

    /// <summary>Per merged event: its base position (≥ 0) or the complement of its append index.</summary>
    public int[] Sources { get; private set; } = new int[64];

    /// <summary>Merges a lead's base slice and appended events (stable: base first at one instant, then append order).</summary>
    /// <returns>The number of events in the buffers.</returns>
    public int Gather(IncrementalAnalyticsStore store, int lead)
    {
        AnalyticsEventStore baseStore = store.BaseStore;
        int b = 0;
        int e = 0;
        if (lead < store.BaseLeadCount)
        {
            b = baseStore.Offsets[lead];
            e = baseStore.Offsets[lead + 1];
        }

        int need = store.EventCountOf(lead);
        if (need > Times.Length)
        {
            int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)need);
            Times = new long[size];
            Terms = new int[size];
            Sources = new int[size];
        }

        long[] t = Times;
        int[] term = Terms;
        int[] source = Sources;
        baseStore.Times.AsSpan(b, e - b).CopyTo(t);
        baseStore.Terms.AsSpan(b, e - b).CopyTo(term);
        int length = e - b;
        for (int j = 0; j < length; j++)
        {
            source[j] = b + j;
        }

        // Slices of merged leads, then appends: each event goes after every event at or before its instant.
        foreach (int x in store.AbsorbedBy(lead) ?? IncrementalAnalyticsStore.NoSlices)
        {
            for (int j = baseStore.Offsets[x]; j < baseStore.Offsets[x + 1]; j++)
            {
                Insert(ref length, baseStore.Times[j], baseStore.Terms[j], j);
            }
        }

        AppendedEvent[] appended = store.Appended;
        for (int i = store.Head[lead] - 1; i >= 0; i = appended[i].Next - 1)
        {
            Insert(ref length, appended[i].Time, appended[i].Term, ~i);
        }

        return length;
    }

    private void Insert(ref int length, long at, int code, int from)
    {
        long[] t = Times;
        int[] term = Terms;
        int[] source = Sources;
        int p = length;
        while (p > 0 && t[p - 1] > at)
        {
            t[p] = t[p - 1];
            term[p] = term[p - 1];
            source[p] = source[p - 1];
            p--;
        }

        t[p] = at;
        term[p] = code;
        source[p] = from;
        length++;
    }
}

/// <summary>One appended event: its instant, its type-and-subject code and the next of its lead's (position + 1, or 0), in one cache line's quarter.</summary>
internal struct AppendedEvent
{
    public AppendedEvent(long time, int term, int next)
    {
        Time = time;
        Term = term;
        Next = next;
    }

    public long Time;

    public int Term;

    public int Next;
}
