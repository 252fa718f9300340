using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Offers;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Tests.Tax;

/// <summary>A cart over the tax test catalogue, a buyer's country, and how the seller prices.</summary>
public sealed record TaxCase(Cart Cart, string Country, bool Inclusive, string? VatNumber)
{
    public override string ToString() =>
        $"{(Inclusive ? "incl." : "excl.")} {Country} vat={VatNumber} lines [{string.Join(", ", Cart.Lines)}] codes [{string.Join(", ", Cart.CouponCodes)}]";
}

/// <summary>A set of line amounts and rates to tax.</summary>
public sealed record AmountsCase(long[] Amounts, long[] Rates, bool Inclusive, TaxRounding Rounding)
{
    public override string ToString() => $"{Rounding} {(Inclusive ? "incl." : "excl.")} [{string.Join(", ", Amounts.Zip(Rates, (a, r) => $"{a}@{r}"))}]";
}

/// <summary>FsCheck generators for tax.</summary>
public static class TaxArbitraries
{
    public static Arbitrary<TaxCase> TaxCaseArb()
    {
        OfferId[] offers = [.. TaxTestKit.Catalogue.Offers.Select(o => o.Id)];
        string[] countries = [.. VatRateTable.Default.Countries, "US", "CH"];
        string?[] numbers = [null, null, "FR40303265045", "DE136308783", "GB980780684", "NL806753742B01"];
        string[] codes = [.. TaxTestKit.Catalogue.Coupons.Select(c => c.Code)];
        Gen<CartLine> line =
            from offer in Gen.Elements(offers)
            from quantity in Gen.Choose(1, 5)
            from plan in Gen.Elements(true, false)
            let planKey = plan ? TaxTestKit.Catalogue.Offers.Single(o => o.Id == offer).PaymentPlans.Select(p => p.Key).FirstOrDefault() : null
            select new CartLine(offer, quantity, planKey);
        Gen<TaxCase> gen =
            from count in Gen.Choose(1, 5)
            from lines in Gen.ArrayOf(line, count)
            from useCoupon in Gen.Elements(true, false)
            from code in Gen.Elements(codes)
            from country in Gen.Elements(countries)
            from inclusive in Gen.Elements(true, false)
            from number in Gen.Elements(numbers)
            select new TaxCase(new Cart { Lines = [.. lines], CouponCodes = useCoupon ? [code] : [] }, country, inclusive, number);
        return gen.ToArbitrary();
    }

    public static Arbitrary<AmountsCase> AmountsCaseArb()
    {
        long[] rates = [.. VatRateTable.Default.Rates.Select(r => TaxMath.Scaled(r.Rate)).Distinct()];
        Gen<long> amount =
            from a in Gen.Choose(0, int.MaxValue)
            from scale in Gen.Elements(1L, 1L, 1_000L)
            from small in Gen.Choose(0, 10)
            select scale == 1 && small < 5 ? small : a * scale;
        Gen<AmountsCase> gen =
            from count in Gen.Choose(1, 8)
            from amounts in Gen.ArrayOf(amount, count)
            from chosen in Gen.ArrayOf(Gen.Elements(rates), count)
            from inclusive in Gen.Elements(true, false)
            from rounding in Gen.Elements(TaxRounding.PerLine, TaxRounding.PerInvoice)
            select new AmountsCase(amounts, chosen, inclusive, rounding);
        return gen.ToArbitrary();
    }
}

[Properties(Arbitrary = new[] { typeof(TaxArbitraries) }, MaxTest = 300)]
public class TaxProperties
{
    [Property]
    public Property Taxes_AnyAmounts_AreNeverNegativeAndInclusiveNeverExceedsTheAmount(AmountsCase c)
    {
        long[] taxes = TaxMath.Taxes(c.Amounts, c.Rates, c.Inclusive, c.Rounding, Currency.EUR);

        return taxes.All(t => t >= 0).Label("tax >= 0")
            .And((!c.Inclusive || taxes.Zip(c.Amounts).All(p => p.First <= p.Second)).Label("inclusive: net = amount - tax >= 0"))
            .And(PerRateTotalsHold(c, taxes).Label("per invoice: each rate's lines carry exactly the tax of their total"));
    }

