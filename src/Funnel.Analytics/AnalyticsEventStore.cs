using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics;

/// <summary>Funnel events encoded once into a columnar, in-memory layout grouped by lead, for fast analysis.</summary>
/// <remarks>
/// <para>
/// Each lead's events are stored contiguously and sorted by time (events at the same instant keep their load
/// order). Per event the store keeps: the instant as 64-bit ticks since the Unix epoch (8 bytes), a code for the
/// event type and subject (4 bytes), and one 4-byte code per dimension: channel, campaign, experiment variant and
/// each captured property (12 bytes with no captured properties). That is <b>24 bytes per event</b>, plus
/// <b>20 bytes per lead</b> (its 16-byte id and a 4-byte offset), plus 12 bytes per event that carries money
/// (order totals and refunds) and 20 bytes per ad-spend record. Strings (types, subjects, channels, campaigns,
/// variants, property values) are stored once in dictionaries; the source events are not retained.
/// </para>
/// <para>
/// Build a store with <see cref="Load(IEnumerable{FunnelEvent}, AnalyticsStoreOptions?)"/>,
/// <see cref="LoadAsync"/> or an <see cref="AnalyticsEventStoreBuilder"/>; save and reload it with
/// <see cref="WriteTo"/> and <see cref="ReadFrom"/>. All amounts must be in one currency.
/// </para>
/// <para>
/// A lead is a person, not an id: the events of a visitor id that an <see cref="Leads.IdentityLinked"/> event among
/// the loaded ones links to a lead are stored as that lead's (see <see cref="Leads.LeadAliases"/>), so a person who
/// browsed on two devices before opting in is one lead in every analysis. The links are resolved once, when the
/// store is built; a load without links pays nothing for them.
/// </para>
/// </remarks>
/// <threadsafety>A built store is immutable; any number of analyses may read it at the same time.</threadsafety>
public sealed class AnalyticsEventStore
{
    internal const int ChannelDimension = 0;
    internal const int CampaignDimension = 1;
    internal const int VariantDimension = 2;
    internal const int FirstPropertyDimension = 3;
    private const int FormatMagic = 0x414C4E46; // "FNLA"
    private const int FormatVersion = 1;

    internal AnalyticsEventStore(
        Currency currency,
        LeadId[] leads,
        int[] offsets,
        long[] times,
        int[] terms,
        string[] termTypes,
        string?[] termSubjects,
        int[][] dimensions,
        string?[][] dimensionValues,
        ImmutableArray<string> propertyKeys,
        int[] moneyEvents,
        long[] moneyAmounts,
        long[] spendTimes,
        int[] spendChannels,
        long[] spendAmounts)
    {
        Currency = currency;
        Leads = leads;
        Offsets = offsets;
        Times = times;
        Terms = terms;
        TermTypes = termTypes;
        TermSubjects = termSubjects;
        Dimensions = dimensions;
        DimensionValues = dimensionValues;
        PropertyKeys = propertyKeys;
        MoneyEvents = moneyEvents;
        MoneyAmounts = moneyAmounts;
        SpendTimes = spendTimes;
        SpendChannels = spendChannels;
        SpendAmounts = spendAmounts;
    }

    /// <summary>Gets the bytes the store keeps per event, not counting dictionaries, money and ad spend.</summary>
    /// <value>24 with no captured properties, plus 4 per captured property.</value>
    public int BytesPerEvent => sizeof(long) + sizeof(int) + (sizeof(int) * Dimensions.Length);

    /// <summary>Gets the number of lead events in the store.</summary>
    public int EventCount => Times.Length;

    /// <summary>Gets the number of distinct leads in the store.</summary>
    public int LeadCount => Leads.Length;

    /// <summary>Gets the currency of all amounts in the store.</summary>
    public Currency Currency { get; }

    /// <summary>Gets the property keys whose values were captured as dimensions, for breakdowns.</summary>
    public ImmutableArray<string> PropertyKeys { get; }

    /// <summary>Gets the total recorded ad spend.</summary>
    public Money TotalAdSpend => Money.FromMinorUnits(SpendAmounts.Sum(), Currency);

    internal LeadId[] Leads { get; }

    internal int[] Offsets { get; }

    internal long[] Times { get; }

    internal int[] Terms { get; }

    internal string[] TermTypes { get; }

    internal string?[] TermSubjects { get; }

    internal int[][] Dimensions { get; }

    internal string?[][] DimensionValues { get; }

    internal int[] MoneyEvents { get; }

    internal long[] MoneyAmounts { get; }

    internal long[] SpendTimes { get; }

    internal int[] SpendChannels { get; }

    internal long[] SpendAmounts { get; }

