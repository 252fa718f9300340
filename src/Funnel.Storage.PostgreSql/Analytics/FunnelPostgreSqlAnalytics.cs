using FluentValidation;
using Funnel.Analytics;
using Funnel.Events;
using Funnel.Storage.PostgreSql.Analytics;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql;

/// <summary>Loads events from the PostgreSQL event log into an <see cref="AnalyticsEventStore"/> with one binary <c>COPY</c>.</summary>
/// <remarks>
/// <para>
/// The database selects only the rows a question needs (its event types, its time range) and only the columns the
/// store keeps: lead, time and type, sent as <c>COPY (SELECT …) TO STDOUT (FORMAT BINARY)</c> and added to an
/// <see cref="AnalyticsEventStoreBuilder"/> as raw columns, with no event object per row. The JSON payload is read
/// and deserialized only for the event types that need it: a step or exclusion that matches a subject, a breakdown
/// by channel, campaign, property or variant, or captured <see cref="AnalyticsStoreOptions.PropertyKeys"/>.
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

    /// <summary>Loads the events a funnel question needs, for the leads who entered the funnel in a period.</summary>
    /// <remarks>
    /// <para>
    /// Loads the lead events whose type is matched by a step or an exclusion of <paramref name="query"/>: events of the
    /// first step's types that occurred in <paramref name="entered"/> (the possible starts), and events of the later
    /// steps' and the exclusions' types from the period's start until its end plus <see cref="FunnelQuery.Window"/>, so
    /// a lead who entered just before the end is followed for the whole window. For a breakdown by variant, the
    /// experiment exposures before that same end are loaded too. Instants are compared to the microsecond, as stored.
    /// </para>
    /// <para>
    /// The store holds only these events: <see cref="FunnelAnalysis.Leads"/> and <see cref="FunnelAnalysis.Events"/>
    /// count them, a breakdown by first-touch week takes each lead's first <i>loaded</i> event, and order amounts are
    /// kept only when payloads were read. An event whose type matches both the first and a later step may also start a
    /// chain after the period's end. For anything other than a funnel, load by event types with
    /// <see cref="LoadEventsAsync"/>.
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

    private async Task<AnalyticsEventStore> LoadAsync(AnalyticsCopyPlan plan, AnalyticsStoreOptions? options, CancellationToken cancellationToken)
    {
        var builder = new AnalyticsEventStoreBuilder(options);
        if (plan.Types.IsEmpty)
        {
            return builder.Build();
        }

        string sql = plan.CopySql(_database.Table("events"));
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlBinaryExporter export = await connection.BeginBinaryExportAsync(sql, cancellationToken).ConfigureAwait(false);
        if (plan.Columns == AnalyticsCopyColumns.PayloadOnly)
        {
            while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
            {
                builder.Add(_serializer.Deserialize(await export.ReadAsync<string>(NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false)));
            }

            return builder.Build();
        }

        // The type arrives as its position in plan.Types, so every row of a type passes the same string instance to
        // the builder (whose term cache compares references) and no string is allocated per row.
        string[] names = [.. plan.Types];
        bool payloads = plan.Columns == AnalyticsCopyColumns.RowsAndSomePayloads;
        while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
        {
            Guid lead = await export.ReadAsync<Guid>(NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
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

        return builder.Build();
    }
}