    [Property]
    public Property Taxes_PerInvoice_SplitEachRatesTaxAsMoneyAllocateDoes(AmountsCase c)
    {
        long[] taxes = TaxMath.Taxes(c.Amounts, c.Rates, c.Inclusive, TaxRounding.PerInvoice, Currency.EUR);

        return c.Rates.Distinct().All(rate =>
        {
            int[] members = [.. Enumerable.Range(0, c.Amounts.Length).Where(i => c.Rates[i] == rate)];
            long tax = TaxMath.TaxOf(members.Sum(i => c.Amounts[i]), rate, c.Inclusive);
            if (tax == 0 || members.Length == 1)
            {
                return members.All(i => taxes[i] == (members.Length == 1 ? tax : 0));
            }

            long[] expected = [.. new Money(tax, Currency.EUR).Allocate([.. members.Select(i => c.Amounts[i])]).Select(m => m.MinorUnits)];
            return members.Select(i => taxes[i]).SequenceEqual(expected);
        }).Label("the 64-bit split gives Money.Allocate's shares, ties to the earlier line");
    }

    [Property]
    public Property Calculate_AnyCartAndBuyer_IsExactAndSumsToTheTotal(TaxCase c)
    {
        Quote quote = TaxTestKit.Prices.Price(c.Cart, TaxTestKit.At, DateTimeZone.Utc);
        var buyer = new BuyerTaxDetails { Evidence = TaxTestKit.In(c.Country), VatNumber = c.VatNumber };
        TaxBreakdown breakdown = TaxTestKit.Calculator(c.Inclusive).CalculateAsync(TaxTestKit.Request(quote, buyer)).GetAwaiter().GetResult();
        Quote taxed = quote.WithTax(breakdown);
        long scheduled = taxed.Schedule.Sum(s => s.Amount.MinorUnits);

        return breakdown.Lines.All(l => !l.Tax.IsNegative && !l.Net.IsNegative && l.Net + l.Tax == l.Gross).Label("each line: gross = net + tax, none negative")
            .And(breakdown.Lines.Zip(quote.Lines).All(p => (c.Inclusive ? p.First.Gross : p.First.Net) == p.Second.Total).Label("the price is the gross (incl.) or the net (excl.)"))
            .And((breakdown.Lines.Sum(l => l.Tax.MinorUnits) == breakdown.Tax.MinorUnits).Label("line taxes sum to the tax"))
            .And((breakdown.Lines.Sum(l => l.Gross.MinorUnits) == breakdown.Gross.MinorUnits && breakdown.Net + breakdown.Tax == breakdown.Gross).Label("gross = net + tax"))
            .And((taxed.Total == breakdown.Gross).Label("the taxed total is the gross"))
            .And((scheduled == taxed.Total.MinorUnits).Label("the schedule sums to the taxed total"))
            .And((!taxed.Total.IsNegative).Label("total >= 0"));
    }

    private static bool PerRateTotalsHold(AmountsCase c, long[] taxes)
    {
        if (c.Rounding != TaxRounding.PerInvoice)
        {
            return taxes.Select((t, i) => t == TaxMath.TaxOf(c.Amounts[i], c.Rates[i], c.Inclusive)).All(x => x);
        }

        return c.Rates.Distinct().All(rate =>
        {
            int[] members = [.. Enumerable.Range(0, c.Amounts.Length).Where(i => c.Rates[i] == rate)];
            return members.Sum(i => taxes[i]) == TaxMath.TaxOf(members.Sum(i => c.Amounts[i]), rate, c.Inclusive);
        });
    }
}
