using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Funnel.Analytics;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Storage.PostgreSql.Internal;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Analytics;

/// <summary>Which columns an analytics <c>COPY</c> sends.</summary>
internal enum AnalyticsCopyColumns
{
    /// <summary>Lead, time and type code.</summary>
    Rows,

    /// <summary>Lead, time, type code and the payload for the types that need it (null for the others).</summary>
    RowsAndSomePayloads,

    /// <summary>The payload alone: every event is deserialized.</summary>
    PayloadOnly,
}

/// <summary>One event type an analytics load reads: from when to when, and whether its payload is needed.</summary>
/// <param name="From">The earliest instant, inclusive; <see langword="null"/> for no bound.</param>
/// <param name="Until">The latest instant, exclusive; <see langword="null"/> for no bound.</param>
/// <param name="Payload">Whether the payload is read and deserialized.</param>
internal sealed record AnalyticsCopyType(Instant? From, Instant? Until, bool Payload);

/// <summary>What an analytics load selects from the event log, and the <c>COPY</c> statement that selects it.</summary>
/// <remarks>
/// <c>COPY</c> takes no parameters, so values are written into the statement as literals: types as escape strings
/// (<c>E'…'</c>, with quotes and backslashes escaped, whatever <c>standard_conforming_strings</c> says) and instants
/// as UTC timestamps truncated to the microsecond, as the log stores them.
/// </remarks>
internal sealed class AnalyticsCopyPlan
{
    private AnalyticsCopyPlan(ImmutableArray<string> types, ImmutableArray<AnalyticsCopyType> ranges, AnalyticsCopyColumns columns, bool segmentable)
    {
        Types = types;
        Ranges = ranges;
        Columns = columns;
        Segmentable = segmentable;
    }

    /// <summary>Gets the event types, in code order: a row's code is its type's index plus one.</summary>
    public ImmutableArray<string> Types { get; }

    /// <summary>Gets each type's range and payload need, in the order of <see cref="Types"/>.</summary>
    public ImmutableArray<AnalyticsCopyType> Ranges { get; }

    /// <summary>Gets which columns are sent.</summary>
    public AnalyticsCopyColumns Columns { get; }

    /// <summary>
    /// Gets whether analytics segments give the store exactly what the rows would: every payload the plan reads is
    /// needed only for the subject, channel, campaign, experiment variant, amount or linked visitor, which segments keep
    /// (no captured properties).
    /// </summary>
    public bool Segmentable { get; }

    /// <summary>Plans the load of a funnel question for the leads who entered in <paramref name="entered"/>.</summary>
    public static AnalyticsCopyPlan ForQuery(FunnelQuery query, Interval entered, AnalyticsStoreOptions? options)
    {
        Instant? from = entered.HasStart ? entered.Start : null;
        Instant? end = entered.HasEnd ? entered.End : null;
        Instant? followed = end is { } e && e <= Instant.MaxValue - query.Window ? e + query.Window : null;
        FunnelBreakdownKind? breakdown = query.Breakdown?.Kind;
        bool everyPayload = breakdown is FunnelBreakdownKind.Channel or FunnelBreakdownKind.Campaign or FunnelBreakdownKind.Property
            || options?.PropertyKeys is { IsDefaultOrEmpty: false };

        var types = new Dictionary<string, AnalyticsCopyType>(StringComparer.Ordinal);
        void Need(EventMatch match, Instant? lower, Instant? upper, bool payload = false)
        {
            payload |= everyPayload || match.Subject is not null;
            types[match.EventType] = types.TryGetValue(match.EventType, out AnalyticsCopyType? known)
                ? new AnalyticsCopyType(Earlier(known.From, lower), Later(known.Until, upper), known.Payload || payload)
                : new AnalyticsCopyType(lower, upper, payload);
        }

        ImmutableArray<StepDefinition> steps = query.Funnel.Steps;
        Need(steps[0].Trigger, from, end);
        foreach (StepDefinition step in steps.Skip(1))
        {
            Need(step.Trigger, from, followed);
        }

        foreach (EventMatch exclusion in query.Exclusions.IsDefault ? [] : query.Exclusions)
        {
            Need(exclusion, from, followed);
        }

        if (breakdown == FunnelBreakdownKind.Variant)
        {
            // The lead's first exposure decides its variant, and it usually comes before the funnel's first step.
            Need(new EventMatch(EventTypes.ExperimentExposed, Subject: query.Breakdown!.Key), null, followed);
        }

        if (query.IncludeMoney)
        {
            // A lead's orders and refunds count from the start of its chain on, at any time after it; but when the
            // first step is an order (or a refund), a later one must not start a chain, so it is followed only as far
            // as the later steps are. The spend that bought the leads is the spend of the period.
            foreach (string money in (string[])[EventTypes.OrderPlaced, EventTypes.RefundIssued])
            {
                Need(EventMatch.For(money), from, money == steps[0].Trigger.EventType ? followed : null, payload: true);
            }

            Need(EventMatch.For(EventTypes.AdSpendRecorded), from, end, payload: true);
        }

        // Every identity link, whenever it was made: it makes a visitor's events its lead's, as a load of the whole log would.
        Need(EventMatch.For(EventTypes.IdentityLinked), null, null, payload: true);

        string[] names = [.. types.Keys.Order(StringComparer.Ordinal)];
        ImmutableArray<AnalyticsCopyType> ranges = [.. names.Select(n => types[n])];
        AnalyticsCopyColumns columns = ranges.All(r => r.Payload) ? AnalyticsCopyColumns.PayloadOnly
            : ranges.Any(r => r.Payload) ? AnalyticsCopyColumns.RowsAndSomePayloads
            : AnalyticsCopyColumns.Rows;
        bool segmentable = breakdown != FunnelBreakdownKind.Property && options?.PropertyKeys is not { IsDefaultOrEmpty: false };
        return new AnalyticsCopyPlan([.. names], ranges, columns, segmentable);
    }