    /// <summary>Encodes events into a new store.</summary>
    /// <param name="events">The events, in any order; ad-spend records are kept apart, other non-lead events are skipped.</param>
    /// <param name="options">What to capture; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A lead event has the empty (default) lead id.</exception>
    /// <exception cref="InvalidOperationException">Amounts are in more than one currency.</exception>
    public static AnalyticsEventStore Load(IEnumerable<FunnelEvent> events, AnalyticsStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new AnalyticsEventStoreBuilder(options);
        foreach (FunnelEvent e in events)
        {
            builder.Add(e, nameof(events));
        }

        return builder.Build();
    }

    /// <summary>Encodes a stream of events into a new store.</summary>
    /// <param name="events">The events, in any order.</param>
    /// <param name="options">What to capture; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <param name="cancellationToken">Stops reading the stream.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A lead event has the empty (default) lead id.</exception>
    /// <exception cref="InvalidOperationException">Amounts are in more than one currency.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static async Task<AnalyticsEventStore> LoadAsync(IAsyncEnumerable<FunnelEvent> events, AnalyticsStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new AnalyticsEventStoreBuilder(options);
        await foreach (FunnelEvent e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            builder.Add(e, nameof(events));
        }

        return builder.Build();
    }

    /// <summary>Returns the id of a lead by its position in the store.</summary>
    /// <param name="index">The position, from 0 to <see cref="LeadCount"/> − 1.</param>
    /// <returns>The lead id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public LeadId LeadAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Leads.Length);
        return Leads[index];
    }

    /// <summary>Writes the store in its binary format (little-endian arrays, UTF-8 strings), so it can be reloaded without re-encoding.</summary>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(FormatMagic);
        w.Write(FormatVersion);
        w.Write(Currency.Code);
        WriteStrings(w, PropertyKeys);
        WriteArray(w, MemoryMarshal.Cast<LeadId, byte>(Leads.AsSpan()));
        WriteArray(w, Offsets.AsSpan());
        WriteArray(w, Times.AsSpan());
        WriteArray(w, Terms.AsSpan());
        WriteStrings(w, TermTypes);
        WriteStrings(w, TermSubjects);
        w.Write(Dimensions.Length);
        for (int d = 0; d < Dimensions.Length; d++)
        {
            WriteArray(w, Dimensions[d].AsSpan());
            WriteStrings(w, DimensionValues[d]);
        }

        WriteArray(w, MoneyEvents.AsSpan());
        WriteArray(w, MoneyAmounts.AsSpan());
        WriteArray(w, SpendTimes.AsSpan());
        WriteArray(w, SpendChannels.AsSpan());
        WriteArray(w, SpendAmounts.AsSpan());
    }

    /// <summary>Reads a store written by <see cref="WriteTo"/>.</summary>
    /// <param name="stream">A readable stream positioned at the start of the store; it is left open.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidDataException">The stream does not hold a store in a known format.</exception>
    public static AnalyticsEventStore ReadFrom(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadInt32() != FormatMagic)
            {
                throw new InvalidDataException("The stream does not hold a Funnel analytics store (bad magic number).");
            }

            int version = r.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"The store format version {version} is not supported; expected {FormatVersion}.");
            }

            Currency currency = Currency.FromCode(r.ReadString());
            ImmutableArray<string> keys = [.. ReadStrings(r).Select(s => s!)];
            LeadId[] leads = MemoryMarshal.Cast<byte, LeadId>(ReadArray<byte>(r)).ToArray();
            int[] offsets = ReadArray<int>(r);
            long[] times = ReadArray<long>(r);
            int[] terms = ReadArray<int>(r);
            string[] types = [.. ReadStrings(r).Select(s => s!)];
            string?[] subjects = ReadStrings(r);
            int dims = r.ReadInt32();
            var dimensions = new int[dims][];
            var values = new string?[dims][];
            for (int d = 0; d < dims; d++)
            {
                dimensions[d] = ReadArray<int>(r);
                values[d] = ReadStrings(r);
            }

            return new AnalyticsEventStore(currency, leads, offsets, times, terms, types, subjects, dimensions, values, keys,
                ReadArray<int>(r), ReadArray<long>(r), ReadArray<long>(r), ReadArray<int>(r), ReadArray<long>(r));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The store ends early; the stream is truncated.", e);
        }
    }

    /// <summary>Returns the dimension index of a captured property, or -1.</summary>
    internal int PropertyDimension(string key)
    {
        int i = PropertyKeys.IndexOf(key, StringComparer.Ordinal);
        return i < 0 ? -1 : FirstPropertyDimension + i;
    }

    /// <summary>Returns the term codes whose type is <paramref name="eventType"/>.</summary>
    internal bool[] TermsOfType(string eventType)
    {
        var result = new bool[TermTypes.Length];
        for (int i = 0; i < TermTypes.Length; i++)
        {
            result[i] = string.Equals(TermTypes[i], eventType, StringComparison.Ordinal);
        }

        return result;
    }

    /// <summary>Returns, per term code, whether the term matches an event match.</summary>
    internal bool[] TermsMatching(Funnel.Definitions.EventMatch match)
    {
        var result = new bool[TermTypes.Length];
        for (int i = 0; i < TermTypes.Length; i++)
        {
            result[i] = TermMatches(match, TermTypes[i], TermSubjects[i]);
        }

        return result;
    }

    internal static bool TermMatches(Funnel.Definitions.EventMatch match, string type, string? subject)
    {
        if (!string.Equals(match.EventType, type, StringComparison.Ordinal))
        {
            return false;
        }

        if (match.Subject is null)
        {
            return true;
        }

        if (subject is null)
        {
            return false;
        }

        return match.Subject.EndsWith('*')
            ? subject.AsSpan().StartsWith(match.Subject.AsSpan(0, match.Subject.Length - 1), StringComparison.Ordinal)
            : string.Equals(subject, match.Subject, StringComparison.Ordinal);
    }

    private static void WriteArray<T>(BinaryWriter w, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values));
    }

    private static T[] ReadArray<T>(BinaryReader r)
        where T : unmanaged
    {
        int length = r.ReadInt32();
        if (length < 0)
        {
            throw new InvalidDataException("The store holds a negative array length.");
        }

        var result = new T[length];
        Span<byte> bytes = MemoryMarshal.AsBytes(result.AsSpan());
        if (r.Read(bytes) != bytes.Length)
        {
            throw new EndOfStreamException();
        }

        return result;
    }

    private static void WriteStrings(BinaryWriter w, IReadOnlyCollection<string?> values)
    {
        w.Write(values.Count);
        foreach (string? s in values)
        {
            w.Write(s is not null);
            if (s is not null)
            {
                w.Write(s);
            }
        }
    }

    private static string?[] ReadStrings(BinaryReader r)
    {
        int count = r.ReadInt32();
        var result = new string?[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = r.ReadBoolean() ? r.ReadString() : null;
        }

        return result;
    }
}

