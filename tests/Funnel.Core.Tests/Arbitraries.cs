using System;
using System.Collections.Immutable;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;

namespace Funnel.Tests;

/// <summary>Two amounts in the same currency.</summary>
public readonly record struct SameCurrencyPair(Money First, Money Second);

/// <summary>Two different currencies.</summary>
public readonly record struct DistinctCurrencies(Currency First, Currency Second);

/// <summary>A number of parts for <see cref="Money.Allocate(int)"/>, from 1 to 500.</summary>
public readonly record struct PartCount(int Value);

/// <summary>Non-negative allocation ratios with a positive sum.</summary>
public readonly record struct Ratios(ImmutableArray<long> Values)
{
    public override string ToString() => "[" + string.Join(", ", Values) + "]";
}

/// <summary>FsCheck generators for the money types; amounts stay below 10^15 minor units so sums cannot overflow.</summary>
public static class Arbitraries
{
    /// <summary>The exclusive bound on generated minor units.</summary>
    public const long MaxMinorUnits = 1_000_000_000_000_000;

    public static Gen<Currency> CurrencyGen { get; } = Gen.Elements(Funnel.Currency.All.ToArray());

    public static Gen<long> MinorUnitsGen { get; } = Gen.Frequency(
        (3, Gen.Choose(-10_000, 10_000).Select(static i => (long)i)),
        (2, from high in Gen.Choose(-999_999, 999_999)
            from low in Gen.Choose(-999_999_999, 999_999_999)
            select (high * 1_000_000_000L) + low));

    public static Gen<Money> MoneyGen { get; } =
        from minor in MinorUnitsGen
        from currency in CurrencyGen
        select new Money(minor, currency);

    public static Arbitrary<Currency> CurrencyArb() => Arb.From(CurrencyGen);

    public static Arbitrary<Money> MoneyArb() => Arb.From(MoneyGen);

    public static Arbitrary<SameCurrencyPair> SameCurrencyPairArb() => Arb.From(
        from currency in CurrencyGen
        from a in MinorUnitsGen
        from b in MinorUnitsGen
        select new SameCurrencyPair(new Money(a, currency), new Money(b, currency)));

    public static Arbitrary<DistinctCurrencies> DistinctCurrenciesArb() => Arb.From(
        from first in CurrencyGen
        from second in CurrencyGen.Where(c => c != first)
        select new DistinctCurrencies(first, second));

    public static Arbitrary<PartCount> PartCountArb() => Arb.From(
        Gen.Frequency(
            (4, Gen.Choose(1, 12)),
            (1, Gen.Choose(13, 500)))
        .Select(static n => new PartCount(n)));

    public static Arbitrary<Ratios> RatiosArb() => Arb.From(
        Gen.Frequency(
                (4, Gen.Choose(0, 100).Select(static i => (long)i)),
                (1, Gen.Choose(0, int.MaxValue).Select(static i => (long)i * 1_000)))
            .NonEmptyListOf()
            .Where(static list => list.Any(static r => r > 0))
            .Select(static list => new Ratios(list.ToImmutableArray())));

    public static Arbitrary<MidpointRounding> MidpointRoundingArb() => Arb.From(
        Gen.Elements(Enum.GetValues<MidpointRounding>()));
}
