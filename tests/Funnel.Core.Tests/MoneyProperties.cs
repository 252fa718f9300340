using System;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Funnel.Tests;

[Properties(Arbitrary = new[] { typeof(Arbitraries) })]
public class MoneyProperties
{
    [Property]
    public bool AddThenSubtract_SameCurrency_ReturnsOriginal(SameCurrencyPair pair)
    {
        var (a, b) = pair;
        return a + b - b == a;
    }

    [Property]
    public bool Add_SameCurrency_IsCommutative(SameCurrencyPair pair)
    {
        var (a, b) = pair;
        return a + b == b + a;
    }

    [Property]
    public Property Allocate_AnyParts_SumsToTotalAndPartsDifferByAtMostOne(Money money, PartCount count)
    {
        var parts = money.Allocate(count.Value);
        var units = parts.Select(p => p.MinorUnits).ToList();

        return (parts.Length == count.Value).Label("part count")
            .And((Money.Sum(parts, money.Currency) == money).Label("sums to total"))
            .And((units.Max() - units.Min() <= 1).Label("differ by at most one"))
            .And(units.Select(Math.Abs).SequenceEqual(units.Select(Math.Abs).OrderDescending()).Label("larger parts first"))
            .And(parts.All(p => p.Currency == money.Currency).Label("same currency"));
    }

    [Property]
    public bool Allocate_NegatedAmount_IsNegatedAllocation(Money money, PartCount count) =>
        money.Negate().Allocate(count.Value).SequenceEqual(money.Allocate(count.Value).Select(p => -p));

    [Property]
    public Property AllocateWeighted_AnyRatios_SumsToTotalAndStaysWithinOneUnitOfExactShare(Money money, Ratios ratios)
    {
        var parts = money.Allocate(ratios.Values);
        var total = ratios.Values.Aggregate(Int128.Zero, (sum, r) => sum + r);
        var withinOne = parts.Select((part, i) =>
        {
            // |part * total - money * ratio| < total  <=>  part is within one minor unit of the exact share.
            var error = ((Int128)part.MinorUnits * total) - ((Int128)money.MinorUnits * ratios.Values[i]);
            return Int128.Abs(error) < total;
        });

        return (parts.Length == ratios.Values.Length).Label("part count")
            .And((Money.Sum(parts, money.Currency) == money).Label("sums to total"))
            .And(withinOne.All(ok => ok).Label("within one unit of exact share"))
            .And((parts.Where((_, i) => ratios.Values[i] == 0).All(p => p.IsZero)).Label("zero ratio gets zero"));
    }

    [Property]
    public bool AllocateWeighted_EqualRatios_MatchesAllocateByParts(Money money, PartCount count) =>
        money.Allocate(Enumerable.Repeat(5L, count.Value).ToList()).SequenceEqual(money.Allocate(count.Value));

    [Property]
    public Property Mixing_DifferentCurrencies_AlwaysThrows(DistinctCurrencies currencies, long a, long b)
    {
        var left = new Money(a, currencies.First);
        var right = new Money(b, currencies.Second);

        return Throws(() => left + right).Label("+")
            .And(Throws(() => left - right).Label("-"))
            .And(Throws(() => left.CompareTo(right)).Label("CompareTo"))
            .And(Throws(() => left < right).Label("<"))
            .And(Throws(() => left >= right).Label(">="))
            .And(Throws(() => Money.Sum([left, right], currencies.First)).Label("Sum"))
            .And((!left.Equals(right) && left != right).Label("not equal"));
    }

    [Property]
    public bool Parse_ToStringOutput_RoundTrips(Money money) => Money.Parse(money.ToString()) == money;

    [Property]
    public bool Parse_NumberFormatWithCode_RoundTrips(Money money) =>
        Money.Parse(money.Currency.Code + " " + money.ToString("N", null)) == money;

    [Property]
    public bool Percentage_Hundred_ReturnsSameAmount(Money money, MidpointRounding rounding) =>
        money.Percentage(100m, rounding) == money;

    [Property]
    public bool MultiplyDecimal_WholeFactor_MatchesMultiplyLong(Money money, short factor, MidpointRounding rounding) =>
        money.Multiply((decimal)factor, rounding) == money.Multiply(factor);

    [Property]
    public bool FromMajor_ToMajor_RoundTrips(Money money) =>
        Money.FromMajor(money.ToMajor(), money.Currency) == money;

    [Property]
    public bool Divide_ThenMultiply_StaysWithinDivisor(Money money, PartCount divisor) =>
        Math.Abs(money.MinorUnits - money.Divide(divisor.Value, MidpointRounding.ToZero).Multiply(divisor.Value).MinorUnits) < divisor.Value;

    private static bool Throws(Func<object> action)
    {
        try
        {
            action();
            return false;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message.Contains("currencies must match", StringComparison.Ordinal);
        }
    }
}
