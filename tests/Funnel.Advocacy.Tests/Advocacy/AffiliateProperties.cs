using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Advocacy;
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
