using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

/// <summary>Sales in another currency than the affiliate program's, converted at one rate per sale.</summary>
public class AffiliateCurrencyTests
{
    private static readonly LocalDate OrderDay = T0.InUtc().Date;

    /// <summary>EUR → USD at 1.10 until the order's day, 1.25 from twenty days later.</summary>
    private static readonly FixedExchangeRates EurToUsd = FixedExchangeRates.Empty
        .With(Currency.EUR, Currency.USD, 1.10m, OrderDay.PlusDays(-10))
        .With(Currency.EUR, Currency.USD, 1.25m, OrderDay.PlusDays(20));

    private static Money Eur(decimal amount) => Money.FromMajor(amount, Currency.EUR);

    private static Money Yen(long amount) => new(amount, Currency.JPY);

    [Fact]
    public async Task Apply_EurSaleInUsdProgram_EarnsAtTheOrderDaysRateAndKeepsTheRateOnTheSale()
    {
        var sales = new InMemoryAffiliateSaleStore();
        var clock = new FakeClock(T0);
        var program = new AffiliateProgram(
            Settings(), new InMemoryAffiliateStore(), new InMemoryAffiliateClickStore(), sales, new InMemoryAffiliatePayoutStore(), clock,
            new InMemoryFunnelEventLog(), EurToUsd);
        Affiliate sarah = program.Decide(program.Enrol(Lead(1), "sarah").Affiliate.Id, true).Affiliate;
        program.RecordClick("sarah", Lead(2));

        program.Apply(Placed(2, 1, Eur(100), T0)).ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>().Amount.ShouldBe(Usd(110));
        program.Apply(Paid(2, 1, Eur(100), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(33));

        AffiliateSale sale = (await sales.FindAsync(OrderNo(1))).ShouldNotBeNull();
        sale.ExchangeRate.ShouldBe(1.10m);
        sale.Total.ShouldBe(Eur(100));
        sale.Paid.ShouldBe(Eur(100));
        sale.Earned.ShouldBe(Usd(33));
        AffiliateStats stats = program.Stats(sarah.Id);
        stats.Sales.ShouldBe(Usd(110));
        stats.Commission.ShouldBe(Usd(33));
    }

    [Fact]
    public void Apply_RefundOnALaterDayWithAnotherTableRate_ClawsBackAtTheSalesRate()
    {
        var (program, sarah, _) = ProgramWithAffiliate(rates: EurToUsd);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Eur(100), T0));
        program.Apply(Paid(2, 1, Eur(100), T0));
        Instant later = T0 + Duration.FromDays(25);

