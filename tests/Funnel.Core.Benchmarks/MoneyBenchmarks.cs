using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;

namespace Funnel.Benchmarks;

/// <summary>Money arithmetic on the pricing path: installment allocation and percentage discounts.</summary>
[MemoryDiagnoser]
public class MoneyBenchmarks
{
    private readonly Money price = Money.FromMajor(497m, Currency.USD);

    [Benchmark]
    public ImmutableArray<Money> AllocateThreeInstallments() => price.Allocate(3);

    [Benchmark]
    public Money TenPercentOff() => price - price.Percentage(10m, MidpointRounding.AwayFromZero);
}
