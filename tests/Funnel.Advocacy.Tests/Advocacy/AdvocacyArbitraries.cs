using FsCheck;
using FsCheck.Fluent;

namespace Funnel.Tests.Advocacy;

/// <summary>A plan total split into installments, with a percentage or fixed commission rule.</summary>
public sealed record PlanCommissionCase(long Total, int Installments, decimal? Percent, long? Fixed)
{
    public override string ToString() => $"{Installments} installments of {Total}, rule {Percent}% / fixed {Fixed}";
}

/// <summary>One step of a random affiliate program history.</summary>
public readonly record struct LedgerOp(int Kind, int Buyer, int Amount)
{
    public override string ToString() => $"{Kind}:{Buyer}:{Amount}";
}

/// <summary>A random affiliate program history with a minimum payout.</summary>
public sealed record LedgerCase(LedgerOp[] Ops, long MinimumPayout)
{
    public override string ToString() => $"min {MinimumPayout}: {string.Join(" ", Ops)}";
}

/// <summary>
/// A sale in EUR to a program in USD: the order total, the rule, one EUR → USD rate per day (the table changes daily)
/// and payments (positive) and refunds (negative) of the order, each a day after the one before.
/// </summary>
public sealed record ForeignSaleCase(long Total, decimal? Percent, long? Fixed, decimal[] DailyRates, long[] Moves)
{
    public override string ToString() =>
        $"€{Total} rule {Percent}% / fixed {Fixed}, rates {string.Join(" ", DailyRates)}, moves {string.Join(" ", Moves)}";
}

/// <summary>FsCheck generators for affiliate commissions, kept out of the shared Arbitraries.</summary>
public static class AdvocacyArbitraries
{
    public static Arbitrary<PlanCommissionCase> PlanCommissionCaseArb()
    {
        Gen<PlanCommissionCase> gen =
            from total in Gen.Choose(1, 5_000_000)
            from n in Gen.Choose(1, 12)
            from usePercent in Gen.Elements(true, false)
            from basisPoints in Gen.Choose(1, 1_000_000)
            from fixedAmount in Gen.Choose(1, 1_000_000)
            select new PlanCommissionCase(total, n, usePercent ? basisPoints / 10_000m : null, usePercent ? null : fixedAmount);
        return gen.ToArbitrary();
    }

    public static Arbitrary<LedgerCase> LedgerCaseArb()
    {
        Gen<LedgerOp> op =
            from kind in Gen.Choose(0, 6)
            from buyer in Gen.Choose(2, 5)
            from amount in Gen.Choose(1, 100_000)
            select new LedgerOp(kind, buyer, amount);
        Gen<LedgerCase> gen =
            from count in Gen.Choose(0, 60)
            from ops in Gen.ArrayOf(op, count)
            from min in Gen.Choose(0, 50_000)
            select new LedgerCase(ops, min);
        return gen.ToArbitrary();
    }

    public static Arbitrary<ForeignSaleCase> ForeignSaleCaseArb()
    {
        Gen<long> move =
            from refund in Gen.Elements(false, false, true)
            from amount in Gen.Choose(1, 2_000_000)
            select refund ? -(long)amount : amount;
        Gen<ForeignSaleCase> gen =
            from total in Gen.Choose(1, 5_000_000)
            from usePercent in Gen.Elements(true, false)
            from basisPoints in Gen.Choose(1, 1_000_000)
            from fixedAmount in Gen.Choose(1, 1_000_000)
            from count in Gen.Choose(1, 20)
            from moves in Gen.ArrayOf(move, count)
            from rates in Gen.ArrayOf(Gen.Choose(1, 40_000).Select(r => r / 10_000m), count + 2)
            select new ForeignSaleCase(total, usePercent ? basisPoints / 10_000m : null, usePercent ? null : fixedAmount, rates, moves);
        return gen.ToArbitrary();
    }
}
