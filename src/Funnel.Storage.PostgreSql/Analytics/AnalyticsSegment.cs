using System.Buffers.Binary;
using System.Text;

namespace Funnel.Storage.PostgreSql.Analytics;

/// <summary>The lead events of one type in a run of log positions, column by column: the <c>data</c> of an <c>analytics_segments</c> row.</summary>
/// <remarks>
/// <para>
/// Format (little-endian): a version byte (1); the event count <c>n</c>; <c>n</c> lead ids of 16 bytes
/// (<see cref="Guid.TryWriteBytes(Span{byte})"/>); <c>n</c> times as Unix ticks (<see cref="long"/>); then the subject,
/// channel and campaign columns, each a dictionary (its size <c>d</c>, then <c>d</c> strings as a byte length and UTF-8
/// bytes) followed, when <c>d</c> &gt; 0, by a code width (1, 2 or 4 bytes) and <c>n</c> codes, 0 meaning none and
/// <c>i</c> the dictionary's <c>i</c>-th string; then the experiment variant column and the currency column in the same
/// form and, when the currency dictionary is not empty, <c>n</c> amounts in minor units (<see cref="long"/>, 0 where
/// there is no currency); last, a byte saying whether visitor ids follow and, when it is 1, <c>n</c> visitor ids of 16
/// bytes (an identity link's visitor; <see cref="Guid.Empty"/> for other events). Counts and lengths are 32-bit.
/// </para>
/// <para>
/// Amounts are an order's total, a refund's amount and ad spend. Ad spend has no lead: its lead id is
/// <see cref="Guid.Empty"/>.
/// </para>
/// <para>
/// A time is the event's own (from its payload, to the tick) when the writer could read the payload, otherwise the
/// log's column (to the microsecond); both truncate to the column's microsecond.
/// </para>
/// </remarks>
internal sealed class AnalyticsSegment
{
    private const byte FormatVersion = 1;

    public AnalyticsSegment(int capacity)
    {
        Leads = new List<Guid>(capacity);
        Ticks = new List<long>(capacity);
        Subjects = new List<string?>(capacity);
        Channels = new List<string?>(capacity);
        Campaigns = new List<string?>(capacity);
        Variants = new List<string?>(capacity);
        Currencies = new List<string?>(capacity);
        Amounts = new List<long>(capacity);
        Visitors = new List<Guid>(capacity);
    }

    public List<Guid> Leads { get; }

    public List<long> Ticks { get; }

    public List<string?> Subjects { get; }

    public List<string?> Channels { get; }

    public List<string?> Campaigns { get; }

    /// <summary>Gets each event's experiment variant (an exposure's), or <see langword="null"/>.</summary>
    public List<string?> Variants { get; }

    /// <summary>Gets each event's currency code, <see langword="null"/> for an event without an amount.</summary>
    public List<string?> Currencies { get; }

    /// <summary>Gets each event's amount in minor units (0 without one).</summary>
    public List<long> Amounts { get; }

    /// <summary>Gets each event's linked visitor id (an identity link's), or <see cref="Guid.Empty"/>.</summary>
    public List<Guid> Visitors { get; }

    public int Count => Leads.Count;

    /// <summary>Adds an event.</summary>
    public void Add(Guid lead, long ticks, string? subject, string? channel, string? campaign, Money? amount = null, string? variant = null, Guid visitor = default)
    {
        Visitors.Add(visitor);
        Leads.Add(lead);
        Ticks.Add(ticks);
        Subjects.Add(subject);
        Channels.Add(channel);
        Campaigns.Add(campaign);
        Variants.Add(variant);
        Currencies.Add(amount?.Currency.Code);
        Amounts.Add(amount?.MinorUnits ?? 0);
    }

    /// <summary>Returns the amount of the event at <paramref name="index"/>, or <see langword="null"/>.</summary>
    /// <exception cref="FormatException">The currency code is not one Funnel knows.</exception>
    public Money? AmountAt(int index) => Currencies[index] is not { } code ? null
        : Currency.TryFromCode(code, out Currency currency) ? Money.FromMinorUnits(Amounts[index], currency)
        : throw new FormatException($"The analytics segment has the unknown currency '{code}'.");