        program.Apply(Refunded(2, 1, Eur(50), later)).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(16.50m));
        program.Apply(Refunded(2, 1, Eur(50), later)).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(16.50m));

        program.Stats(sarah.Id).Commission.ShouldBe(Usd(0));
        program.Ledger(sarah.Id).Sum(e => e.ClawedBack.MinorUnits).ShouldBe(3_300);
    }

    [Fact]
    public void Apply_PaymentPlanInEurPaidAcrossRateChanges_EarnsTheRuleOnTheTotalAtTheSalesRate()
    {
        var (program, sarah, _) = ProgramWithAffiliate(rates: EurToUsd);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Eur(99.99m), T0));

        for (int k = 0; k < 3; k++)
        {
            program.Apply(Paid(2, 1, Eur(33.33m), T0 + Duration.FromDays(30 * k)));
        }

        // €99.99 × 1.10 = $109.989 → $109.99, of which 30% is $32.997 → $33.00: the rule on the total, not per day's rate.
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(33.00m));
    }

    [Fact]
    public void Apply_ChargebackAndWonDisputeInEur_ConvertAtTheSalesRate()
    {
        var (program, sarah, _) = ProgramWithAffiliate(rates: EurToUsd);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Eur(100), T0));
        program.Apply(Paid(2, 1, Eur(100), T0));
        Instant later = T0 + Duration.FromDays(40);

        program.Apply(Disputed(2, 1, Eur(100), later)).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(33));
        program.Apply(DisputeWon(2, 1, Eur(100), later + Duration.FromDays(10))).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(33));

        program.Stats(sarah.Id).Commission.ShouldBe(Usd(33));
    }

    [Fact]
    public void Apply_JpySaleInUsdProgram_ConvertsFromZeroDecimals()
    {
        var rates = FixedExchangeRates.Empty.With(Currency.JPY, Currency.USD, 0.0067m);
        var (program, sarah, _) = ProgramWithAffiliate(rates: rates);
        program.RecordClick("sarah", Lead(2));

        program.Apply(Placed(2, 1, Yen(10_000), T0)).ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>().Amount.ShouldBe(Usd(67));
        program.Apply(Paid(2, 1, Yen(10_000), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(20.10m));
        // ¥3,333 of ¥10,000 refunded claws back round($20.10 × 0.3333) = $6.70, computed in yen exactly.
        program.Apply(Refunded(2, 1, Yen(3_333), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(6.70m));
        program.Apply(Refunded(2, 1, Yen(6_667), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionClawedBack>().Amount.ShouldBe(Usd(13.40m));
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(0));
    }

    [Fact]
    public void Apply_UsdSaleInJpyProgram_RoundsTheCommissionToWholeYen()
    {
        var rates = FixedExchangeRates.Empty.With(Currency.USD, Currency.JPY, 150.37m);
        AffiliateProgramSettings settings = Settings(percent: 10m) with { Currency = Currency.JPY };
        var (program, _, _) = ProgramWithAffiliate(settings, rates);
        program.RecordClick("sarah", Lead(2));

        // $49.99 × 150.37 = ¥7,516.9963 → ¥7,517, of which 10% is ¥751.7 → ¥752.
        program.Apply(Placed(2, 1, Usd(49.99m), T0)).ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>().Amount.ShouldBe(Yen(7_517));
        program.Apply(Paid(2, 1, Usd(49.99m), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Yen(752));
    }

    [Fact]
    public void Apply_FixedCommissionOnEurSale_PaysTheFixedAmountInTheProgramsCurrency()
    {
        var (program, sarah, _) = ProgramWithAffiliate(Settings(rules: [new CommissionRule { Fixed = Usd(50) }]), EurToUsd);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Eur(300), T0));

        program.Apply(Paid(2, 1, Eur(100), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(16.67m));
        program.Apply(Paid(2, 1, Eur(200), T0)).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(33.33m));
        program.Stats(sarah.Id).Commission.ShouldBe(Usd(50));
    }

    [Fact]
    public void Apply_EurSaleWithoutExchangeRates_ThrowsNamingTheCurrenciesAndIExchangeRates()
    {
        var (program, sarah, _) = ProgramWithAffiliate();
        program.RecordClick("sarah", Lead(2));

        var error = Should.Throw<InvalidOperationException>(() => program.Apply(Placed(2, 1, Eur(100), T0)));

        error.Message.ShouldContain("EUR");
        error.Message.ShouldContain("USD");
        error.Message.ShouldContain("IExchangeRates");
        program.AttributedTo(OrderNo(1)).ShouldBeNull();
        program.GetAffiliate(sarah.Id).SalesNumbered.ShouldBe(0);
    }

    [Fact]
    public void Apply_EurSaleWithNoRateOnTheOrdersDay_ThrowsNamingTheDate()
    {
        var rates = FixedExchangeRates.Empty.With(Currency.EUR, Currency.USD, 1.10m, OrderDay.PlusDays(1));
        var (program, _, _) = ProgramWithAffiliate(rates: rates);
        program.RecordClick("sarah", Lead(2));

        var error = Should.Throw<InvalidOperationException>(() => program.Apply(Placed(2, 1, Eur(100), T0)));

        error.Message.ShouldContain("from EUR to USD on 2026-10-05");
        error.Message.ShouldContain("IExchangeRates");
    }

    [Fact]
    public void Apply_EurOrderNoAffiliateEarnsOn_NeedsNoRate()
    {
        var (program, _, _) = ProgramWithAffiliate();

        program.Apply(Placed(2, 1, Eur(100), T0)).ShouldBeEmpty();
        program.Apply(Paid(2, 1, Eur(100), T0)).ShouldBeEmpty();
    }

    [Fact]
    public void Apply_PaymentInAnotherCurrencyThanItsOrder_Throws()
    {
        var (program, _, _) = ProgramWithAffiliate(rates: EurToUsd);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Eur(100), T0));

        Should.Throw<InvalidOperationException>(() => program.Apply(Paid(2, 1, Usd(110), T0))).Message.ShouldContain("its order's currency");
    }

    [Fact]
    public async Task AddFunnelAdvocacy_ExchangeRatesRegistered_TheAffiliateProgramConvertsWithThem()
    {
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(new FakeClock(T0))
            .AddSingleton<IExchangeRates>(EurToUsd)
            .AddSingleton(Settings())
            .AddFunnelAdvocacy()
            .BuildServiceProvider();
        AffiliateProgram program = provider.GetRequiredService<AffiliateProgram>();
        Affiliate sarah = (await program.EnrolAsync(Lead(1), "sarah")).Affiliate;
        await program.DecideAsync(sarah.Id, approve: true);
        await program.RecordClickAsync("sarah", Lead(2));

        (await program.ApplyAsync(Placed(2, 1, Eur(100), T0))).ShouldHaveSingleItem().ShouldBeOfType<AffiliateSaleAttributed>().Amount.ShouldBe(Usd(110));
        (await program.ApplyAsync(Paid(2, 1, Eur(100), T0))).ShouldHaveSingleItem().ShouldBeOfType<CommissionEarned>().Amount.ShouldBe(Usd(33));
    }
}
