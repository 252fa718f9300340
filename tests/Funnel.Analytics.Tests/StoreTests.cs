using Funnel.Events;
using NodaTime;
using static Funnel.Analytics.Tests.AnalyticsTestData;

namespace Funnel.Analytics.Tests;

public class StoreTests
{
    [Fact]
    public void Load_Events_GroupsByLeadAndSortsByTime()
    {
        var store = AnalyticsEventStore.Load([E(2, "b", 5), E(1, "a", 3), E(2, "a", 1), E(1, "c", 0)]);

        store.LeadCount.ShouldBe(2);
        store.EventCount.ShouldBe(4);
        store.LeadAt(0).ShouldBe(Lead(2));
        store.Times.ShouldBe([At(1).ToUnixTimeTicks(), At(5).ToUnixTimeTicks(), At(0).ToUnixTimeTicks(), At(3).ToUnixTimeTicks()]);
    }

    [Fact]
    public void BytesPerEvent_DefaultOptions_Is24_AndEachPropertyAddsFour()
    {
        AnalyticsEventStore.Load([E(1, "a", 0)]).BytesPerEvent.ShouldBe(24);
        AnalyticsEventStore.Load([E(1, "a", 0)], new AnalyticsStoreOptions { PropertyKeys = ["device", "country"] }).BytesPerEvent.ShouldBe(32);
    }

    [Fact]
    public void Load_ReplayedEventId_CountsOnce()
    {
        FunnelEvent e = E(1, "a", 0);

        AnalyticsEventStore.Load([e, e]).EventCount.ShouldBe(1);
    }

