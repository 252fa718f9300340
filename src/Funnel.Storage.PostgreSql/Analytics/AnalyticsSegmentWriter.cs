using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

namespace Funnel.Storage.PostgreSql.Analytics;

/// <summary>Copies the event log's new lead events into <c>analytics_segments</c>, one transaction per batch of the log.</summary>
/// <remarks>
/// <para>
/// A batch locks the single <c>analytics_progress</c> row (<c>FOR UPDATE SKIP LOCKED</c>: when another instance holds
/// it, this one returns at once), reads the log's rows after its position in position order, reads each lead event's
/// payload for its subject, channel, campaign and exact time, appends them to each type's last segment while it has
/// room and to new segments after it, and moves the position to the last row read, all in one transaction. Positions
/// commit in order (appends hold the log's advisory lock until they commit), so nothing at or before a visible
/// position can appear later: a segment never misses an event and never holds one twice.
/// </para>
/// <para>
/// The log is append-only, so a segment stays true once written. An event whose payload this process cannot read (a
/// type from a newer version, a damaged payload) is kept with its lead, type and the column's time, and its segment is
/// marked as without attributes.
/// </para>
/// </remarks>
internal sealed class AnalyticsSegmentWriter
{
    /// <summary>The most events of one type in a segment.</summary>
    internal const int SegmentEvents = 65_536;

    /// <summary>The most log rows read in one transaction.</summary>
    internal const int BatchRows = 1_000_000;

    private readonly PgDatabase _database;
    private readonly FunnelEventSerializer _serializer;
    private readonly int _batchRows;
    private readonly int _segmentEvents;

    public AnalyticsSegmentWriter(PgDatabase database, FunnelEventSerializer serializer, int batchRows = BatchRows, int segmentEvents = SegmentEvents)
    {
        _database = database;
        _serializer = serializer;
        _batchRows = batchRows;
        _segmentEvents = segmentEvents;
    }

