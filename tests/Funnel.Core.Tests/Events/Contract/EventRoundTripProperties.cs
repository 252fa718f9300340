using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Tests.Events.Contract;

/// <summary>Generators of rich events: ids, money, instants to the nanosecond, attribution and properties.</summary>
public static class EventArbitraries
{
    private static readonly Gen<string> Text =
        Gen.ArrayOf(Gen.Elements("a", "Z", "9", "-", " ", "é", "😀", "\"", "\\", "\n", "<", "+", "ß", "\u0001"))
            .Select(parts => string.Concat(parts));

    private static readonly Gen<string> NonEmptyText = Text.Where(t => t.Length > 0);

    private static readonly Gen<string?> OptionalText = Gen.OneOf(Gen.Constant<string?>(null), NonEmptyText.Select(t => (string?)t));

    private static readonly Gen<Guid> Guids = Gen.Fresh(Guid.NewGuid);

    private static readonly Gen<Instant> Instants =
        from seconds in Gen.Choose(-2_000_000_000, 2_000_000_000)
        from nanos in Gen.OneOf(Gen.Constant(0), Gen.Choose(0, 999_999_999))
        select Instant.FromUnixTimeSeconds(seconds * 2L) + Duration.FromNanoseconds(nanos);

    private static readonly Gen<Attribution> Attributions = Gen.OneOf(
        Gen.Constant(Attribution.None),
        from channel in OptionalText
        from campaign in OptionalText
        from source in OptionalText
        from medium in OptionalText
        from content in OptionalText
        from term in OptionalText
        from referrer in OptionalText
        select new Attribution
        {
            Channel = channel, Campaign = campaign, Source = source, Medium = medium, Content = content, Term = term, Referrer = referrer,
        });

    private static readonly Gen<ImmutableDictionary<string, string>> Properties =
        Gen.ListOf(from key in NonEmptyText from value in Text select KeyValuePair.Create(key, value))
            .Select(pairs => pairs.DistinctBy(p => p.Key).ToImmutableDictionary(StringComparer.Ordinal));

    private static readonly Gen<FunnelEvent> OrderPlacedGen =
        from id in Guids
        from at in Instants
        from lead in Guids
        from order in Guids
        from offer in NonEmptyText
        from total in Arbitraries.MoneyGen
        from attribution in Attributions
        from properties in Properties
        select (FunnelEvent)new OrderPlaced
        {
            Id = new EventId(id), OccurredAt = at, LeadId = new LeadId(lead), Order = new OrderId(order), Offer = offer,
            Total = total, Attribution = attribution, Properties = properties,
        };

    private static readonly Gen<FunnelEvent> PageViewedGen =
        from id in Guids
        from at in Instants
        from lead in Guids
        from page in Text
        from title in OptionalText
        from attribution in Attributions
        from properties in Properties
        select (FunnelEvent)new PageViewed
        {
            Id = new EventId(id), OccurredAt = at, LeadId = new LeadId(lead), Page = page, Title = title,
            Attribution = attribution, Properties = properties,
        };

    private static readonly Gen<FunnelEvent> WebinarMissedGen =
        from id in Guids
        from at in Instants
        from lead in Guids
        from webinar in NonEmptyText
        from started in Instants
        from replay in Gen.OneOf(Gen.Constant<Instant?>(null), Instants.Select(i => (Instant?)i))
        select (FunnelEvent)new WebinarMissed
        {
            Id = new EventId(id), OccurredAt = at, LeadId = new LeadId(lead), Webinar = webinar,
            SessionStartedAt = started, ReplayEndsAt = replay,
        };

    private static readonly Gen<FunnelEvent> AddOnAcceptedGen =
        from id in Guids
        from at in Instants
        from lead in Guids
        from order in Guids
        from offer in NonEmptyText
        from role in Gen.Elements(Enum.GetValues<OfferRole>())
        from amount in Arbitraries.MoneyGen
        from properties in Properties
        select (FunnelEvent)new AddOnAccepted
        {
            Id = new EventId(id), OccurredAt = at, LeadId = new LeadId(lead), Order = new OrderId(order), Offer = offer,
            Role = role, Amount = amount, Properties = properties,
        };

    private static readonly Gen<FunnelEvent> AdSpendGen =
        from id in Guids
        from at in Instants
        from amount in Arbitraries.MoneyGen
        from attribution in Attributions
        select (FunnelEvent)new AdSpendRecorded { Id = new EventId(id), OccurredAt = at, Amount = amount, Attribution = attribution };

    public static Arbitrary<FunnelEvent> Events() =>
        Arb.From(Gen.OneOf(OrderPlacedGen, PageViewedGen, WebinarMissedGen, AddOnAcceptedGen, AdSpendGen));
}

[Properties(Arbitrary = new[] { typeof(EventArbitraries) }, MaxTest = 300)]
public class EventRoundTripProperties
{
    [Property]
    public void SerializeThenDeserialize_RichEvent_EqualsTheOriginal(FunnelEvent original)
    {
        FunnelEventSerializer serializer = EventSamples.Serializer;

        FunnelEvent back = serializer.Deserialize(serializer.Serialize(original));

        back.GetType().ShouldBe(original.GetType());
        (back with { Properties = ImmutableDictionary<string, string>.Empty })
            .ShouldBe(original with { Properties = ImmutableDictionary<string, string>.Empty });
        back.Properties.OrderBy(p => p.Key, StringComparer.Ordinal)
            .ShouldBe(original.Properties.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Property]
    public void DeserializeUtf8_SerializedBytes_EqualsTheTextRoundTrip(FunnelEvent original)
    {
        FunnelEventSerializer serializer = EventSamples.Serializer;

        FunnelEvent fromBytes = serializer.Deserialize(serializer.SerializeToUtf8Bytes(original));

        serializer.Serialize(fromBytes).ShouldBe(serializer.Serialize(original));
    }
}
