using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Events;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

[Properties(Arbitrary = new[] { typeof(AdvocacyArbitraries) }, MaxTest = 300)]
public class AffiliateProperties
{
    [Property]
    public Property RecurringCommissions_OverAPlan_SumToTheRuleAppliedToThePlanTotal(PlanCommissionCase c)
    {
        CommissionRule rule = c.Percent is { } p ? new CommissionRule { Percent = p } : new CommissionRule { Fixed = Cents(c.Fixed!.Value) };
        var (program, sarah, _) = ProgramWithAffiliate(Settings(rules: [rule]));
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, Cents(c.Total), T0));
        Money[] installments = [.. Cents(c.Total).Allocate(c.Installments)];

        long paidSoFar = 0;
        bool eachWithinOneMinorUnit = true;
        foreach (Money installment in installments)
        {
            long before = program.Stats(sarah.Id).Commission.MinorUnits;
            program.Apply(Paid(2, 1, installment, T0));
            long earned = program.Stats(sarah.Id).Commission.MinorUnits - before;
            paidSoFar += installment.MinorUnits;
            decimal exact = c.Percent is { } pct ? installment.MinorUnits * pct / 100m : (decimal)c.Fixed!.Value * installment.MinorUnits / c.Total;
            eachWithinOneMinorUnit &= Math.Abs(earned - exact) < 1m;
        }

        Money expected = c.Percent is { } percent ? Cents(c.Total).Percentage(percent, MidpointRounding.AwayFromZero) : Cents(c.Fixed!.Value);
        return (program.Stats(sarah.Id).Commission == expected).Label($"sum {program.Stats(sarah.Id).Commission} = rule on total {expected}")
            .And(eachWithinOneMinorUnit.Label("each installment within one minor unit of its exact share"))
            .And((paidSoFar == c.Total).Label("installments sum to the total"));
    }

    [Property]
    public Property Clawbacks_EurSaleInUsdProgramAsRatesChange_NeverExceedEarnedAndAFullRefundNetsToZero(ForeignSaleCase c)
    {
        LocalDate first = T0.InUtc().Date;
        FixedExchangeRates rates = FixedExchangeRates.Empty;
        for (int day = 0; day < c.DailyRates.Length; day++)
        {
            rates = rates.With(Currency.EUR, Currency.USD, c.DailyRates[day], first.PlusDays(day));
        }

        CommissionRule rule = c.Percent is { } p ? new CommissionRule { Percent = p } : new CommissionRule { Fixed = Cents(c.Fixed!.Value) };
        var (program, sarah, _) = ProgramWithAffiliate(Settings(rules: [rule]), rates);
        program.RecordClick("sarah", Lead(2));
        program.Apply(Placed(2, 1, new Money(c.Total, Currency.EUR), T0));
        long earned = 0, clawedBack = 0, paid = 0, refunded = 0;
        bool neverAhead = true;
        void Apply(FunnelEvent e)
        {
            foreach (FunnelEvent recorded in program.Apply(e))
            {
                earned += recorded is CommissionEarned x ? x.Amount.MinorUnits : 0;
                clawedBack += recorded is CommissionClawedBack y ? y.Amount.MinorUnits : 0;
            }

            neverAhead &= clawedBack <= earned;
        }

        for (int i = 0; i < c.Moves.Length; i++)
        {
            Instant at = T0 + Duration.FromDays(i + 1);
            long move = c.Moves[i];
            if (move > 0)
            {
                paid += move;
                Apply(Paid(2, 1, new Money(move, Currency.EUR), at));
            }
            else if (Math.Min(-move, paid - refunded) is var refund and > 0)
            {
                // A refund is at most what was paid and not yet refunded, as a payment provider allows.
                refunded += refund;
                Apply(Refunded(2, 1, new Money(refund, Currency.EUR), at));
            }
        }

        if (paid > refunded)
        {
            Apply(Refunded(2, 1, new Money(paid - refunded, Currency.EUR), T0 + Duration.FromDays(c.Moves.Length + 1)));
        }

        bool fullyRefunded = paid == 0 || clawedBack == earned;
        return neverAhead.Label($"clawback never ahead of earned ({clawedBack} vs {earned})")
            .And(fullyRefunded.Label($"a full refund claws back exactly what was earned ({clawedBack} vs {earned})"))
            .And((program.Stats(sarah.Id).Commission.MinorUnits == earned - clawedBack).Label("the ledger nets to earned minus clawed back"))
            .And((program.Stats(sarah.Id).Commission.Currency == Currency.USD).Label("commission in the program's currency"));
    }

    [Property]
    public Property Payouts_AnyHistory_NeverExceedApprovedCommissions(LedgerCase c)
    {
        var (program, sarah, clock) = ProgramWithAffiliate(Settings(minimumPayout: Cents(c.MinimumPayout)));
        var orders = new Dictionary<int, int>();
        int nextOrder = 1;
        long paidOut = 0;
        bool everyPayoutValid = true, neverAhead = true;
        foreach (LedgerOp op in c.Ops)
        {
            Instant now = clock.GetCurrentInstant();
            switch (op.Kind)
            {
                case 0:
                    program.RecordClick("sarah", Lead(op.Buyer));
                    break;
                case 1:
                    orders[op.Buyer] = nextOrder;
                    program.Apply(Placed(op.Buyer, nextOrder++, Cents(op.Amount * 3L), now));
                    break;
                case 2 when orders.TryGetValue(op.Buyer, out int order):
                    program.Apply(Paid(op.Buyer, order, Cents(op.Amount), now));
                    break;
                case 3 when orders.TryGetValue(op.Buyer, out int order):
                    program.Apply(Refunded(op.Buyer, order, Cents(op.Amount / 2 + 1), now));
                    break;
                case 4:
                    clock.Advance(Duration.FromDays(op.Amount % 45));
                    break;
                case 5:
                    program.ApproveCleared();
                    break;
                case 6:
                    long approvedBalance = program.Ledger(sarah.Id).Where(e => e.Status == CommissionStatus.Approved).Sum(e => e.Amount.MinorUnits);
                    if (program.PayOut(sarah.Id).Payout is { } payout)
                    {
                        everyPayoutValid &= payout.Amount.IsPositive && payout.Amount.MinorUnits >= c.MinimumPayout && payout.Amount.MinorUnits == approvedBalance;
                        paidOut += payout.Amount.MinorUnits;
                    }
                    else
                    {
                        everyPayoutValid &= approvedBalance <= 0 || approvedBalance < c.MinimumPayout;
                    }

                    break;
            }

            long paidEntries = program.Ledger(sarah.Id).Where(e => e.Status == CommissionStatus.Paid).Sum(e => e.Amount.MinorUnits);
            long approvedCommissions = program.Ledger(sarah.Id).Where(e => e.Status != CommissionStatus.Pending && e.Amount.IsPositive).Sum(e => e.Amount.MinorUnits);
            neverAhead &= paidOut == paidEntries && paidOut <= approvedCommissions;
        }

        return everyPayoutValid.Label("each payout is the whole approved balance, positive and at least the minimum; none is skipped wrongly")
            .And(neverAhead.Label("payouts equal the paid entries and never exceed the approved commissions"));
    }
}
