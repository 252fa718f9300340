using FsCheck;
using FsCheck.Fluent;
using Funnel.Events;
using NodaTime;

namespace Funnel.Tests.Currencies;

/// <summary>Money events in several currencies and a rate from each to the target currency.</summary>
public sealed record RevenueCase(IReadOnlyList<FunnelEvent> Events, IReadOnlyDictionary<Currency, decimal> Rates, Currency Target)
{
    public override string ToString() =>
        $"{Events.Count} events [{string.Join(", ", Events.Select(e => e switch { OrderPlaced o => "o " + o.Total, PaymentSucceeded p => "p " + p.Amount, RefundIssued r => "r " + r.Amount, _ => "?" }))}] " +
        $"rates [{string.Join(", ", Rates.Select(r => $"{r.Key}={r.Value}"))}] into {Target}";
}

/// <summary>FsCheck generators for price lists and revenue per currency.</summary>
public static class PriceListArbitraries
{
    /// <summary>Currencies with 2, 0 and 3 decimals.</summary>
    public static readonly Currency[] Currencies = [Currency.USD, Currency.EUR, Currency.GBP, Currency.JPY, Currency.FromCode("BHD")];

    public static Arbitrary<RevenueCase> RevenueCaseArb()
    {
        Gen<FunnelEvent> events =
            from n in Gen.Choose(1, 5)
            from kind in Gen.Choose(0, 2)
            from currency in Gen.Elements(Currencies)
            from amount in Gen.Choose(1, 50_000_000)
            let money = new Money(amount, currency)
            let lead = new LeadId(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))
            let at = Instant.FromUtc(2026, 12, 1, 0, 0)
            select kind switch
            {
                0 => (FunnelEvent)new OrderPlaced { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Offer = "offer", Total = money },
                1 => new PaymentSucceeded { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Amount = money },
                _ => new RefundIssued { LeadId = lead, OccurredAt = at, Order = OrderId.New(), Amount = money },
            };

        return Arb.From(
            from count in Gen.Choose(0, 40)
            from list in Gen.ArrayOf(events, count)
            from rates in Gen.ArrayOf(Gen.Choose(1, 2_000_000).Select(r => r / 10_000m), Currencies.Length)
            from target in Gen.Elements(Currencies)
            select new RevenueCase([.. list], Currencies.Zip(rates).ToDictionary(p => p.First, p => p.First == target ? 1m : p.Second), target));
    }
}