    /// <summary>Writes every lead event logged so far into segments; returns how many log rows were read.</summary>
    public async Task<long> WriteAsync(CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            int read = await WriteBatchAsync(cancellationToken).ConfigureAwait(false);
            total += read;
            if (read < _batchRows)
            {
                return total;
            }
        }
    }

    /// <summary>Reads one batch of the log into segments and returns the rows read (0 when another instance is writing).</summary>
    private async Task<int> WriteBatchAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long progress;
        await using (NpgsqlCommand lockProgress = PgDatabase.Command(
            connection, $"SELECT position FROM {_database.Table("analytics_progress")} WHERE id = 1 FOR UPDATE SKIP LOCKED", transaction))
        {
            if (await lockProgress.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long position)
            {
                return 0;
            }

            progress = position;
        }

        var pending = new Dictionary<string, Pending>(StringComparer.Ordinal);
        int rows = 0;
        long last = progress;
        await using (NpgsqlCommand read = PgDatabase.Command(
            connection,
            $"SELECT position, type, lead_id, occurred_at, CASE WHEN lead_id IS NOT NULL OR type = $3 THEN payload::text END "
            + $"FROM {_database.Table("events")} WHERE position > $1 ORDER BY position LIMIT $2",
            transaction).With(progress).With(_batchRows).With(EventTypes.AdSpendRecorded))
        {
            await using NpgsqlDataReader reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows++;
                last = reader.GetInt64(0);
                string type = reader.GetString(1);
                if (reader.IsDBNull(2) && type != EventTypes.AdSpendRecorded)
                {
                    continue;
                }

                if (!pending.TryGetValue(type, out Pending? events))
                {
                    events = new Pending();
                    pending.Add(type, events);
                }

                Guid lead = reader.IsDBNull(2) ? Guid.Empty : reader.GetGuid(2);
                switch (Read(reader.GetString(4)))
                {
                    case LeadEvent e when lead != Guid.Empty:
                        events.Add(last, lead, e.OccurredAt.ToUnixTimeTicks(), e.Subject, e.Attribution.Channel, e.Attribution.Campaign, AmountOf(e), (e as ExperimentExposed)?.Variant, (e as IdentityLinked)?.VisitorId.Value ?? Guid.Empty);
                        break;
                    case AdSpendRecorded e when lead == Guid.Empty:
                        events.Add(last, lead, e.OccurredAt.ToUnixTimeTicks(), null, e.Attribution.Channel, e.Attribution.Campaign, e.Amount, null, Guid.Empty);
                        break;
                    default:
                        events.Add(last, lead, reader.GetInstant(3).ToUnixTimeTicks(), null, null, null, null, null, Guid.Empty);
                        events.Attributes = false;
                        break;
                }
            }
        }

        if (pending.Count > 0)
        {
            await WriteSegmentsAsync(connection, transaction, pending, cancellationToken).ConfigureAwait(false);
        }

        await using (NpgsqlCommand advance = PgDatabase.Command(
            connection, $"UPDATE {_database.Table("analytics_progress")} SET position = $1 WHERE id = 1", transaction).With(last))
        {
            await advance.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>Returns the amount a store keeps for a lead event: an order's total, a refund's amount.</summary>
    private static Money? AmountOf(LeadEvent e) => e switch
    {
        OrderPlaced order => order.Total,
        RefundIssued refund => refund.Amount,
        _ => null,
    };

    private FunnelEvent? Read(string payload)
    {
        try
        {
            return _serializer.Deserialize(payload);
        }
        catch (FunnelEventFormatException)
        {
            return null;
        }
    }

    private async Task WriteSegmentsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Dictionary<string, Pending> pending, CancellationToken cancellationToken)
    {
        string table = _database.Table("analytics_segments");

        // The open segments (fewer than _segmentEvents events) are each type's last ones, in log order.
        var open = new Dictionary<string, List<Piece>>(StringComparer.Ordinal);
        await using (NpgsqlCommand select = PgDatabase.Command(
            connection,
            $"SELECT type, first_position, last_position, event_count, attributes FROM {table} WHERE type = ANY($1) AND event_count < $2 ORDER BY type, first_position",
            transaction).With<string[]>([.. pending.Keys]).With(_segmentEvents))
        {
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string type = reader.GetString(0);
                if (!open.TryGetValue(type, out List<Piece>? pieces))
                {
                    pieces = [];
                    open.Add(type, pieces);
                }

                pieces.Add(new Piece(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3), reader.GetBoolean(4), stored: true, segment: null));
            }
        }

        var place = new Placement(this, connection, transaction, table);
        foreach ((string type, Pending events) in pending)
        {
            await place.AppendAsync(type, open.GetValueOrDefault(type) ?? [], events, cancellationToken).ConfigureAwait(false);
        }

        if (place.Absorbed.Count > 0)
        {
            await using NpgsqlCommand delete = PgDatabase.Command(
                connection,
                $"DELETE FROM {table} WHERE (type, first_position) IN (SELECT * FROM unnest($1::text[], $2::int8[]))",
                transaction).With<string[]>([.. place.Absorbed.Select(a => a.Type)]).With<long[]>([.. place.Absorbed.Select(a => a.First)]);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var rows = new SegmentRows();
        foreach ((string type, Piece piece) in place.Written)
        {
            rows.Add(type, piece.First, piece.Last, piece.Attributes, piece.Segment!);
        }

        await using NpgsqlCommand upsert = PgDatabase.Command(
            connection,
            $"INSERT INTO {table} (type, first_position, last_position, min_at, max_at, event_count, attributes, data) "
            + "SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamptz[], $5::timestamptz[], $6::int4[], $7::bool[], $8::bytea[]) "
            + "ON CONFLICT (type, first_position) DO UPDATE SET last_position = EXCLUDED.last_position, min_at = EXCLUDED.min_at, "
            + "max_at = EXCLUDED.max_at, event_count = EXCLUDED.event_count, attributes = EXCLUDED.attributes, data = EXCLUDED.data",
            transaction);
        upsert.With<string[]>([.. rows.Types]).With<long[]>([.. rows.Firsts]).With<long[]>([.. rows.Lasts])
            .With<DateTime[]>([.. rows.Mins]).With<DateTime[]>([.. rows.Maxes]).With<int[]>([.. rows.Counts])
            .With<bool[]>([.. rows.Attributes]);
        upsert.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. rows.Data], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A segment being placed: stored already (its data read only when it is merged) or new.</summary>
    private sealed class Piece(long first, long last, int count, bool attributes, bool stored, AnalyticsSegment? segment)
    {
        public long First { get; } = first;

        public long Last { get; } = last;

        public int Count { get; } = count;

        public bool Attributes { get; } = attributes;

        /// <summary>Gets whether a row with <see cref="First"/> exists.</summary>
        public bool Stored { get; } = stored;

        /// <summary>Gets or sets the events, once read or built.</summary>
        public AnalyticsSegment? Segment { get; set; } = segment;
    }

    /// <summary>
    /// Places a type's new events after its open segments so that each event is rewritten only a few times.
    /// </summary>
    /// <remarks>
    /// The open segments' sizes halve at least from one to the next, as in a binary counter: the new events become a
    /// segment of their own, and while the one before it is at most twice its size the two are merged. So a type has
    /// at most about log2(<c>_segmentEvents</c>) open segments, and an event is copied about that many times before its
    /// segment is full, instead of once per run as extending the last segment would. When the open segments and the
    /// new events together reach <c>_segmentEvents</c>, they close: the open ones with the first new events become one
    /// full segment (at most twice the size), and the rest are cut into full segments and one open one.
    /// </remarks>
    private sealed class Placement(AnalyticsSegmentWriter writer, NpgsqlConnection connection, NpgsqlTransaction transaction, string table)
    {
        private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

        /// <summary>Gets the stored segments merged into the one before them, to delete.</summary>
        public List<(string Type, long First)> Absorbed { get; } = [];

        /// <summary>Gets the segments to insert or overwrite.</summary>
        public List<(string Type, Piece Piece)> Written { get; } = [];

        public async Task AppendAsync(string type, List<Piece> open, Pending events, CancellationToken cancellationToken)
        {
            int full = writer._segmentEvents;
            int openCount = open.Sum(p => p.Count);
            if (openCount + events.Segment.Count >= full)
            {
                int next = 0;
                if (open.Count > 0)
                {
                    next = Math.Min(Math.Max(0, full - openCount), events.Segment.Count);
                    var closing = new AnalyticsSegment(openCount + next);
                    foreach (Piece piece in open)
                    {
                        closing.AddAll(await ReadAsync(type, piece, cancellationToken).ConfigureAwait(false));
                    }

                    events.CopyTo(closing, 0, next);
                    bool attributes = open.All(p => p.Attributes) && (next == 0 || events.Attributes);
                    Written.Add((type, new Piece(open[0].First, next > 0 ? events.Positions[next - 1] : open[^1].Last, closing.Count, attributes, stored: true, closing)));
                    Absorbed.AddRange(open.Skip(1).Select(p => (type, p.First)));
                }

                while (next < events.Segment.Count)
                {
                    int take = Math.Min(full, events.Segment.Count - next);
                    Written.Add((type, New(events, next, take)));
                    next += take;
                }

                return;
            }

            var pieces = new List<Piece>(open) { New(events, 0, events.Segment.Count) };
            while (pieces.Count >= 2 && pieces[^2].Count <= 2 * pieces[^1].Count)
            {
                Piece before = pieces[^2], last = pieces[^1];
                var merged = new AnalyticsSegment(before.Count + last.Count);
                merged.AddAll(await ReadAsync(type, before, cancellationToken).ConfigureAwait(false));
                merged.AddAll(await ReadAsync(type, last, cancellationToken).ConfigureAwait(false));

                if (last.Stored)
                {
                    Absorbed.Add((type, last.First));
                }

                pieces.RemoveAt(pieces.Count - 1);
                pieces[^1] = new Piece(before.First, last.Last, merged.Count, before.Attributes && last.Attributes, before.Stored, merged);
            }

            // The merged and the new segments carry their events; the untouched stored ones were never read.
            Written.AddRange(pieces.Where(p => p.Segment is not null).Select(p => (type, p)));
        }

        private static Piece New(Pending events, int start, int count)
        {
            // A piece of all the new events (the usual case) takes them as they are, without a copy; nothing changes
            // a piece's events afterwards (merges build new segments).
            AnalyticsSegment segment = events.Segment;
            if (start != 0 || count != segment.Count)
            {
                segment = new AnalyticsSegment(count);
                events.CopyTo(segment, start, count);
            }

            return new Piece(events.Positions[start], events.Positions[start + count - 1], count, events.Attributes, stored: false, segment);
        }

        private async Task<AnalyticsSegment> ReadAsync(string type, Piece piece, CancellationToken cancellationToken)
        {
            if (piece.Segment is { } known)
            {
                return known;
            }

            await using NpgsqlCommand read = PgDatabase.Command(
                connection, $"SELECT data FROM {table} WHERE type = $1 AND first_position = $2", transaction).With(type).With(piece.First);
            byte[] data = (byte[])(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return piece.Segment = AnalyticsSegment.Decode(data, _strings);
        }
    }

    /// <summary>A type's new events with their log positions, and whether every payload was read.</summary>
    private sealed class Pending
    {
        public AnalyticsSegment Segment { get; } = new(0);

        public List<long> Positions { get; } = [];

        public bool Attributes { get; set; } = true;

        public void Add(long position, Guid lead, long ticks, string? subject, string? channel, string? campaign, Money? amount, string? variant, Guid visitor)
        {
            Positions.Add(position);
            Segment.Add(lead, ticks, subject, channel, campaign, amount, variant, visitor);
        }

        public void CopyTo(AnalyticsSegment target, int start, int count)
        {
            for (int i = start; i < start + count; i++)
            {
                target.AddFrom(Segment, i);
            }
        }
    }

    /// <summary>The rows of one upsert, column by column.</summary>
    private sealed class SegmentRows
    {
        public List<string> Types { get; } = [];

        public List<long> Firsts { get; } = [];

        public List<long> Lasts { get; } = [];

        public List<DateTime> Mins { get; } = [];

        public List<DateTime> Maxes { get; } = [];

        public List<int> Counts { get; } = [];

        public List<bool> Attributes { get; } = [];

        public List<byte[]> Data { get; } = [];

        public void Add(string type, long first, long last, bool attributes, AnalyticsSegment segment)
        {
            (long min, long max) = segment.Range();
            Types.Add(type);
            Firsts.Add(first);
            Lasts.Add(last);
            Mins.Add(PgValues.ToDateTime(Instant.FromUnixTimeTicks(min)));
            Maxes.Add(PgValues.ToDateTime(Instant.FromUnixTimeTicks(max)));
            Counts.Add(segment.Count);
            Attributes.Add(attributes);
            Data.Add(segment.Encode());
        }
    }
}