/// <summary>One worker's open-addressing table for numbering the leads of a partition; reused across partitions.</summary>
internal sealed class LeadTable
{
    private readonly Guid[] keys;
    private readonly int[] values;
    private readonly List<int> touched = [];
    private readonly List<Guid> found = [];
    private readonly List<int> counts = [];

    public LeadTable(int size)
    {
        keys = new Guid[size];
        values = new int[size];
    }

    /// <summary>Numbers the leads of one partition in order of first appearance, and counts each one's events.</summary>
    public void Number(Guid[] ids, int begin, int end, int[] localLead, out Guid[] partitionLeads, out int[] eventCounts)
    {
        int mask = keys.Length - 1;
        for (int pos = begin; pos < end; pos++)
        {
            Guid id = ids[pos];
            int slot = (int)(AnalyticsEventStoreBuilder.Mix(id) & (uint)mask);
            while (values[slot] != 0 && keys[slot] != id)
            {
                slot = (slot + 1) & mask;
            }

            if (values[slot] == 0)
            {
                keys[slot] = id;
                found.Add(id);
                counts.Add(0);
                touched.Add(slot);
                values[slot] = found.Count;
            }

            int local = values[slot] - 1;
            localLead[pos] = local;
            counts[local]++;
        }

        partitionLeads = [.. found];
        eventCounts = [.. counts];
        foreach (int slot in touched)
        {
            values[slot] = 0;
        }

        touched.Clear();
        found.Clear();
        counts.Clear();
    }
}

/// <summary>What an <see cref="AnalyticsEventStore"/> captures besides times, types, subjects, channels and campaigns.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AnalyticsStoreOptions
{
    /// <summary>Gets the default options: no properties captured, duplicate event ids skipped.</summary>
    public static AnalyticsStoreOptions Default { get; } = new();

    /// <summary>Gets the <see cref="FunnelEvent.Properties"/> keys to capture as dimensions, for breakdowns by any property.</summary>
    /// <value>Defaults to empty; each key costs 4 bytes per event.</value>
    public ImmutableArray<string> PropertyKeys { get; init; } = [];

    /// <summary>Gets whether an event whose <see cref="FunnelEvent.Id"/> was already loaded is skipped.</summary>
    /// <value>Defaults to <see langword="true"/>, so a replayed event counts once.</value>
    public bool SkipDuplicateIds { get; init; } = true;
}