    [Fact]
    public void Load_MixedCurrencies_ThrowsNamingBoth()
    {
        FunnelEvent[] events =
        [
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(0), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(1m, Currency.USD) },
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(1m, Currency.EUR) },
        ];

        Should.Throw<InvalidOperationException>(() => AnalyticsEventStore.Load(events)).Message.ShouldContain("EUR");
    }

    [Fact]
    public async Task LoadAsync_Stream_GivesTheSameStoreAsLoad()
    {
        FunnelEvent[] events = [E(1, "a", 0), E(2, "b", 1), E(1, "b", 2)];

        AnalyticsEventStore store = await AnalyticsEventStore.LoadAsync(events.ToAsyncEnumerable());

        store.Times.ShouldBe(AnalyticsEventStore.Load(events).Times);
    }

    [Fact]
    public void WriteTo_ThenReadFrom_RoundTripsEveryColumn()
    {
        var original = AnalyticsEventStore.Load(
        [
            E(1, "a", 0, "facebook"),
            new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(497m, Currency.USD) },
            new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(10m, Currency.USD) },
        ]);
        using var stream = new MemoryStream();

        original.WriteTo(stream);
        stream.Position = 0;
        AnalyticsEventStore copy = AnalyticsEventStore.ReadFrom(stream);

        copy.LeadAt(0).ShouldBe(Lead(1));
        copy.Times.ShouldBe(original.Times);
        copy.Terms.ShouldBe(original.Terms);
        copy.TermTypes.ShouldBe(original.TermTypes);
        copy.Dimensions[0].ShouldBe(original.Dimensions[0]);
        copy.MoneyAmounts.ShouldBe([49700L]);
        copy.TotalAdSpend.ShouldBe(Money.FromMajor(10m, Currency.USD));
        copy.Currency.ShouldBe(Currency.USD);
    }

    [Fact]
    public void ReadFrom_NotAStore_ThrowsInvalidData() =>
        Should.Throw<InvalidDataException>(() => AnalyticsEventStore.ReadFrom(new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8])));

    [Fact]
    public void ReadFrom_TruncatedStore_ThrowsInvalidData()
    {
        using var stream = new MemoryStream();
        AnalyticsEventStore.Load([E(1, "a", 0)]).WriteTo(stream);

        Should.Throw<InvalidDataException>(() => AnalyticsEventStore.ReadFrom(new MemoryStream(stream.ToArray()[..20])));
    }

    [Fact]
    public void Builder_RawAmountsAndSpend_BuildTheSameStoreAsTheEvents()
    {
        var order = new OrderPlaced { LeadId = Lead(1), OccurredAt = At(1), Order = OrderId.New(), Offer = "x", Total = Money.FromMajor(497m, Currency.USD), Attribution = new Attribution { Channel = "facebook" } };
        var refund = new RefundIssued { LeadId = Lead(1), OccurredAt = At(4), Order = order.Order, Amount = Money.FromMajor(97m, Currency.USD) };
        var spend = new AdSpendRecorded { OccurredAt = At(0), Attribution = new Attribution { Channel = "facebook" }, Amount = Money.FromMajor(10m, Currency.USD) };
        AnalyticsEventStore fromEvents = AnalyticsEventStore.Load([E(1, "a", 0, "google"), order, refund, spend]);
        var builder = new AnalyticsEventStoreBuilder();

        builder.Add(Lead(1), At(0), "a", channel: "google");
        builder.AddWithAmount(Lead(1), At(1), EventTypes.OrderPlaced, order.Total, "x", "facebook").ShouldBe(1);
        builder.AddWithAmount(Lead(1), At(4), EventTypes.RefundIssued, refund.Amount, refund.Subject);
        builder.AddSpend(At(0), spend.Amount, "facebook");
        AnalyticsEventStore fromColumns = builder.Build();

        fromColumns.Times.ShouldBe(fromEvents.Times);
        fromColumns.Terms.ShouldBe(fromEvents.Terms);
        fromColumns.MoneyEvents.ShouldBe(fromEvents.MoneyEvents);
        fromColumns.MoneyAmounts.ShouldBe(fromEvents.MoneyAmounts);
        fromColumns.SpendChannels.ShouldBe(fromEvents.SpendChannels);
        fromColumns.TotalAdSpend.ShouldBe(Money.FromMajor(10m, Currency.USD));
        fromColumns.Currency.ShouldBe(Currency.USD);
    }

    [Fact]
    public void Builder_RawVariant_BuildsTheSameStoreAsTheExposure()
    {
        var exposure = new Funnel.Analytics.Experiments.ExperimentExposed { LeadId = Lead(1), OccurredAt = At(2), Experiment = "headline", Variant = "b", Attribution = new Attribution { Channel = "google" } };
        AnalyticsEventStore fromEvents = AnalyticsEventStore.Load([E(1, "a", 0), exposure]);
        var builder = new AnalyticsEventStoreBuilder();

        builder.Add(Lead(1), At(0), "a");
        builder.AddWithVariant(Lead(1), At(2), EventTypes.ExperimentExposed, "b", "headline", "google").ShouldBe(1);
        AnalyticsEventStore fromColumns = builder.Build();

        fromColumns.Terms.ShouldBe(fromEvents.Terms);
        fromColumns.Dimensions[AnalyticsEventStore.VariantDimension].ShouldBe(fromEvents.Dimensions[AnalyticsEventStore.VariantDimension]);
        fromColumns.DimensionValues[AnalyticsEventStore.VariantDimension].ShouldBe(fromEvents.DimensionValues[AnalyticsEventStore.VariantDimension]);
        Should.Throw<ArgumentNullException>(() => new AnalyticsEventStoreBuilder().AddWithVariant(Lead(1), At(0), EventTypes.ExperimentExposed, null!)).ParamName.ShouldBe("variant");
    }

    [Fact]
    public void Builder_RawAmountInAnotherCurrency_ThrowsAndAddsNothing()
    {
        var builder = new AnalyticsEventStoreBuilder();
        builder.AddSpend(At(0), Money.FromMajor(10m, Currency.USD));

        Should.Throw<InvalidOperationException>(() => builder.AddWithAmount(Lead(1), At(1), EventTypes.OrderPlaced, Money.FromMajor(5m, Currency.EUR))).Message.ShouldContain("EUR");
        Should.Throw<InvalidOperationException>(() => builder.AddSpend(At(1), Money.FromMajor(5m, Currency.EUR))).Message.ShouldContain("EUR");
        Should.Throw<ArgumentException>(() => builder.AddWithAmount(default, At(1), EventTypes.OrderPlaced, Money.FromMajor(5m, Currency.USD))).ParamName.ShouldBe("lead");

        builder.Count.ShouldBe(0);
        builder.Build().TotalAdSpend.ShouldBe(Money.FromMajor(10m, Currency.USD));
    }

    [Fact]
    public void Builder_AfterBuild_RefusesMoreEvents()
    {
        var builder = new AnalyticsEventStoreBuilder();
        builder.Add(Lead(1), Instant.FromUnixTimeSeconds(0), "a");
        builder.Build();

        Should.Throw<InvalidOperationException>(() => builder.Add(Lead(1), Instant.FromUnixTimeSeconds(1), "a"));
    }

    [Fact]
    public void Builder_BlankPropertyKey_ThrowsNamingTheIndex() =>
        Should.Throw<ArgumentException>(() => new AnalyticsEventStoreBuilder(new AnalyticsStoreOptions { PropertyKeys = ["ok", " "] })).Message.ShouldContain("PropertyKeys[1]");

    [Fact]
    public void Load_ManyLeadsOutOfOrder_GroupsSortsAndKeepsAmountsWithTheirEvents()
    {
        // Enough events for the builder to partition its work; times arrive shuffled; every order has its own amount.
        var random = new Random(5);
        var events = new List<FunnelEvent>();
        for (int i = 0; i < 60_000; i++)
        {
            int lead = random.Next(6_000);
            double minute = random.Next(100_000);
            events.Add(i % 10 == 0
                ? new OrderPlaced { LeadId = Lead(lead), OccurredAt = At(minute), Order = OrderId.New(), Offer = "x", Total = Money.FromMinorUnits(i, Currency.USD) }
                : E(lead, "step_" + (char)('a' + (i % 5)), minute, i % 3 == 0 ? "facebook" : null));
        }

        AnalyticsEventStore store = AnalyticsEventStore.Load(events);

        store.EventCount.ShouldBe(60_000);
        var expected = events.Cast<LeadEvent>().GroupBy(e => e.LeadId).ToDictionary(g => g.Key, g => g.Select(e => e.OccurredAt.ToUnixTimeTicks()).Order().ToArray());
        store.LeadCount.ShouldBe(expected.Count);
        for (int l = 0; l < store.LeadCount; l++)
        {
            store.Times[store.Offsets[l]..store.Offsets[l + 1]].ShouldBe(expected[store.LeadAt(l)]);
        }

        var orderTimes = events.OfType<OrderPlaced>().ToDictionary(o => o.Total.MinorUnits, o => (o.LeadId, o.OccurredAt.ToUnixTimeTicks()));
        for (int m = 0; m < store.MoneyEvents.Length; m++)
        {
            int at = store.MoneyEvents[m];
            (LeadId lead, long ticks) = orderTimes[store.MoneyAmounts[m]];
            store.Times[at].ShouldBe(ticks);
            store.TermTypes[store.Terms[at]].ShouldBe(EventTypes.OrderPlaced);
            int owner = Enumerable.Range(0, store.LeadCount).First(l => store.Offsets[l] <= at && at < store.Offsets[l + 1]);
            store.LeadAt(owner).ShouldBe(lead);
        }

        int withChannel = Enumerable.Range(0, store.EventCount).Count(i => store.Dimensions[0][i] != 0);
        withChannel.ShouldBe(events.Count(e => e.Attribution.Channel is not null));
    }

    [Fact]
    public void Builder_ManyLeads_KeepsEachLeadsEventsTogether()
    {
        var builder = new AnalyticsEventStoreBuilder();
        for (int i = 0; i < 200_000; i++)
        {
            builder.Add(Lead(i % 100_000), Instant.FromUnixTimeSeconds(i), "a");
        }

        AnalyticsEventStore store = builder.Build();

        store.LeadCount.ShouldBe(100_000);
        store.Offsets[^1].ShouldBe(200_000);
        Enumerable.Range(0, 100_000).All(l => store.Offsets[l + 1] - store.Offsets[l] == 2).ShouldBeTrue();
    }

    [Fact]
    public void Builder_ExactCapacity_BuildsTheSameStoreAsAGrowingBuilder()
    {
        // With the exact capacity the builder hands its own time and type columns to the store; without it, new ones are made.
        var exact = new AnalyticsEventStoreBuilder(capacity: 30_000);
        var growing = new AnalyticsEventStoreBuilder();
        var random = new Random(5);
        for (int i = 0; i < 30_000; i++)
        {
            LeadId lead = Lead(random.Next(3_000));
            Instant at = Instant.FromUnixTimeSeconds(random.Next(100_000));
            string type = random.Next(3) switch { 0 => "a", 1 => "b", _ => "c" };
            exact.Add(lead, at, type, channel: i % 2 == 0 ? "facebook" : null);
            growing.Add(lead, at, type, channel: i % 2 == 0 ? "facebook" : null);
        }

        AnalyticsEventStore fromExact = exact.Build();
        AnalyticsEventStore fromGrowing = growing.Build();

        fromExact.EventCount.ShouldBe(30_000);
        fromExact.Offsets.ShouldBe(fromGrowing.Offsets);
        fromExact.Times.ShouldBe(fromGrowing.Times);
        fromExact.Terms.ShouldBe(fromGrowing.Terms);
        fromExact.Dimensions[AnalyticsEventStore.ChannelDimension].ShouldBe(fromGrowing.Dimensions[AnalyticsEventStore.ChannelDimension]);
        Enumerable.Range(0, fromExact.LeadCount).Select(fromExact.LeadAt).ShouldBe(Enumerable.Range(0, fromGrowing.LeadCount).Select(fromGrowing.LeadAt));
        Enumerable.Range(0, fromExact.LeadCount).All(l => fromExact.Times.AsSpan(fromExact.Offsets[l], fromExact.Offsets[l + 1] - fromExact.Offsets[l]).ToArray()
            .SequenceEqual(fromExact.Times.AsSpan(fromExact.Offsets[l], fromExact.Offsets[l + 1] - fromExact.Offsets[l]).ToArray().Order())).ShouldBeTrue();
    }
}
