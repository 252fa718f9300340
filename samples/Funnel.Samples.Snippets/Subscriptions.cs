using Funnel.Offers;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/subscriptions.md.</summary>
internal static class SubscriptionSnippets
{
    public static Catalogue Catalogue()
    {
        // <snippet:subscriptions-offers>
        var catalogue = new Catalogue
        {
            Currency = Currency.USD,
            Products =
            [
                new Product { Key = "community", Name = "Creator Community", Kind = ProductKind.CommunityAccess },
                new Product { Key = "course-library", Name = "Course Library", Kind = ProductKind.Course },
            ],
            Offers =
            [
                new Offer
                {
                    Id = "membership", Name = "Membership", Price = Money.FromMajor(30m, Currency.USD),   // per month
                    Products = ["community"],
                    Recurring = new SubscriptionTerms { Interval = BillingInterval.Month, TrialDays = 14 },
                },
                new Offer
                {
                    Id = "membership-pro", Name = "Membership Pro", Price = Money.FromMajor(90m, Currency.USD),
                    Products = ["community", "course-library"],
                    Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
                },
                new Offer
                {
                    Id = "membership-yearly", Name = "Membership (yearly)", Price = Money.FromMajor(300m, Currency.USD),
                    Products = ["community"],
                    Recurring = new SubscriptionTerms
                    {
                        Interval = BillingInterval.Year,
                        TrialDays = 7,
                        TrialRequiresCard = false,   // try it without a card; it lapses unless one is attached
                    },
                },
            ],
        };
        // </snippet:subscriptions-offers>
        return catalogue;
    }

    public static void Register(IServiceCollection services)
    {
        // <snippet:subscriptions-register>
        services.AddSingleton(Catalogue());
        services.AddFunnelSubscriptions(o =>
        {
            o.Interval = TimeSpan.FromMinutes(1);   // how often the subscription-renewals job runs
            o.BatchSize = 100;                      // subscriptions read at a time
        });
        services.AddSingleton(new Funnel.Payments.DunningPolicy
        {
            RetryAfter = [Duration.FromDays(3), Duration.FromDays(5), Duration.FromDays(7)],   // then it ends
        });
        // </snippet:subscriptions-register>
    }

    public static async Task StartAsync(SubscriptionService subscriptions, LeadId lead, string cardToken, string savedMethod)
    {
        // <snippet:subscriptions-start>
        // Paid from day one: the first month is charged now and the card saved for the renewals.
        SubscriptionResult pro = await subscriptions.StartAsync(new SubscriptionRequest
        {
            Lead = lead,
            Offer = "membership-pro",
            BuyerZone = DateTimeZoneProviders.Tzdb["Europe/Berlin"],   // periods follow the buyer's calendar
            PaymentMethod = cardToken,
        });
        if (pro.Outcome == SubscriptionOutcome.Declined)
        {
            Console.WriteLine($"Declined: {pro.DeclineCode}");      // nothing was stored
        }

        // A 14-day trial with a card saved beforehand (a Stripe SetupIntent): charged when the trial ends.
        SubscriptionResult trial = await subscriptions.StartAsync(new SubscriptionRequest
        {
            Lead = lead,
            Offer = "membership",
            BuyerZone = DateTimeZoneProviders.Tzdb["America/New_York"],
            PaymentMethod = savedMethod,
        });
        // </snippet:subscriptions-start>
    }

    public static async Task<Coupon[]> CouponsAsync(SubscriptionService subscriptions, LeadId lead, string cardToken)
    {
        // <snippet:subscriptions-coupons>
        // Launch promos: 50% off the first 3 months, and $10 off every month for as long as the plan is kept.
        Coupon[] coupons =
        [
            new Coupon { Code = "LAUNCH50", PercentOff = 50, Duration = CouponDuration.Repeating, DurationInPeriods = 3 },
            new Coupon
            {
                Code = "TEN", AmountOff = Money.FromMajor(10m, Currency.USD), Duration = CouponDuration.Forever,
                AppliesTo = ["membership", "membership-pro"], MaxRedemptions = 100,
            },
        ];

        SubscriptionResult promo = await subscriptions.StartAsync(new SubscriptionRequest
        {
            Lead = lead,
            Offer = "membership-pro",
            BuyerZone = DateTimeZoneProviders.Tzdb["Europe/Berlin"],
            PaymentMethod = cardToken,
            CouponCodes = ["LAUNCH50"],                               // $45 now, then $45, $45, then $90
        });
        if (promo.Outcome == SubscriptionOutcome.Rejected)
        {
            foreach (CouponRejection r in promo.RejectedCoupons)   // Expired, NotApplicable, LimitReached…: nothing charged
            {
                Console.WriteLine($"{r.Code}: {r.Reason}");
            }
        }
        // </snippet:subscriptions-coupons>
        return coupons;
    }

    public static async Task ManageAsync(SubscriptionService subscriptions, SubscriptionId id, IClock clock)
    {
        // <snippet:subscriptions-manage>
        await subscriptions.CancelAsync(id, atPeriodEnd: true);    // subscription_cancel_scheduled; access to the end
        await subscriptions.WithdrawCancelAsync(id);               // subscription_cancel_withdrawn; renews as before

        await subscriptions.PauseAsync(id, until: clock.GetCurrentInstant() + Duration.FromDays(30));
        await subscriptions.ResumeAsync(id);                       // or let the job resume it on that date

        SubscriptionResult upgrade = await subscriptions.ChangePlanAsync(id, "membership-pro");
        if (upgrade.Events.FirstOrDefault() is SubscriptionPlanChanged change)
        {
            Console.WriteLine($"Prorated: {change.Proration}");     // charged now when positive, credited when negative
        }

        await subscriptions.CancelAsync(id, atPeriodEnd: false);  // ends now, access revoked, nothing refunded
        // </snippet:subscriptions-manage>
    }

    public static ProrationQuote Prorate()
    {
        // <snippet:subscriptions-proration>
        Instant start = Instant.FromUtc(2026, 2, 14, 9, 0);   // a 28-day period, Feb 14 – Mar 14
        Instant end = Instant.FromUtc(2026, 3, 14, 9, 0);
        Instant at = Instant.FromUtc(2026, 2, 21, 9, 0);      // 7 days in: 21 of 28 days left

        ProrationQuote quote = Proration.Change(
            oldPrice: Money.FromMajor(30m, Currency.USD), newPrice: Money.FromMajor(90m, Currency.USD), start, end, at);
        // quote.Credit = $22.50 (30 × 21/28), quote.Charge = $67.50 (90 × 21/28), quote.Net = $45.00 charged now
        // </snippet:subscriptions-proration>
        return quote;
    }

    public static async Task ProviderAsync(SubscriptionService subscriptions, SubscriptionId id, IClock clock)
    {
        // <snippet:subscriptions-provider>
        // In a provider adapter, on Stripe Billing's invoice.paid / invoice.payment_failed:
        await subscriptions.ApplyProviderPaymentAsync(id, new ProviderPayment
        {
            PaymentId = "in_1QxYz",            // applied once: a redelivered webhook changes nothing
            Succeeded = false,
            Amount = Money.FromMajor(90m, Currency.USD),
            OccurredAt = clock.GetCurrentInstant(),
            Attempt = 1,
            Reason = "insufficient_funds",
            NextAttemptAt = clock.GetCurrentInstant() + Duration.FromDays(3),   // null: the provider gave up, it ends
        });
        // </snippet:subscriptions-provider>
    }
}
