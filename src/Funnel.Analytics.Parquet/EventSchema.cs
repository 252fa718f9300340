using System.Collections.Concurrent;
using System.Reflection;
using Funnel.Events;
using Funnel.Storage;
using Parquet.Schema;

namespace Funnel.Analytics.Parquet;

/// <summary>The columns of an exported event file, and how an event fills them.</summary>
/// <remarks>
/// The UTC day is not a column: it is the <c>day=yyyy-MM-dd</c> folder (Hive partitioning), which readers add back.
/// </remarks>
internal static class EventSchema
{
    public static readonly DataField<string> EventId = new("event_id", nullable: false);
    public static readonly DataField<long?> Position = new("position");
    public static readonly DataField<string> Type = new("type", nullable: false);
    public static readonly DataField<string> Subject = new("subject", nullable: true);
    public static readonly DateTimeDataField OccurredAt =
        new("occurred_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);
    public static readonly DataField<string> LeadId = new("lead_id", nullable: true);
    public static readonly DataField<string> Channel = new("channel", nullable: true);
    public static readonly DataField<string> Campaign = new("campaign", nullable: true);
    public static readonly DataField<string> Source = new("source", nullable: true);
    public static readonly DataField<string> Medium = new("medium", nullable: true);
    public static readonly DataField<string> Content = new("content", nullable: true);
    public static readonly DataField<string> Term = new("term", nullable: true);
    public static readonly DataField<string> Referrer = new("referrer", nullable: true);
    public static readonly DataField<long?> AmountMinor = new("amount_minor");
    public static readonly DataField<string> Currency = new("currency", nullable: true);
    public static readonly DataField<string> Payload = new("payload", nullable: false);

    /// <summary>The schema of every file, in column order.</summary>
    public static readonly ParquetSchema Schema = new(
        EventId, Position, Type, Subject, OccurredAt, LeadId, Channel, Campaign, Source, Medium, Content, Term, Referrer,
        AmountMinor, Currency, Payload);

    private static readonly ConcurrentDictionary<Type, PropertyInfo?> MoneyProperties = new();

    /// <summary>Returns the money an event carries: the value of its one public <see cref="Money"/> property.</summary>
    /// <remarks>
    /// Every built-in event with money has exactly one (<see cref="OrderPlaced.Total"/>, <see cref="RefundIssued.Amount"/>,
    /// <see cref="AdSpendRecorded.Amount"/>, the payment, commission and invoice events), and so do most events an
    /// application defines. A type with none, or with more than one, carries no money here (its JSON still has it all).
    /// </remarks>
    public static Money? MoneyOf(FunnelEvent funnelEvent) =>
        MoneyProperties.GetOrAdd(funnelEvent.GetType(), static type => FindMoneyProperty(type))
            ?.GetValue(funnelEvent) as Money?;

    private static PropertyInfo? FindMoneyProperty(Type type)
    {
        PropertyInfo[] money =
        [
            .. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.PropertyType == typeof(Money) && p.GetIndexParameters().Length == 0 && p.GetMethod is not null),
        ];
        return money.Length == 1 ? money[0] : null;
    }

    /// <summary>Returns the lead an event is about, as the durable event logs store it.</summary>
    public static LeadId? LeadOf(FunnelEvent funnelEvent) => EventLeads.LeadOf(funnelEvent);
}
