using System.Data;
using FluentValidation;
using Funnel.Analytics;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql;

/// <summary>Loads events from the PostgreSQL event log into an <see cref="AnalyticsEventStore"/>: from analytics segments and one binary <c>COPY</c>.</summary>
/// <remarks>
/// <para>
/// The database selects only the rows a question needs (its event types, its time range) and only the columns the
/// store keeps: lead, time and type, sent as <c>COPY (SELECT …) TO STDOUT (FORMAT BINARY)</c> and added to an
/// <see cref="AnalyticsEventStoreBuilder"/> as raw columns, with no event object per row. The JSON payload is read
/// and deserialized only for the event types that need it: a step or exclusion that matches a subject, a breakdown
/// by channel, campaign, property or variant, captured <see cref="AnalyticsStoreOptions.PropertyKeys"/>, or the
/// amounts of <see cref="FunnelQuery.IncludeMoney"/>.
/// </para>
/// <para>
/// When analytics segments are written (<see cref="WriteAnalyticsSegmentsAsync"/>, or
/// <see cref="FunnelPostgreSqlOptions.AnalyticsSegmentInterval"/>), a funnel load reads them instead of the rows they
/// hold, and the <c>COPY</c> sends only the rows logged after them, in the same snapshot: a compact, columnar copy
/// instead of a scan of the whole log, with the same store as a result.
/// </para>
/// <para>
/// Resolve it from the services of <c>AddFunnelPostgreSql</c>; it is a singleton and reads on a connection of its
/// own per load, so loads may run at the same time as each other and as the app's writes (each load is one
/// statement, so it sees one snapshot of the log).
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FunnelPostgreSqlAnalytics
{
    private static readonly FunnelQueryValidator Validator = new();
    private readonly PgDatabase _database;
    private readonly FunnelEventSerializer _serializer;

    internal FunnelPostgreSqlAnalytics(PgDatabase database, FunnelEventSerializer serializer)
    {
        _database = database;
        _serializer = serializer;
    }

    /// <summary>Gets whether loads read the analytics segments; off only to measure or test the rows' path alone.</summary>
    internal bool ReadSegments { get; init; } = true;

    /// <summary>Loads the events a funnel question needs, for the leads who entered the funnel in a period.</summary>
    /// <remarks>
    /// <para>
    /// Loads the lead events whose type is matched by a step or an exclusion of <paramref name="query"/>: events of the
    /// first step's types that occurred in <paramref name="entered"/> (the possible starts), and events of the later
    /// steps' and the exclusions' types from the period's start until its end plus <see cref="FunnelQuery.Window"/>, so
    /// a lead who entered just before the end is followed for the whole window. For a breakdown by variant, the
    /// experiment exposures before that same end are loaded too. With <see cref="FunnelQuery.IncludeMoney"/>, the
    /// orders and refunds from the period's start on (at any time after it, as a lead's money counts; only until the
    /// end plus the window when the first step is an order or a refund, so that later ones start no chain) and the ad
    /// spend recorded in the period are loaded with their amounts. Every identity link is loaded, whenever it was made,
    /// so a visitor's events count as its lead's, as in a load of the whole log. Instants are compared to the
    /// microsecond, as stored.
    /// </para>
    /// <para>
    /// The store holds only these events: <see cref="FunnelAnalysis.Leads"/> and <see cref="FunnelAnalysis.Events"/>
    /// count them, a breakdown by first-touch week takes each lead's first <i>loaded</i> event, and order amounts are
    /// kept only when payloads were read. An event whose type matches both the first and a later step may also start a
    /// chain after the period's end. For anything other than a funnel, load by event types with
    /// <see cref="LoadEventsAsync"/>.
    /// </para>
    /// <para>
    /// The analytics segments serve every question except a breakdown by property (or captured
    /// <see cref="AnalyticsStoreOptions.PropertyKeys"/>), which they do not keep; it reads the log's rows, as does a
    /// question whose segments hold an event this version could not read.
    /// </para>
    /// </remarks>
    /// <param name="query">The question; its steps, exclusions, window and breakdown decide what is loaded.</param>
    /// <param name="entered">When the leads entered the funnel (the first step's events); either end may be unbounded.</param>
    /// <param name="options">What the store captures; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <param name="cancellationToken">Stops the load.</param>
    /// <returns>The store, ready for <see cref="FunnelAnalyzer.Analyze(AnalyticsEventStore, FunnelQuery, CancellationToken)"/> with <paramref name="query"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The query is invalid; the message names the property.</exception>
    /// <exception cref="InvalidOperationException">Amounts are in more than one currency.</exception>
    /// <exception cref="FunnelEventFormatException">A payload that had to be read is not an event's JSON.</exception>
    /// <exception cref="NpgsqlException">The database could not be reached or the statement failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Task<AnalyticsEventStore> LoadFunnelAsync(
        FunnelQuery query, Interval entered, AnalyticsStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        Validator.ValidateAndThrow(query);
        return LoadAsync(AnalyticsCopyPlan.ForQuery(query, entered, options), options, cancellationToken);
    }

    /// <summary>Loads every event of the given types that occurred in a period, with its whole payload.</summary>
    /// <remarks>
    /// Each event is deserialized, so the store keeps subjects, channels, campaigns, captured properties, experiment
    /// variants, order and refund amounts and ad spend (<c>ad_spend_recorded</c> events) as
    /// <see cref="AnalyticsEventStore.Load(IEnumerable{FunnelEvent}, AnalyticsStoreOptions?)"/> would from the same
    /// events. Events whose type this process does not know are skipped, as there.
    /// </remarks>
    /// <param name="eventTypes">The event types to load, such as <c>order_placed</c>.</param>
    /// <param name="period">When the events occurred; either end may be unbounded.</param>
    /// <param name="options">What the store captures; defaults to <see cref="AnalyticsStoreOptions.Default"/>.</param>
    /// <param name="cancellationToken">Stops the load.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="eventTypes"/> is or holds <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Amounts are in more than one currency.</exception>
    /// <exception cref="FunnelEventFormatException">A payload is not an event's JSON.</exception>
    /// <exception cref="NpgsqlException">The database could not be reached or the statement failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Task<AnalyticsEventStore> LoadEventsAsync(
        IEnumerable<string> eventTypes, Interval period, AnalyticsStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventTypes);
        string[] types = [.. eventTypes];
        foreach (string type in types)
        {
            ArgumentNullException.ThrowIfNull(type, nameof(eventTypes));
        }

        return LoadAsync(AnalyticsCopyPlan.ForTypes(types, period), options, cancellationToken);
    }

    /// <summary>Copies the lead events logged so far into the analytics segments that funnel loads read first.</summary>
    /// <remarks>
    /// <para>
    /// Segments are a compact, columnar copy of the log's lead events and ad spend (lead, time, type, subject, channel,
    /// campaign, experiment variant, amount, linked visitor), kept in the <c>analytics_segments</c> table. <see cref="LoadFunnelAsync"/> reads them and then only the log's
    /// rows after them, so a load no longer scans the whole log: about 30 bytes of segment per event against the
    /// log's full rows. Each call continues from where the last one stopped, in transactions of up to a million log
    /// rows; when another instance is writing, the call returns 0 at once. Set
    /// <see cref="FunnelPostgreSqlOptions.AnalyticsSegmentInterval"/> to have the host call it on a timer.
    /// </para>
    /// <para>
    /// The log stays the source of truth: loads give the same store with or without segments, and a load whose
    /// question needs more than segments keep (captured properties, events this version could not read) reads the log's
    /// rows as before.
    /// </para>
    /// </remarks>
    /// <param name="cancellationToken">Stops the writing; the batch in progress is rolled back.</param>
    /// <returns>How many log rows were read, 0 when there was nothing new or another instance was writing.</returns>
    /// <exception cref="NpgsqlException">The database could not be reached or a statement failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Task<long> WriteAnalyticsSegmentsAsync(CancellationToken cancellationToken = default) =>
        new AnalyticsSegmentWriter(_database, _serializer).WriteAsync(cancellationToken);

    private async Task<AnalyticsEventStore> LoadAsync(AnalyticsCopyPlan plan, AnalyticsStoreOptions? options, CancellationToken cancellationToken)
    {
        if (plan.Types.IsEmpty)
        {
            return new AnalyticsEventStoreBuilder(options).Build();
        }

        string events = _database.Table("events");
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (plan.Segmentable && ReadSegments)
        {
            // The segments and the log's rows after them are read in one snapshot.
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            if (await SegmentedPositionAsync(connection, transaction, plan, cancellationToken).ConfigureAwait(false) is { } segmented)
            {
                var builder = new AnalyticsEventStoreBuilder(options);
                await ReadSegmentsAsync(connection, transaction, plan, builder, cancellationToken).ConfigureAwait(false);
                await CopyAsync(connection, plan, plan.CopySql(events, segmented), builder, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return builder.Build();
            }
        }

        var rowsOnly = new AnalyticsEventStoreBuilder(options);
        await CopyAsync(connection, plan, plan.CopySql(events), rowsOnly, cancellationToken).ConfigureAwait(false);
        return rowsOnly.Build();
    }

    /// <summary>Returns the log position the segments reach, or <see langword="null"/> when a segment the plan reads lacks the attributes it needs.</summary>
    private async Task<long?> SegmentedPositionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AnalyticsCopyPlan plan, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = PgDatabase.Command(
            connection,
            $"SELECT position, EXISTS (SELECT 1 FROM {_database.Table("analytics_segments")} WHERE NOT attributes AND type = ANY($1)) "
            + $"FROM {_database.Table("analytics_progress")} WHERE id = 1",
            transaction).With<string[]>([.. plan.Types.Where((_, i) => plan.Ranges[i].Payload)]);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.GetBoolean(1) ? reader.GetInt64(0) : null;
    }

    /// <summary>Adds the events of the plan's types and periods held in segments, as the log's rows would add them.</summary>
    private async Task ReadSegmentsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, AnalyticsCopyPlan plan, AnalyticsEventStoreBuilder builder, CancellationToken cancellationToken)
    {
        int n = plan.Types.Length;
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        long[] from = new long[n], until = new long[n];
        for (int i = 0; i < n; i++)
        {
            codes.Add(plan.Types[i], i);
            AnalyticsCopyType range = plan.Ranges[i];
            from[i] = range.From is { } f ? PgValues.Truncate(f).ToUnixTimeTicks() : long.MinValue;
            until[i] = range.Until is { } u ? PgValues.Truncate(u).ToUnixTimeTicks() : long.MaxValue;
        }

        await using NpgsqlCommand command = PgDatabase.Command(
            connection,
            $"SELECT s.type, s.data FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS r (type, from_at, until_at) "
            + $"JOIN {_database.Table("analytics_segments")} s ON s.type = r.type "
            + "AND (r.from_at IS NULL OR s.max_at >= r.from_at) AND (r.until_at IS NULL OR s.min_at < r.until_at) ORDER BY s.type, s.first_position",
            transaction)
            .With<string[]>([.. plan.Types])
            .With<DateTime?[]>([.. plan.Ranges.Select(r => r.From is { } f ? PgValues.ToDateTime(f) : (DateTime?)null)])
            .With<DateTime?[]>([.. plan.Ranges.Select(r => r.Until is { } u ? PgValues.ToDateTime(u) : (DateTime?)null)]);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            int code = codes[reader.GetString(0)];
            AnalyticsSegment segment = AnalyticsSegment.Decode(await reader.GetFieldValueAsync<byte[]>(1, cancellationToken).ConfigureAwait(false), strings);
            string type = plan.Types[code];
            bool payload = plan.Ranges[code].Payload;
            long lower = from[code], upper = until[code];
            for (int e = 0; e < segment.Count; e++)
            {
                // The log's rows compare and give times to the microsecond; an event read from its payload keeps its own.
                long ticks = segment.Ticks[e];
                long microsecond = AnalyticsSegment.ToMicrosecond(ticks);
                if (microsecond < lower || microsecond >= upper)
                {
                    continue;
                }

                if (payload)
                {
                    Instant at = Instant.FromUnixTimeTicks(ticks);
                    Guid lead = segment.Leads[e];
                    if (segment.Visitors[e] is var visitor && visitor != Guid.Empty)
                    {
                        // A link regroups the visitor's events when the store is built; the builder takes it as an event.
                        builder.Add(new IdentityLinked
                        {
                            LeadId = new LeadId(lead),
                            OccurredAt = at,
                            VisitorId = new LeadId(visitor),
                            Attribution = new Attribution { Channel = segment.Channels[e], Campaign = segment.Campaigns[e] },
                        });
                    }
                    else if (segment.Variants[e] is { } variant)
                    {
                        builder.AddWithVariant(new LeadId(lead), at, type, variant, segment.Subjects[e], segment.Channels[e], segment.Campaigns[e]);
                    }
                    else if (segment.AmountAt(e) is not { } amount)
                    {
                        builder.Add(new LeadId(lead), at, type, segment.Subjects[e], segment.Channels[e], segment.Campaigns[e]);
                    }
                    else if (lead == Guid.Empty)
                    {
                        builder.AddSpend(at, amount, segment.Channels[e]);
                    }
                    else
                    {
                        builder.AddWithAmount(new LeadId(lead), at, type, amount, segment.Subjects[e], segment.Channels[e], segment.Campaigns[e]);
                    }
                }
                else if (segment.Leads[e] != Guid.Empty)
                {
                    builder.Add(new LeadId(segment.Leads[e]), Instant.FromUnixTimeTicks(microsecond), type);
                }
            }
        }
    }

    /// <summary>Adds the rows of a <c>COPY</c> of the plan.</summary>
    private async Task CopyAsync(NpgsqlConnection connection, AnalyticsCopyPlan plan, string sql, AnalyticsEventStoreBuilder builder, CancellationToken cancellationToken)
    {
        await using NpgsqlBinaryExporter export = await connection.BeginBinaryExportAsync(sql, cancellationToken).ConfigureAwait(false);
        if (plan.Columns == AnalyticsCopyColumns.PayloadOnly)
        {
            while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
            {
                builder.Add(_serializer.Deserialize(await export.ReadAsync<string>(NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false)));
            }

            return;
        }

        // The type arrives as its position in plan.Types, so every row of a type passes the same string instance to
        // the builder (whose term cache compares references) and no string is allocated per row.
        string[] names = [.. plan.Types];
        bool payloads = plan.Columns == AnalyticsCopyColumns.RowsAndSomePayloads;
        while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
        {
            // Only ad spend has no lead, and its payload is always read.
            Guid lead = Guid.Empty;
            if (export.IsNull)
            {
                await export.SkipAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                lead = await export.ReadAsync<Guid>(NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
            }

            DateTime occurredAt = await export.ReadAsync<DateTime>(NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            int code = await export.ReadAsync<int>(NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            if (payloads)
            {
                if (!export.IsNull)
                {
                    builder.Add(_serializer.Deserialize(await export.ReadAsync<string>(NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false)));
                    continue;
                }

                await export.SkipAsync(cancellationToken).ConfigureAwait(false);
            }

            builder.Add(new LeadId(lead), PgValues.FromDateTime(occurredAt), names[code - 1]);
        }
    }
}