/// <summary>Builds an <see cref="AnalyticsEventStore"/> from events added one at a time.</summary>
/// <remarks>
/// Add events in any order, as <see cref="FunnelEvent"/>s or as raw columns with
/// <see cref="Add(LeadId, Instant, string, string?, string?, string?)"/> (the fast path for bulk imports), then
/// call <see cref="Build"/> once. Building resolves linked visitor ids to their leads (from the
/// <see cref="Leads.IdentityLinked"/> events added, in any order), groups the events by lead with a counting sort and
/// sorts each lead's events by time (stable, so same-instant events keep their load order).
/// </remarks>
/// <threadsafety>Instances are not thread-safe; use one builder from one thread.</threadsafety>
public sealed class AnalyticsEventStoreBuilder
{
    private readonly AnalyticsStoreOptions options;
    private readonly (string? Type, string? Subject, int Term)[] termCache = new (string?, string?, int)[16];
    private readonly Dictionary<(string Type, string? Subject), int> termIndex = [];
    private readonly List<string> termTypes = [];
    private readonly List<string?> termSubjects = [];
    private readonly Dictionary<string, int>[] dimensionIndex;
    private readonly List<string?>[] dimensionValues;
    private readonly HashSet<EventId> seen = [];
    private readonly List<(int Event, long Amount)> money = [];
    private readonly List<(long Time, int Channel, long Amount)> spend = [];
    private readonly List<Leads.IdentityLinked> links = [];
    private Guid[] eventLeadIds;
    private long[] times;
    private int[] terms;
    private int[]?[] dimensions;
    private int count;
    private Currency? currency;
    private bool built;

    /// <summary>Creates an empty builder.</summary>
    /// <param name="options">What to capture; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <param name="capacity">The number of lead events expected, to allocate the columns once; 0 to grow as needed.</param>
    /// <exception cref="ArgumentException">A property key is blank or listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    public AnalyticsEventStoreBuilder(AnalyticsStoreOptions? options = null, int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        int size = Math.Max(capacity, 1024);
        eventLeadIds = new Guid[size];
        times = new long[size];
        terms = new int[size];
        this.options = options ?? AnalyticsStoreOptions.Default;
        ImmutableArray<string> keys = this.options.PropertyKeys.IsDefault ? [] : this.options.PropertyKeys;
        for (int i = 0; i < keys.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(keys[i]))
            {
                throw new ArgumentException($"PropertyKeys[{i}] must not be blank.", nameof(options));
            }

