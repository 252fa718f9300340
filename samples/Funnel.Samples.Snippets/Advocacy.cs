using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/advocacy.md.</summary>
internal static class AdvocacySnippets
{
    public static async Task OnboardingAsync(IServiceCollection services, WebApplication app, LeadId buyer)
    {
        // <snippet:advocacy-onboarding>
        services.AddSingleton(new Course { Key = "masterclass-videos", Modules = ["plan-your-ebook", "write-in-30-days", "design-and-format", "launch"] });
        services.AddFunnelAdvocacy();   // the "onboarding" handler feeds entitlement_granted/revoked to the EntitlementLedger

        var tracker = app.Services.GetRequiredService<CourseProgressTracker>();
        ProgressResult r = await tracker.CompleteModuleAsync(buyer, "masterclass-videos", "launch");
        // recorded in the log: module_completed (subject = course) and, on the last module, course_completed
        // </snippet:advocacy-onboarding>
    }

    public static async Task ReviewsAsync(WebApplication app, LeadId buyer)
    {
        // <snippet:advocacy-reviews>
        var reviews = app.Services.GetRequiredService<ReviewService>();             // or new ReviewService(store, clock, log)
        ReviewRequested ask = await reviews.RequestAsync(buyer, "masterclass-videos"); // review_requested
        ReviewResult submitted = await reviews.SubmitAsync(new ReviewSubmission
        {
            Lead = buyer, Product = "masterclass-videos", Rating = 5,
            Text = "I published my first e-book in 30 days.",
            ConsentToPublish = true, AttributionName = "Sarah K.",
        });                                                                         // review_submitted
        await reviews.ApproveAsync(submitted.Review.Id);                            // review_approved
        await reviews.RecordIncentiveAsync(submitted.Review.Id, "bonus-workbook");  // review_incentive_granted
        var quotes = await reviews.SelectTestimonialsAsync("masterclass-videos", 3, TestimonialOrder.HighestRated);
        // </snippet:advocacy-reviews>
    }

    public static async Task AffiliatesAsync(IClock clock, IFunnelEventLog log, LeadId buyer, LeadId visitor, FunnelEvent e)
    {
        // <snippet:advocacy-affiliates>
var program = new AffiliateProgram(new AffiliateProgramSettings
{
    Currency = Currency.USD,
    Rules =
    [
        new CommissionRule { Percent = 10m },                                  // default for every offer
        new CommissionRule
        {
            Offer = "masterclass-basic", Percent = 30m,
            Tiers = [new CommissionTier { FromSale = 11, Percent = 40m }],   // from the affiliate's 11th sale
        },
    ],
    CookieWindow = Duration.FromDays(30),        // default
    Attribution = AffiliateAttributionModel.LastClick, // default
    RefundWindow = Duration.FromDays(30),        // default
    MinimumPayout = Money.FromMajor(50m, Currency.USD),
}, new InMemoryAffiliateStore(), new InMemoryAffiliateClickStore(), new InMemoryAffiliateSaleStore(),
   new InMemoryAffiliatePayoutStore(), clock, log);            // or register the settings and resolve it (AddFunnelAdvocacy)

var (affiliate, applied) = await program.EnrolAsync(buyer, "sarah");   // affiliate_applied, pending
await program.DecideAsync(affiliate.Id, approve: true);                 // affiliate_approved
Uri link = await program.LinkForAsync(affiliate.Id, new Uri("https://example.com/masterclass")); // ...?ref=sarah
await program.RecordClickAsync("sarah", visitor);                       // affiliate_link_clicked
await program.ApplyAsync(e);      // order_placed, payment_succeeded, refund_issued, payment_disputed: the "affiliates" handler does this
await program.ApproveClearedAsync();                                    // commission_approved: the "advocacy-clearing" job does this
var (payout, paid) = await program.PayOutAsync(affiliate.Id);           // affiliate_paid_out
AffiliateStats stats = await program.StatsAsync(affiliate.Id);          // clicks, conversions, EPC, cost per sale
        // </snippet:advocacy-affiliates>
    }