    /// <summary>Appends the event at <paramref name="index"/> of <paramref name="source"/>.</summary>
    public void AddFrom(AnalyticsSegment source, int index)
    {
        Leads.Add(source.Leads[index]);
        Ticks.Add(source.Ticks[index]);
        Subjects.Add(source.Subjects[index]);
        Channels.Add(source.Channels[index]);
        Campaigns.Add(source.Campaigns[index]);
        Variants.Add(source.Variants[index]);
        Currencies.Add(source.Currencies[index]);
        Amounts.Add(source.Amounts[index]);
        Visitors.Add(source.Visitors[index]);
    }

    /// <summary>Appends every event of <paramref name="source"/>.</summary>
    public void AddAll(AnalyticsSegment source)
    {
        for (int i = 0; i < source.Count; i++)
        {
            AddFrom(source, i);
        }
    }

    /// <summary>Returns the earliest and latest time, in Unix ticks; the segment must not be empty.</summary>
    public (long Min, long Max) Range()
    {
        long min = long.MaxValue, max = long.MinValue;
        foreach (long t in Ticks)
        {
            min = Math.Min(min, t);
            max = Math.Max(max, t);
        }

        return (min, max);
    }

    /// <summary>Truncates Unix ticks to the microsecond, as PostgreSQL stores a time (towards the past).</summary>
    public static long ToMicrosecond(long ticks) => ticks - (((ticks % 10) + 10) % 10);

    /// <summary>Encodes the segment.</summary>
    public byte[] Encode()
    {
        int n = Count;
        var buffer = new List<byte[]>();
        byte[] head = new byte[1 + 4 + (n * 24)];
        head[0] = FormatVersion;
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(1), n);
        Span<byte> leads = head.AsSpan(5, n * 16);
        Span<byte> times = head.AsSpan(5 + (n * 16));
        for (int i = 0; i < n; i++)
        {
            Leads[i].TryWriteBytes(leads.Slice(i * 16, 16));
            BinaryPrimitives.WriteInt64LittleEndian(times.Slice(i * 8, 8), Ticks[i]);
        }

        buffer.Add(head);
        buffer.Add(EncodeColumn(Subjects));
        buffer.Add(EncodeColumn(Channels));
        buffer.Add(EncodeColumn(Campaigns));
        buffer.Add(EncodeColumn(Variants));
        buffer.Add(EncodeColumn(Currencies));
        if (Currencies.Exists(c => c is not null))
        {
            byte[] amounts = new byte[n * 8];
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(amounts.AsSpan(i * 8, 8), Amounts[i]);
            }

