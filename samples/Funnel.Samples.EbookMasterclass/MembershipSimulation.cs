using System.Globalization;
using Funnel.Events;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>
/// The "Masterclass Community" membership sold to the launch's buyers: $49 a month with a 14-day free trial, or $490 a
/// year paid up front, and a $99-a-month coaching tier members can upgrade to. Its subscription events are simulated, seeded, over the months after the launch, and its MRR,
/// net revenue retention, churn and trial conversion are computed from them by <see cref="SubscriptionMetrics"/>.
/// </summary>
public static class MembershipSimulation
{
    public static readonly OfferId CommunityMonthly = "masterclass-community-monthly";
    public static readonly OfferId CommunityYearly = "masterclass-community-yearly";
    public static readonly OfferId CommunityCoaching = "masterclass-community-coaching";
    public static readonly Money MonthlyPrice = Money.FromMajor(49m, Currency.USD);
    public static readonly Money YearlyPrice = Money.FromMajor(490m, Currency.USD);
    public static readonly Money CoachingPrice = Money.FromMajor(99m, Currency.USD);
    public static readonly Duration Trial = Duration.FromDays(14);

    /// <summary>The zone whose calendar months the report uses: the sample's <c>America/New_York</c>.</summary>
    public static DateTimeZone Zone { get; } = DateTimeZoneProviders.Tzdb["America/New_York"];

    /// <summary>The end of the simulation: midnight starting February 1, 2027, in New York.</summary>
    public static Instant Horizon { get; } = Zone.AtStartOfDay(new LocalDate(2027, 2, 1)).ToInstant();

    /// <summary>Simulates the membership of the launch's buyers: who subscribes, converts, renews, changes plan, pauses or leaves.</summary>
    /// <remarks>
    /// Each Masterclass buyer is offered the community on the thank-you page: 15% take the yearly plan, 60% start the
    /// monthly trial, the rest decline. 70% of trials convert on day 14, the others lapse. In each monthly period a
    /// member may upgrade to the $99 coaching tier mid-period (6%), move to the yearly plan mid-period (8%), schedule a
    /// cancellation for the period's end (6%), pause for a month (5%), or fail to pay and be ended by dunning a week
    /// later (3%); otherwise the period renews.
    /// </remarks>
    public static IReadOnlyList<FunnelEvent> GenerateEvents(IReadOnlyList<FunnelEvent> launch, int seed)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var random = new Random(unchecked(seed * 31 + 6));
        var events = new List<FunnelEvent>();
        foreach (OrderPlaced order in launch.OfType<OrderPlaced>().Where(o => o.Offer == MasterclassScenario.Masterclass).OrderBy(o => o.OccurredAt))
        {
            int roll = random.Next(100);
            if (roll >= 75)
            {
                continue;
            }

            var member = new Member(random, events, order.LeadId, order.OccurredAt + Duration.FromMinutes(random.Next(2, 20)));
            if (roll < 15)
            {
                member.StartYearly();
            }
            else
            {
                member.StartTrial();
            }
        }