            if (keys.IndexOf(keys[i], StringComparer.Ordinal) != i)
            {
                throw new ArgumentException($"PropertyKeys[{i}] '{keys[i]}' is listed twice.", nameof(options));
            }
        }

        this.options = this.options with { PropertyKeys = keys };
        int dims = AnalyticsEventStore.FirstPropertyDimension + keys.Length;
        dimensionIndex = new Dictionary<string, int>[dims];
        dimensionValues = new List<string?>[dims];
        dimensions = new int[]?[dims];
        for (int d = 0; d < dims; d++)
        {
            dimensionIndex[d] = new Dictionary<string, int>(StringComparer.Ordinal);
            dimensionValues[d] = [null];
        }
    }

    /// <summary>Gets the number of lead events added so far.</summary>
    public int Count => count;

    /// <summary>Gets the ids of the events added (when replays are skipped), for an incremental store to keep.</summary>
    internal HashSet<EventId> SeenIds => seen;

    /// <summary>Gets the identity links added, for an incremental store to keep.</summary>
    internal List<Leads.IdentityLinked> Links => links;

    /// <summary>Adds an event.</summary>
    /// <param name="funnelEvent">
    /// The event; an <see cref="AdSpendRecorded"/> is kept as spend, other events that are not <see cref="LeadEvent"/>s
    /// are skipped. An <see cref="Leads.IdentityLinked"/> is stored as its lead's event and makes the visitor's events,
    /// added before or after it, the lead's.
    /// </param>
    /// <returns><see langword="true"/> when the event was stored; <see langword="false"/> when it was skipped.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="funnelEvent"/> is a <see cref="LeadEvent"/> with the empty (default) <see cref="LeadId"/>.</exception>
    /// <exception cref="InvalidOperationException">The amount is in another currency than earlier amounts, or <see cref="Build"/> was called.</exception>
    public bool Add(FunnelEvent funnelEvent) => Add(funnelEvent, nameof(funnelEvent));

    /// <summary>Adds an event, naming <paramref name="paramName"/> as the argument at fault.</summary>
    internal bool Add(FunnelEvent funnelEvent, string paramName)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent, paramName);
        ThrowIfBuilt();
        if (funnelEvent is LeadEvent { LeadId.Value: var id } && id == Guid.Empty)
        {
            throw new ArgumentException($"The {funnelEvent.EventType} event {funnelEvent.Id} has the empty (default) lead id; every lead event needs a lead.", paramName);
        }

        if (options.SkipDuplicateIds && !seen.Add(funnelEvent.Id))
        {
            return false;
        }

        if (funnelEvent is AdSpendRecorded adSpend)
        {
            CheckCurrency(adSpend.Amount.Currency);
            spend.Add((adSpend.OccurredAt.ToUnixTimeTicks(), Code(AnalyticsEventStore.ChannelDimension, adSpend.Attribution.Channel), adSpend.Amount.MinorUnits));
            return true;
        }

        if (funnelEvent is not LeadEvent leadEvent)
        {
            return false;
        }

        if (leadEvent is Leads.IdentityLinked link)
        {
            links.Add(link);
        }

        int index = Add(leadEvent.LeadId, leadEvent.OccurredAt, leadEvent.EventType, leadEvent.Subject, leadEvent.Attribution.Channel, leadEvent.Attribution.Campaign);
        if (leadEvent is ExperimentExposed exposed)
        {
            SetCode(AnalyticsEventStore.VariantDimension, index, exposed.Variant);
        }

        for (int k = 0; k < options.PropertyKeys.Length; k++)
        {
            if (leadEvent.Properties.TryGetValue(options.PropertyKeys[k], out string? value))
            {
                SetCode(AnalyticsEventStore.FirstPropertyDimension + k, index, value);
            }
        }

        switch (leadEvent)
        {
            case OrderPlaced order:
                CheckCurrency(order.Total.Currency);
                money.Add((index, order.Total.MinorUnits));
                break;
            case RefundIssued refund:
                CheckCurrency(refund.Amount.Currency);
                money.Add((index, refund.Amount.MinorUnits));
                break;
        }

        return true;
    }

    /// <summary>Adds a lead event given as raw columns, without creating an event object.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="occurredAt">When it happened.</param>
    /// <param name="eventType">The event type, such as <c>opted_in</c>.</param>
    /// <param name="subject">The subject, or <see langword="null"/>.</param>
    /// <param name="channel">The attribution channel, or <see langword="null"/>.</param>
    /// <param name="campaign">The attribution campaign, or <see langword="null"/>.</param>
    /// <returns>The position of the event in load order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lead"/> is the empty (default) id.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public int Add(LeadId lead, Instant occurredAt, string eventType, string? subject = null, string? channel = null, string? campaign = null)
    {
        CheckRaw(lead, eventType);
        if (count == times.Length)
        {
            Grow();
        }

        int term = Term(eventType, subject);
        int i = count++;
        eventLeadIds[i] = lead.Value;
        times[i] = occurredAt.ToUnixTimeTicks();
        terms[i] = term;

        // A dimension's column is allocated when its first value arrives and starts zeroed (code 0 is "none"), so
        // only values need writing and a load without channels or campaigns never touches those columns.
        if (channel is not null)
        {
            SetCode(AnalyticsEventStore.ChannelDimension, i, channel);
        }

        if (campaign is not null)
        {
            SetCode(AnalyticsEventStore.CampaignDimension, i, campaign);
        }

        return i;
    }

    /// <summary>Adds a lead event that carries an amount, given as raw columns: an order's total or a refund's amount.</summary>
    /// <remarks>
    /// The amount is the event's money, as <see cref="Add(FunnelEvent)"/> keeps an <see cref="OrderPlaced"/>'s total
    /// or a <see cref="RefundIssued"/>'s amount: a funnel's money counts it as revenue, or, for a <c>refund_issued</c>
    /// event, takes it off the revenue.
    /// </remarks>
    /// <param name="lead">The lead.</param>
    /// <param name="occurredAt">When it happened.</param>
    /// <param name="eventType">The event type, such as <c>order_placed</c>.</param>
    /// <param name="amount">The amount; every amount in a store is in one currency.</param>
    /// <param name="subject">The subject, or <see langword="null"/>.</param>
    /// <param name="channel">The attribution channel, or <see langword="null"/>.</param>
    /// <param name="campaign">The attribution campaign, or <see langword="null"/>.</param>
    /// <returns>The position of the event in load order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lead"/> is the empty (default) id.</exception>
    /// <exception cref="InvalidOperationException">The amount is in another currency than earlier amounts, or <see cref="Build"/> was called.</exception>
    public int AddWithAmount(LeadId lead, Instant occurredAt, string eventType, Money amount, string? subject = null, string? channel = null, string? campaign = null)
    {
        // Checked before the currency, so a refused event leaves neither an event nor a currency behind.
        CheckRaw(lead, eventType);
        CheckCurrency(amount.Currency);
        int index = Add(lead, occurredAt, eventType, subject, channel, campaign);
        money.Add((index, amount.MinorUnits));
        return index;
    }

    /// <summary>Adds a lead event that carries an experiment variant, given as raw columns: an exposure to an experiment.</summary>
    /// <remarks>
    /// The variant is kept as <see cref="Add(FunnelEvent)"/> keeps an <see cref="ExperimentExposed"/>'s, for a funnel's
    /// breakdown by variant; the subject of an exposure is its experiment.
    /// </remarks>
    /// <param name="lead">The lead.</param>
    /// <param name="occurredAt">When it happened.</param>
    /// <param name="eventType">The event type, such as <c>experiment_exposed</c>.</param>
    /// <param name="variant">The variant the lead saw.</param>
    /// <param name="subject">The subject (for an exposure, the experiment), or <see langword="null"/>.</param>
    /// <param name="channel">The attribution channel, or <see langword="null"/>.</param>
    /// <param name="campaign">The attribution campaign, or <see langword="null"/>.</param>
    /// <returns>The position of the event in load order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> or <paramref name="variant"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lead"/> is the empty (default) id.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was called.</exception>
    public int AddWithVariant(LeadId lead, Instant occurredAt, string eventType, string variant, string? subject = null, string? channel = null, string? campaign = null)
    {
        ArgumentNullException.ThrowIfNull(variant);
        int index = Add(lead, occurredAt, eventType, subject, channel, campaign);
        SetCode(AnalyticsEventStore.VariantDimension, index, variant);
        return index;
    }

    /// <summary>Adds ad spend given as raw columns, as <see cref="Add(FunnelEvent)"/> keeps an <see cref="AdSpendRecorded"/>.</summary>
    /// <param name="occurredAt">When the spend was recorded.</param>
    /// <param name="amount">The amount spent; every amount in a store is in one currency.</param>
    /// <param name="channel">The channel the money was spent on, or <see langword="null"/>.</param>
    /// <exception cref="InvalidOperationException">The amount is in another currency than earlier amounts, or <see cref="Build"/> was called.</exception>
    public void AddSpend(Instant occurredAt, Money amount, string? channel = null)
    {
        ThrowIfBuilt();
        CheckCurrency(amount.Currency);
        spend.Add((occurredAt.ToUnixTimeTicks(), Code(AnalyticsEventStore.ChannelDimension, channel), amount.MinorUnits));
    }

    /// <summary>Groups and sorts the events and returns the store; the builder cannot be used afterwards.</summary>
    /// <returns>The store.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Build"/> was already called.</exception>
    public AnalyticsEventStore Build()
    {
        ThrowIfBuilt();
        built = true;
        ResolveLinkedVisitors();

        // 1. Partition the events by a hash of their lead id (stable: load order is kept inside a partition), so
        //    that every lead lies in one partition and each partition's lookup table stays in cache.
        int bits = count <= 16_384 ? 0 : Math.Min(12, System.Numerics.BitOperations.Log2((uint)(count / 8_192)) + 1);
        int parts = 1 << bits;
        //    Each core takes one contiguous chunk of the events: it hashes them once (remembering each partition in
        //    a pooled scratch array), counts them per partition, then scatters them from its own cursors, which
        //    start after the earlier chunks' events of the same partition, so the order stays stable.
        int chunks = count < 1_000_000 ? 1 : Math.Min(Environment.ProcessorCount, 64);
        int chunkSize = (count + chunks - 1) / Math.Max(1, chunks);
        var histogram = new int[chunks][];
        ushort[] part = System.Buffers.ArrayPool<ushort>.Shared.Rent(count);
        Guid[] eventIds = eventLeadIds;
        Parallel.For(0, chunks, c =>
        {
            var counts = new int[parts];
            int end = Math.Min(count, (c + 1) * chunkSize);
            for (int i = c * chunkSize; i < end; i++)
            {
                int p = Partition(eventIds[i], bits);
                part[i] = (ushort)p;
                counts[p]++;
            }

            histogram[c] = counts;
        });

        var partStart = new int[parts + 1];
        var cursors = new int[chunks][];
        for (int c = 0; c < chunks; c++)
        {
            cursors[c] = new int[parts];
        }

        for (int p = 0; p < parts; p++)
        {
            int at = partStart[p];
            for (int c = 0; c < chunks; c++)
            {
                cursors[c][p] = at;
                at += histogram[c][p];
            }

            partStart[p + 1] = at;
        }

        // Times and terms move with the ids, so step 4 reads them in partition order rather than jumping through
        // the whole load order.
        var ids = new Guid[count];
        // Where each event came from is needed only for dimension values and for amounts to follow their events.
        int[]? source = money.Count > 0 || Array.Exists(dimensions, c => c is not null) ? new int[count] : null;
        var partTimes = new long[count];
        var partTerms = new int[count];
        long[] loadTimes = times;
        int[] loadTerms = terms;
        Parallel.For(0, chunks, c =>
        {
            int[] cursor = cursors[c];
            int end = Math.Min(count, (c + 1) * chunkSize);
            for (int i = c * chunkSize; i < end; i++)
            {
                int pos = cursor[part[i]]++;
                ids[pos] = eventIds[i];
                if (source is not null)
                {
                    source[pos] = i;
                }

                partTimes[pos] = loadTimes[i];
                partTerms[pos] = loadTerms[i];
            }
        });
        System.Buffers.ArrayPool<ushort>.Shared.Return(part);

        // 2. Per partition, in parallel: number its leads in order of first appearance and count their events.
        var localLead = new int[count];
        var partLeads = new Guid[parts][];
        var partCounts = new int[parts][];
        int largest = 0;
        for (int p = 0; p < parts; p++)
        {
            largest = Math.Max(largest, partStart[p + 1] - partStart[p]);
        }

        int tableSize = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, largest * 2));
        Parallel.For(
            0,
            parts,
            () => new LeadTable(tableSize),
            (p, _, table) =>
            {
                table.Number(ids, partStart[p], partStart[p + 1], localLead, out partLeads[p], out partCounts[p]);
                return table;
            },
            _ => { });

        // 3. Leads are numbered partition by partition; a partition's events fill one contiguous range.
        var leadBase = new int[parts + 1];
        for (int p = 0; p < parts; p++)
        {
            leadBase[p + 1] = leadBase[p] + partLeads[p].Length;
        }

        int leadCount = leadBase[parts];
        var offsets = new int[leadCount + 1];
        for (int p = 0; p < parts; p++)
        {
            int[] counts = partCounts[p];
            for (int l = 0; l < counts.Length; l++)
            {
                offsets[leadBase[p] + l + 1] = counts[l];
            }
        }

        for (int l = 0; l < leadCount; l++)
        {
            offsets[l + 1] += offsets[l];
        }

        // 4. Per partition, in parallel: a stable counting sort by lead places every column, then each lead's
        //    events are sorted by time (events logged in time order already are). Where each event came from is
        //    tracked only when amounts need to follow their events.
        // Once partitioned, the builder's own time and term columns are no longer read (the builder is spent), so
        // when they are exactly the right length they receive the sorted values instead of new arrays.
        long[] sortedTimes = times.Length == count ? times : new long[count];
        int[] sortedTerms = terms.Length == count ? terms : new int[count];
        // Dimensions that no event set are all "none"; they share one zeroed column, which the immutable store never writes.
        var sortedDims = new int[dimensions.Length][];
        int[]? none = null;
        for (int d = 0; d < dimensions.Length; d++)
        {
            sortedDims[d] = dimensions[d] is not null ? new int[count] : (none ??= new int[count]);
        }

        int[] used = [.. Enumerable.Range(0, dimensions.Length).Where(d => dimensions[d] is not null)];
        int[][] columns = [.. dimensions.Select(c => c ?? [])];
        int[][] moved = [.. used.Select(d => sortedDims[d])];
        int[]? origin = money.Count > 0 ? new int[count] : null;
        var next = new int[leadCount];
        Array.Copy(offsets, next, leadCount);
        Parallel.For(0, parts, p =>
        {
            for (int pos = partStart[p]; pos < partStart[p + 1]; pos++)
            {
                int i = source is null ? 0 : source[pos];
                int at = next[leadBase[p] + localLead[pos]]++;
                sortedTimes[at] = partTimes[pos];
                sortedTerms[at] = partTerms[pos];
                foreach (int d in used)
                {
                    sortedDims[d][at] = columns[d][i];
                }

                if (origin is not null)
                {
                    origin[at] = i;
                }
            }

            for (int l = leadBase[p]; l < leadBase[p + 1]; l++)
            {
                SortLead(offsets[l], offsets[l + 1], sortedTimes, sortedTerms, moved, origin);
            }
        });

        var leadIds = new LeadId[leadCount];
        for (int p = 0; p < parts; p++)
        {
            MemoryMarshal.Cast<Guid, LeadId>(partLeads[p].AsSpan()).CopyTo(leadIds.AsSpan(leadBase[p]));
        }

        var position = new int[origin is null ? 0 : count];
        if (origin is not null)
        {
            for (int p = 0; p < count; p++)
            {
                position[origin[p]] = p;
            }
        }

        (int Event, long Amount)[] moneyRows = [.. money.Select(m => (position[m.Event], m.Amount)).OrderBy(m => m.Item1)];
        (long Time, int Channel, long Amount)[] spendRows = [.. spend.OrderBy(s => s.Time)];
        Currency storeCurrency = currency ?? Currency.USD;
        return new AnalyticsEventStore(
            storeCurrency,
            leadIds,
            offsets,
            sortedTimes,
            sortedTerms,
            [.. termTypes],
            [.. termSubjects],
            sortedDims,
            [.. dimensionValues.Select(v => v.ToArray())],
            options.PropertyKeys,
            [.. moneyRows.Select(m => m.Event)],
            [.. moneyRows.Select(m => m.Amount)],
            [.. spendRows.Select(s => s.Time)],
            [.. spendRows.Select(s => s.Channel)],
            [.. spendRows.Select(s => s.Amount)]);
    }

    /// <summary>Gives the events of linked visitor ids their lead's id; one lookup per event, and only when a link merges ids.</summary>
    private void ResolveLinkedVisitors()
    {
        if (links.Count == 0)
        {
            return;
        }

        Leads.LeadAliases aliases = Leads.LeadAliases.From(links);
        if (aliases.Count == 0)
        {
            return;
        }

        Span<LeadId> leads = MemoryMarshal.Cast<Guid, LeadId>(eventLeadIds.AsSpan(0, count));
        for (int i = 0; i < leads.Length; i++)
        {
            leads[i] = aliases.Resolve(leads[i]);
        }
    }

    /// <summary>Returns the code of a type and subject; a small cache by reference skips hashing the strings, which callers usually reuse.</summary>
    private int Term(string eventType, string? subject)
    {
        int slot = (System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(eventType) ^ (subject is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(subject))) & (termCache.Length - 1);
        ref (string? Type, string? Subject, int Term) cached = ref termCache[slot];
        if (ReferenceEquals(cached.Type, eventType) && ReferenceEquals(cached.Subject, subject))
        {
            return cached.Term;
        }

        ref int term = ref CollectionsMarshal.GetValueRefOrAddDefault(termIndex, (eventType, subject), out bool exists);
        if (!exists)
        {
            term = termTypes.Count;
            termTypes.Add(eventType);
            termSubjects.Add(subject);
        }

        cached = (eventType, subject, term);
        return term;
    }

    /// <summary>Stores the code of a dimension value for one event, allocating the dimension's column on its first value.</summary>
    private void SetCode(int dimension, int index, string? value)
    {
        int code = Code(dimension, value);
        if (code != 0)
        {
            (dimensions[dimension] ??= new int[times.Length])[index] = code;
        }
    }

    private int Code(int dimension, string? value)
    {
        if (value is null)
        {
            return 0;
        }

        ref int code = ref CollectionsMarshal.GetValueRefOrAddDefault(dimensionIndex[dimension], value, out bool exists);
        if (!exists)
        {
            code = dimensionValues[dimension].Count;
            dimensionValues[dimension].Add(value);
        }

        return code;
    }

    internal static uint Mix(Guid id)
    {
        ReadOnlySpan<ulong> halves = MemoryMarshal.Cast<Guid, ulong>(new ReadOnlySpan<Guid>(in id));
        unchecked
        {
            ulong h = (halves[0] ^ (halves[1] * 0x9E3779B97F4A7C15UL)) * 0xBF58476D1CE4E5B9UL;
            return (uint)(h >> 32) ^ (uint)h;
        }
    }

    private static int Partition(Guid id, int bits) => bits == 0 ? 0 : (int)(Mix(id) >> (32 - bits));

    private static void SortLead(int b, int e, long[] times, int[] terms, int[][] dims, int[]? origin)
    {
        Span<int> values = stackalloc int[dims.Length];
        for (int p = b + 1; p < e; p++)
        {
            long t = times[p];
            if (t >= times[p - 1])
            {
                continue;
            }

            int term = terms[p];
            int from = origin is null ? 0 : origin[p];
            for (int d = 0; d < dims.Length; d++)
            {
                values[d] = dims[d][p];
            }

            int q = p - 1;
            while (q >= b && times[q] > t)
            {
                times[q + 1] = times[q];
                terms[q + 1] = terms[q];
                if (origin is not null)
                {
                    origin[q + 1] = origin[q];
                }

                for (int d = 0; d < dims.Length; d++)
                {
                    dims[d][q + 1] = dims[d][q];
                }

                q--;
            }

            times[q + 1] = t;
            terms[q + 1] = term;
            if (origin is not null)
            {
                origin[q + 1] = from;
            }

            for (int d = 0; d < dims.Length; d++)
            {
                dims[d][q + 1] = values[d];
            }
        }
    }

    private void Grow()
    {
        int size = checked(times.Length * 2);
        Array.Resize(ref eventLeadIds, size);
        Array.Resize(ref times, size);
        Array.Resize(ref terms, size);
        for (int d = 0; d < dimensions.Length; d++)
        {
            if (dimensions[d] is not null)
            {
                Array.Resize(ref dimensions[d], size);
            }
        }
    }

    /// <summary>Checks the arguments of a lead event given as raw columns (named as the public methods name them), and that the builder is still open.</summary>
    private void CheckRaw(LeadId lead, string eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        if (lead.Value == Guid.Empty)
        {
            throw new ArgumentException("The lead id is empty (default); every lead event needs a lead.", nameof(lead));
        }

        ThrowIfBuilt();
    }

    private void CheckCurrency(Currency value)
    {
        if (currency is null)
        {
            currency = value;
        }
        else if (currency.Value != value)
        {
            throw new InvalidOperationException($"All amounts in a store must be in one currency: found {value} after {currency.Value}.");
        }
    }

    private void ThrowIfBuilt()
    {
        if (built)
        {
            throw new InvalidOperationException("The store was already built; create a new builder.");
        }
    }
}