    public static AffiliateProgram AffiliateCurrencies(
        IServiceCollection services, AffiliateProgramSettings settings, IAffiliateStore affiliates, IAffiliateClickStore clicks,
        IAffiliateSaleStore sales, IAffiliatePayoutStore payouts, IClock clock, IFunnelEventLog log)
    {
        // <snippet:advocacy-affiliate-currencies>
services.AddSingleton<IExchangeRates>(FixedExchangeRates.Empty
    .With(Currency.EUR, Currency.USD, 1.10m, new LocalDate(2026, 10, 1))
    .With(Currency.EUR, Currency.USD, 1.25m, new LocalDate(2026, 10, 25)));
// AddFunnelAdvocacy's AffiliateProgram takes the registered rates; by hand, pass them last:
// new AffiliateProgram(settings, affiliates, clicks, sales, payouts, clock, log, rates)
        // </snippet:advocacy-affiliate-currencies>
        return new AffiliateProgram(settings, affiliates, clicks, sales, payouts, clock, log, FixedExchangeRates.Empty.With(Currency.EUR, Currency.USD, 1.10m));
    }

    public static async Task ReferralsAsync(
        IClock clock, IFunnelEventLog log, LeadId customer, EmailAddress customerEmail, LeadId friend, EmailAddress friendEmail,
        OrderPlaced friendOrderPlaced, RefundIssued refundIssued)
    {
        // <snippet:advocacy-referrals>
var referrals = new ReferralProgram(new ReferralProgramSettings
{
    FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m },   // also put it in the Catalogue
    ReferrerCredit = Money.FromMajor(50m, Currency.USD),
    RefundWindow = Duration.FromDays(30),
}, new InMemoryReferrerStore(), new InMemoryReferralStore(), clock, log);   // or register the settings (AddFunnelAdvocacy)

string code = await referrals.CodeForAsync(customer, customerEmail, paymentFingerprint: "fp_card_123");
ReferralOutcome o = await referrals.ReferAsync(code, friend, friendEmail); // o.Coupon = "FRIEND20"; referral_made
await referrals.RecordPurchaseAsync(friendOrderPlaced, "fp_card_456");    // referral_purchased ("referrals" handler, without fingerprint)
await referrals.RecordRefundAsync(refundIssued);                         // cancels the reward inside the window (handler; also on a chargeback)
await referrals.ReleaseRewardsAsync();                                   // referral_reward_earned after the window ("advocacy-clearing" job)
Money credit = await referrals.CreditOfAsync(customer);
        // </snippet:advocacy-referrals>
    }

    public static void Register(IServiceCollection services, Coupon friend20)
    {
        // <snippet:advocacy-register>
        services.AddSingleton(new Course { Key = "masterclass-videos", Modules = [/* … */] });
        services.AddSingleton(new AffiliateProgramSettings { Currency = Currency.USD, Rules = [new CommissionRule { Percent = 30m }] });
        services.AddSingleton(new ReferralProgramSettings { FriendCoupon = friend20, ReferrerCredit = Money.FromMajor(50m, Currency.USD) });
        services.AddFunnelAdvocacy();
        services.AddFunnelHosting();     // runs the pipeline and the jobs (ASP.NET Core or a worker service)
        // </snippet:advocacy-register>
    }

#pragma warning disable CA1715 // the type parameter stands for the reader's own class, named as in the doc
    public static void RegisterStore<SqlAffiliateSaleStore>(IServiceCollection services)
        where SqlAffiliateSaleStore : class, IAffiliateSaleStore
#pragma warning restore CA1715
    {
        // <snippet:advocacy-own-store>
        services.AddSingleton<IAffiliateSaleStore, SqlAffiliateSaleStore>();   // before AddFunnelAdvocacy: TryAdd keeps yours
        services.AddFunnelAdvocacy();
        // </snippet:advocacy-own-store>
    }
}
