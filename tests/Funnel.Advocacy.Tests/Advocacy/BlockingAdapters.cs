using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Onboarding;
using Funnel.Pipeline;
using Funnel.Segments;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Tests;

/// <summary>The engines over fresh in-memory stores, as the tests build them.</summary>
internal static class InMemoryEngines
{
    public static AffiliateProgram Affiliates(AffiliateProgramSettings settings, IClock clock, IFunnelEventLog? log = null, IExchangeRates? rates = null) => new(
        settings, new InMemoryAffiliateStore(), new InMemoryAffiliateClickStore(), new InMemoryAffiliateSaleStore(), new InMemoryAffiliatePayoutStore(), clock,
        log ?? new InMemoryFunnelEventLog(), rates);

    public static ReferralProgram Referrals(ReferralProgramSettings settings, IClock clock, IFunnelEventLog? log = null) =>
        new(settings, new InMemoryReferrerStore(), new InMemoryReferralStore(), clock, log ?? new InMemoryFunnelEventLog());

    public static WebinarRegistrar Webinars(IEnumerable<Webinar> webinars, IClock clock, IFunnelEventLog? log = null) =>
        new(webinars, new InMemoryWebinarRegistrationStore(), clock, log ?? new InMemoryFunnelEventLog());

    public static EntitlementLedger Entitlements() => new(new InMemoryEntitlementStore());
}

/// <summary>
/// Synchronous calls for the behaviour tests written before the engines went through stores. The in-memory stores
/// complete synchronously, so blocking here never waits; the store contract itself is tested asynchronously in
/// <c>StoreConformance</c>.
/// </summary>
internal static class BlockingAdapters
{
    public static (Affiliate Affiliate, ImmutableArray<FunnelEvent> Events) Enrol(this AffiliateProgram p, LeadId lead, string? code = null) => Run(p.EnrolAsync(lead, code));

    public static (Affiliate Affiliate, ImmutableArray<FunnelEvent> Events) Decide(this AffiliateProgram p, AffiliateId id, bool approve) => Run(p.DecideAsync(id, approve));

    public static Affiliate GetAffiliate(this AffiliateProgram p, AffiliateId id) => Run(p.GetAffiliateAsync(id));

    public static Uri LinkFor(this AffiliateProgram p, AffiliateId id, Uri page) => Run(p.LinkForAsync(id, page));

    public static ImmutableArray<FunnelEvent> RecordClick(this AffiliateProgram p, string code, LeadId visitor) => Run(p.RecordClickAsync(code, visitor));

    public static ImmutableArray<FunnelEvent> Apply(this AffiliateProgram p, FunnelEvent e) => Run(p.ApplyAsync(e));

    public static AffiliateId? AttributedTo(this AffiliateProgram p, OrderId order) => Run(p.AttributedToAsync(order));

    public static ImmutableArray<FunnelEvent> ApproveCleared(this AffiliateProgram p) => Run(p.ApproveClearedAsync());

    public static (Payout? Payout, ImmutableArray<FunnelEvent> Events) PayOut(this AffiliateProgram p, AffiliateId id) => Run(p.PayOutAsync(id));

    public static ImmutableArray<CommissionEntry> Ledger(this AffiliateProgram p, AffiliateId id) => Run(p.LedgerAsync(id));

    public static ImmutableArray<Payout> Payouts(this AffiliateProgram p, AffiliateId id) => Run(p.PayoutsAsync(id));

    public static AffiliateStats Stats(this AffiliateProgram p, AffiliateId id) => Run(p.StatsAsync(id));

    public static string CodeFor(this ReferralProgram p, LeadId customer, EmailAddress email, string? paymentFingerprint = null) => Run(p.CodeForAsync(customer, email, paymentFingerprint));

    public static ReferralOutcome Refer(this ReferralProgram p, string code, LeadId friend, EmailAddress friendEmail) => Run(p.ReferAsync(code, friend, friendEmail));

    public static ImmutableArray<FunnelEvent> RecordPurchase(this ReferralProgram p, OrderPlaced order, string? paymentFingerprint = null) => Run(p.RecordPurchaseAsync(order, paymentFingerprint));

    public static bool RecordRefund(this ReferralProgram p, RefundIssued refund) => Run(p.RecordRefundAsync(refund));

    public static ImmutableArray<FunnelEvent> ReleaseRewards(this ReferralProgram p) => Run(p.ReleaseRewardsAsync());

    public static Money CreditOf(this ReferralProgram p, LeadId referrer) => Run(p.CreditOfAsync(referrer));

    public static WebinarRegistrationResult Register(this WebinarRegistrar r, string webinar, LeadId lead, DateTimeZone zone) => Run(r.RegisterAsync(webinar, lead, zone));

    public static ImmutableArray<FunnelEvent> RecordAttendance(this WebinarRegistrar r, string webinar, LeadId lead) => Run(r.RecordAttendanceAsync(webinar, lead));

    public static ImmutableArray<FunnelEvent> RecordNoShows(this WebinarRegistrar r) => Run(r.RecordNoShowsAsync());

    public static WebinarRegistration? Find(this WebinarRegistrar r, string webinar, LeadId lead) => Run(r.FindAsync(webinar, lead));

    public static Instant? ReplayAvailableUntil(this WebinarRegistrar r, string webinar, LeadId lead) => Run(r.ReplayAvailableUntilAsync(webinar, lead));

    public static void Apply(this EntitlementLedger ledger, FunnelEvent e) => Run(ledger.ApplyAsync(e));

    public static SegmentChanges Evaluate(this SegmentTracker tracker, LeadPopulation population, Instant now) => Run(tracker.EvaluateAsync(population, now));

    private static T Run<T>(Task<T> task)
    {
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The in-memory stores complete synchronously; this call did not.");
        }

        return task.GetAwaiter().GetResult();
    }

    private static void Run(Task task)
    {
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The in-memory stores complete synchronously; this call did not.");
        }

        task.GetAwaiter().GetResult();
    }
}
