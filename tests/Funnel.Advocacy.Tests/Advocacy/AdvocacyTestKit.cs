using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Payments;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Advocacy;

/// <summary>Builders for affiliate and referral tests.</summary>
internal static class AdvocacyTestKit
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8));

    public static OrderId OrderNo(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8));

    public static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    public static Money Cents(long cents) => new(cents, Currency.USD);

    public static AffiliateProgramSettings Settings(decimal percent = 30m, Money? minimumPayout = null, AffiliateAttributionModel model = AffiliateAttributionModel.LastClick, ImmutableArray<CommissionRule> rules = default) => new()
    {
        Currency = Currency.USD,
        Rules = rules.IsDefault ? [new CommissionRule { Percent = percent }] : rules,
        Attribution = model,
        MinimumPayout = minimumPayout,
    };

    /// <summary>A program with one approved affiliate (lead 1, code <c>sarah</c>).</summary>
    public static (AffiliateProgram Program, Affiliate Affiliate, FakeClock Clock) ProgramWithAffiliate(AffiliateProgramSettings? settings = null, IExchangeRates? rates = null)
    {
        var clock = new FakeClock(T0);
        var program = InMemoryEngines.Affiliates(settings ?? Settings(), clock, rates: rates);
        Affiliate affiliate = program.Enrol(Lead(1), "sarah").Affiliate;
        affiliate = program.Decide(affiliate.Id, approve: true).Affiliate;
        return (program, affiliate, clock);
    }

    public static OrderPlaced Placed(int buyer, int order, Money total, Instant at, string offer = "masterclass") =>
        new() { LeadId = Lead(buyer), Order = OrderNo(order), Offer = offer, Total = total, OccurredAt = at };

    public static PaymentSucceeded Paid(int buyer, int order, Money amount, Instant at) =>
        new() { LeadId = Lead(buyer), Order = OrderNo(order), Amount = amount, OccurredAt = at };

    public static PaymentDisputed Disputed(int buyer, int order, Money amount, Instant at) =>
        new() { LeadId = Lead(buyer), Order = OrderNo(order), Amount = amount, PaymentId = "pi_1", Reason = "fraudulent", OccurredAt = at };

    public static DisputeClosed DisputeWon(int buyer, int order, Money amount, Instant at) =>
        new() { LeadId = Lead(buyer), Order = OrderNo(order), Amount = amount, DisputeId = "dp_1", PaymentId = "pi_1", Won = true, OccurredAt = at };

    public static RefundIssued Refunded(int buyer, int order, Money amount, Instant at) =>
        new() { LeadId = Lead(buyer), Order = OrderNo(order), Amount = amount, OccurredAt = at };
}