    /// <summary>Plans the load of every event of <paramref name="types"/> in <paramref name="period"/>, with payloads.</summary>
    public static AnalyticsCopyPlan ForTypes(IEnumerable<string> types, Interval period)
    {
        string[] names = [.. types.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var range = new AnalyticsCopyType(period.HasStart ? period.Start : null, period.HasEnd ? period.End : null, Payload: true);
        return new AnalyticsCopyPlan([.. names], [.. names.Select(_ => range)], AnalyticsCopyColumns.PayloadOnly, segmentable: false);
    }

    /// <summary>Returns the <c>COPY … TO STDOUT (FORMAT BINARY)</c> statement on the qualified events table.</summary>
    /// <param name="eventsTable">The qualified events table.</param>
    /// <param name="afterPosition">Only rows after this log position are sent (the rows segments do not hold yet); 0 for all.</param>
    public string CopySql(string eventsTable, long afterPosition = 0)
    {
        var sql = new StringBuilder("COPY (SELECT ");
        string codes = "array_position(" + Array(Types) + ", type)::int4";
        sql.Append(Columns switch
        {
            AnalyticsCopyColumns.Rows => "lead_id, occurred_at, " + codes,
            AnalyticsCopyColumns.RowsAndSomePayloads => "lead_id, occurred_at, " + codes + ", CASE WHEN type = ANY("
                + Array(Types.Where((_, i) => Ranges[i].Payload)) + ") THEN payload END",
            _ => "payload",
        });
        sql.Append(" FROM ").Append(eventsTable).Append(" WHERE ");
        if (Columns != AnalyticsCopyColumns.PayloadOnly)
        {
            // Ad spend is the one event without a lead that a funnel's money reads.
            int spend = Types.IndexOf(EventTypes.AdSpendRecorded);
            sql.Append(spend >= 0 && Ranges[spend].Payload ? "(lead_id IS NOT NULL OR type = " + Literal(EventTypes.AdSpendRecorded) + ") AND " : "lead_id IS NOT NULL AND ");
        }

        if (afterPosition > 0)
        {
            sql.Append("position > ").Append(afterPosition.ToString(CultureInfo.InvariantCulture)).Append(" AND ");
        }

        // Types with the same range share one condition; PostgreSQL reads the table once either way.
        var groups = Types.Select((type, i) => (Type: type, Range: Ranges[i] with { Payload = false }))
            .GroupBy(t => t.Range)
            .Select(g => Condition(g.Select(t => t.Type), g.Key))
            .ToArray();
        sql.Append(groups.Length == 1 ? groups[0] : "(" + string.Join(" OR ", groups) + ")");
        sql.Append(") TO STDOUT (FORMAT BINARY)");
        return sql.ToString();
    }

    private static string Condition(IEnumerable<string> types, AnalyticsCopyType range)
    {
        string condition = "type = ANY(" + Array(types) + ")";
        if (range.From is { } from)
        {
            condition += " AND occurred_at >= " + Timestamp(from);
        }

        if (range.Until is { } until)
        {
            condition += " AND occurred_at < " + Timestamp(until);
        }

        return "(" + condition + ")";
    }

    private static string Array(IEnumerable<string> values) => "ARRAY[" + string.Join(", ", values.Select(Literal)) + "]::text[]";

    /// <summary>Returns an escape-string literal (<c>E'…'</c>), which reads the same whatever <c>standard_conforming_strings</c> is.</summary>
    internal static string Literal(string value) => "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Timestamp(Instant instant)
    {
        DateTime value = PgValues.ToDateTime(instant);
        return value == DateTime.MinValue ? "'-infinity'::timestamptz"
            : value == DateTime.MaxValue ? "'infinity'::timestamptz"
            : "'" + value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + "'::timestamptz";
    }

    private static Instant? Earlier(Instant? a, Instant? b) => a is null || b is null ? null : Instant.Min(a.Value, b.Value);

    private static Instant? Later(Instant? a, Instant? b) => a is null || b is null ? null : Instant.Max(a.Value, b.Value);
}