        // What happens after the horizon (a dunning end a week after a failed renewal) is not known yet on that date.
        events.RemoveAll(e => e.OccurredAt >= Horizon);
        events.Sort(static (a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        return events;
    }

    /// <summary>Prints the membership's MRR, its monthly movements, retention, churn and trial conversion.</summary>
    public static void Print(IReadOnlyList<FunnelEvent> events, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        CultureInfo c = CultureInfo.InvariantCulture;
        SubscriptionMetrics metrics = SubscriptionMetrics.Create(events);
        RecurringRevenueSnapshot now = metrics.At(Horizon);
        output.WriteLine();
        output.WriteLine("Membership: Masterclass Community ($49/month with a 14-day free trial, or $490/year; coaching tier $99/month)");
        output.WriteLine(string.Create(c,
            $"MRR on {Horizon.InZone(Zone).Date:uuuu-MM-dd}: {Usd(now.Mrr(Currency.USD))} from {now.ActiveSubscribers} paying members ({now.TrialingSubscribers} trialing, {now.PausedSubscribers} paused)"));
        List<string[]> rows = [["Month", "Start", "New", "Expansion", "Contraction", "Churned", "Paused", "Reactivated", "End", "NRR", "Trials converted"]];
        foreach (RecurringRevenueReport month in metrics.Monthly(Zone))
        {
            RecurringRevenueMovement m = month.Movement(Currency.USD);
            rows.Add(
            [
                month.From.InZone(Zone).Date.ToString("uuuu-MM", c), Usd(m.Starting), Usd(m.New), Usd(m.Expansion), Usd(m.Contraction),
                Usd(m.Churned), Usd(m.Paused), Usd(m.Reactivation), Usd(m.Ending), m.NetRevenueRetention.ToString("P1", c),
                string.Create(c, $"{month.TrialsConverted} of {month.TrialsConverted + month.TrialsLapsed}"),
            ]);
        }

        ReportPrinter.WriteTable(output, rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Instant from = Zone.AtStartOfDay(new LocalDate(2026, 11, 1)).ToInstant();
        RecurringRevenueReport quarter = metrics.For(from, Horizon);
        RecurringRevenueMovement usd = quarter.Movement(Currency.USD);
        RecurringRevenueReport all = metrics.For(metrics.FirstEventAt ?? Horizon, Horizon);
        output.WriteLine(string.Create(c,
            $"Nov-Jan: net revenue retention {usd.NetRevenueRetention.ToString("P1", c)} ({Usd(usd.Retained)} of {Usd(usd.Starting)}), revenue churn {usd.RevenueChurn.ToString("P1", c)}, logo churn {quarter.LogoChurn.ToString("P1", c)} ({quarter.ChurnedSubscribers} of {quarter.SubscribersAtStart} members)"));
        output.WriteLine(string.Create(c,
            $"Trial conversion: {all.TrialConversion.ToString("P1", c)} ({all.TrialsConverted} converted, {all.TrialsLapsed} lapsed, of {all.TrialsStarted} trials)"));
    }

    private static string Usd(Money amount) => amount.ToString("C", CultureInfo.InvariantCulture);

    /// <summary>One buyer's membership, played forward to the horizon.</summary>
    private sealed class Member(Random random, List<FunnelEvent> events, LeadId lead, Instant startAt)
    {
        private readonly SubscriptionId _id = new(NewGuid(random));

        public void StartYearly()
        {
            Money monthly = RecurringRevenue.MonthlyAmount(YearlyPrice, BillingInterval.Year);
            Add(new SubscriptionStarted
            {
                LeadId = lead, OccurredAt = startAt, Subscription = _id, Offer = CommunityYearly, Interval = BillingInterval.Year,
                Price = YearlyPrice, MonthlyAmount = monthly, PeriodEnd = startAt.InUtc().LocalDateTime.PlusYears(1).InUtc().ToInstant(),
                AmountPaid = YearlyPrice,
            });
        }

        public void StartTrial()
        {
            Instant trialEnd = startAt + Trial;
            Add(new SubscriptionStarted
            {
                LeadId = lead, OccurredAt = startAt, Subscription = _id, Offer = CommunityMonthly, Interval = BillingInterval.Month,
                Price = MonthlyPrice, MonthlyAmount = MonthlyPrice, TrialEndsAt = trialEnd, PeriodEnd = trialEnd, AmountPaid = Money.Zero(Currency.USD),
            });
            if (random.Next(100) >= 70)
            {
                Add(new SubscriptionEnded { LeadId = lead, OccurredAt = trialEnd, Subscription = _id, Offer = CommunityMonthly, Reason = SubscriptionEndReason.TrialLapsed, MonthlyAmount = MonthlyPrice });
                return;
            }

            Instant periodEnd = NextMonth(trialEnd);
            Add(new SubscriptionTrialConverted
            {
                LeadId = lead, OccurredAt = trialEnd, Subscription = _id, Offer = CommunityMonthly, Amount = MonthlyPrice, MonthlyAmount = MonthlyPrice,
                PeriodEnd = periodEnd, PaymentId = PaymentId(),
            });
            RunMonthly(trialEnd, periodEnd);
        }

        /// <summary>Plays the monthly periods from <paramref name="periodStart"/> until the horizon or the end.</summary>
        private void RunMonthly(Instant periodStart, Instant periodEnd)
        {
            OfferId plan = CommunityMonthly;
            Money price = MonthlyPrice;
            while (periodEnd < Horizon)
            {
                int roll = random.Next(100);
                if (roll < 6 && plan == CommunityMonthly)
                {
                    // Mid-period upgrade to coaching: the difference for the rest of the period is charged now.
                    Instant at = periodStart + Duration.FromDays(random.Next(5, 25));
                    Add(new SubscriptionPlanChanged
                    {
                        LeadId = lead, OccurredAt = at, Subscription = _id, FromOffer = plan, ToOffer = CommunityCoaching,
                        FromMonthlyAmount = price, ToMonthlyAmount = CoachingPrice, Interval = BillingInterval.Month, Price = CoachingPrice,
                        Proration = Unused(CoachingPrice - price, periodStart, periodEnd, at), PaymentId = PaymentId(),
                    });
                    (plan, price) = (CommunityCoaching, CoachingPrice);
                }
                else if (roll is >= 6 and < 14)
                {
                    // Mid-period move to the yearly plan: the unused part of the month is credited against the year.
                    Instant at = periodStart + Duration.FromDays(random.Next(5, 25));
                    Add(new SubscriptionPlanChanged
                    {
                        LeadId = lead, OccurredAt = at, Subscription = _id, FromOffer = plan, ToOffer = CommunityYearly,
                        FromMonthlyAmount = price, ToMonthlyAmount = RecurringRevenue.MonthlyAmount(YearlyPrice, BillingInterval.Year),
                        Interval = BillingInterval.Year, Price = YearlyPrice, Proration = YearlyPrice - Unused(price, periodStart, periodEnd, at),
                        PaymentId = PaymentId(),
                    });
                    return;
                }
                else if (roll is >= 14 and < 20)
                {
                    Add(new SubscriptionCancelScheduled
                    {
                        LeadId = lead, OccurredAt = periodEnd - Duration.FromDays(random.Next(2, 20)), Subscription = _id, Offer = plan, EndsAt = periodEnd,
                    });
                    Add(new SubscriptionEnded { LeadId = lead, OccurredAt = periodEnd, Subscription = _id, Offer = plan, Reason = SubscriptionEndReason.CanceledAtPeriodEnd, MonthlyAmount = price });
                    return;
                }
                else if (roll is >= 20 and < 25)
                {
                    Instant resumesAt = NextMonth(periodEnd);
                    Add(new SubscriptionPaused { LeadId = lead, OccurredAt = periodEnd, Subscription = _id, Offer = plan, ResumesAt = resumesAt });
                    if (resumesAt >= Horizon)
                    {
                        return;
                    }

                    (periodStart, periodEnd) = (resumesAt, NextMonth(resumesAt));
                    Add(new SubscriptionResumed { LeadId = lead, OccurredAt = resumesAt, Subscription = _id, Offer = plan, MonthlyAmount = price, PeriodEnd = periodEnd });
                    continue;
                }
                else if (roll is >= 25 and < 28)
                {
                    Add(new SubscriptionPaymentFailed
                    {
                        LeadId = lead, OccurredAt = periodEnd, Subscription = _id, Offer = plan, Amount = price, Attempt = 1,
                        Reason = "insufficient_funds", NextAttemptAt = null,
                    });
                    Add(new SubscriptionEnded { LeadId = lead, OccurredAt = periodEnd + Duration.FromDays(7), Subscription = _id, Offer = plan, Reason = SubscriptionEndReason.PaymentFailed, MonthlyAmount = price });
                    return;
                }

                (periodStart, periodEnd) = (periodEnd, NextMonth(periodEnd));
                Add(new SubscriptionRenewed
                {
                    LeadId = lead, OccurredAt = periodStart, Subscription = _id, Offer = plan, Amount = price,
                    PeriodStart = periodStart, PeriodEnd = periodEnd, PaymentId = PaymentId(),
                });
            }
        }

        /// <summary>The part of <paramref name="amount"/> for the rest of the period after <paramref name="at"/>, rounded half to even.</summary>
        private static Money Unused(Money amount, Instant periodStart, Instant periodEnd, Instant at) =>
            amount.Multiply((decimal)(periodEnd - at).TotalSeconds / (decimal)(periodEnd - periodStart).TotalSeconds, MidpointRounding.ToEven);

        private void Add(FunnelEvent e) => events.Add(e with { Id = new EventId(NewGuid(random)) });

        private string PaymentId() => "pi_" + random.NextInt64(1L << 40).ToString("x", CultureInfo.InvariantCulture);

        private static Instant NextMonth(Instant at) => at.InUtc().LocalDateTime.PlusMonths(1).InUtc().ToInstant();

        private static Guid NewGuid(Random random)
        {
            Span<byte> bytes = stackalloc byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes);
        }
    }
}