            buffer.Add(amounts);
        }

        bool visitors = Visitors.Exists(v => v != Guid.Empty);
        byte[] linked = new byte[1 + (visitors ? n * 16 : 0)];
        linked[0] = visitors ? (byte)1 : (byte)0;
        for (int i = 0; visitors && i < n; i++)
        {
            Visitors[i].TryWriteBytes(linked.AsSpan(1 + (i * 16), 16));
        }

        buffer.Add(linked);
        byte[] data = new byte[buffer.Sum(b => b.Length)];
        int at = 0;
        foreach (byte[] part in buffer)
        {
            part.CopyTo(data, at);
            at += part.Length;
        }

        return data;
    }

    /// <summary>Decodes a segment; strings equal to one seen before come back as the same instance, through <paramref name="strings"/>.</summary>
    /// <exception cref="FormatException">The data is not a segment of a version this library reads.</exception>
    public static AnalyticsSegment Decode(ReadOnlySpan<byte> data, Dictionary<string, string> strings)
    {
        var reader = new Reader(data);
        byte version = reader.Byte();
        if (version != FormatVersion)
        {
            throw new FormatException($"The analytics segment has format version {version}; this version of Funnel reads version {FormatVersion}. Write the segments again (see WriteAnalyticsSegmentsAsync).");
        }

        int n = reader.Count();
        var segment = new AnalyticsSegment(n);
        ReadOnlySpan<byte> leads = reader.Take(checked(n * 16));
        ReadOnlySpan<byte> times = reader.Take(checked(n * 8));
        for (int i = 0; i < n; i++)
        {
            segment.Leads.Add(new Guid(leads.Slice(i * 16, 16)));
            segment.Ticks.Add(BinaryPrimitives.ReadInt64LittleEndian(times.Slice(i * 8, 8)));
        }

        DecodeColumn(ref reader, n, segment.Subjects, strings);
        DecodeColumn(ref reader, n, segment.Channels, strings);
        DecodeColumn(ref reader, n, segment.Campaigns, strings);
        DecodeColumn(ref reader, n, segment.Variants, strings);
        DecodeColumn(ref reader, n, segment.Currencies, strings);
        if (segment.Currencies.Exists(c => c is not null))
        {
            ReadOnlySpan<byte> amounts = reader.Take(checked(n * 8));
            for (int i = 0; i < n; i++)
            {
                segment.Amounts.Add(BinaryPrimitives.ReadInt64LittleEndian(amounts.Slice(i * 8, 8)));
            }
        }
        else
        {
            segment.Amounts.AddRange(new long[n]);
        }

        byte visitors = reader.Byte();
        if (visitors is not (0 or 1))
        {
            throw new FormatException($"The analytics segment has a visitor flag of {visitors}; 0 or 1 expected.");
        }

        ReadOnlySpan<byte> linked = visitors == 1 ? reader.Take(checked(n * 16)) : [];
        for (int i = 0; i < n; i++)
        {
            segment.Visitors.Add(visitors == 1 ? new Guid(linked.Slice(i * 16, 16)) : Guid.Empty);
        }
        if (!reader.AtEnd)
        {
            throw new FormatException("The analytics segment has bytes after its last column.");
        }

        return segment;
    }

    private static byte[] EncodeColumn(List<string?> values)
    {
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string? value in values)
        {
            if (value is not null)
            {
                codes.TryAdd(value, codes.Count + 1);
            }
        }

        using var stream = new MemoryStream();
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(word, codes.Count);
        stream.Write(word);
        foreach (string value in codes.Keys)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32LittleEndian(word, bytes.Length);
            stream.Write(word);
            stream.Write(bytes);
        }

        if (codes.Count > 0)
        {
            int width = codes.Count < byte.MaxValue ? 1 : codes.Count < ushort.MaxValue ? 2 : 4;
            stream.WriteByte((byte)width);
            foreach (string? value in values)
            {
                int code = value is null ? 0 : codes[value];
                BinaryPrimitives.WriteInt32LittleEndian(word, code);
                stream.Write(word[..width]);
            }
        }

        return stream.ToArray();
    }

    private static void DecodeColumn(ref Reader reader, int n, List<string?> column, Dictionary<string, string> strings)
    {
        int size = reader.Count();
        if (size == 0)
        {
            for (int i = 0; i < n; i++)
            {
                column.Add(null);
            }

            return;
        }

        string?[] dictionary = new string?[size + 1];
        for (int k = 1; k <= size; k++)
        {
            string value = Encoding.UTF8.GetString(reader.Take(reader.Count()));
            if (!strings.TryGetValue(value, out string? known))
            {
                strings.Add(value, value);
                known = value;
            }

            dictionary[k] = known;
        }

        int width = reader.Byte();
        if (width is not (1 or 2 or 4))
        {
            throw new FormatException($"The analytics segment has a code width of {width} bytes; 1, 2 or 4 expected.");
        }

        ReadOnlySpan<byte> codes = reader.Take(checked(n * width));
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < n; i++)
        {
            word.Clear();
            codes.Slice(i * width, width).CopyTo(word);
            int code = BinaryPrimitives.ReadInt32LittleEndian(word);
            if ((uint)code > (uint)size)
            {
                throw new FormatException($"The analytics segment has the code {code} in a dictionary of {size}.");
            }

            column.Add(dictionary[code]);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public byte Byte() => Take(1)[0];

        public int Count()
        {
            int value = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            return value >= 0 ? value : throw new FormatException($"The analytics segment has a negative count ({value}).");
        }

        public ReadOnlySpan<byte> Take(int length)
        {
            if (length > _rest.Length)
            {
                throw new FormatException("The analytics segment ends early.");
            }

            ReadOnlySpan<byte> taken = _rest[..length];
            _rest = _rest[length..];
            return taken;
        }
    }
}
