namespace Funnel.Advocacy;

/// <summary>The <see cref="Events.FunnelEvent.EventType"/> names of the onboarding, review, affiliate, referral and webinar events (Funnel.Advocacy).</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class AdvocacyEventTypes
{
    /// <summary>A customer completed one module of a course (<see cref="Funnel.Onboarding.ModuleCompleted"/>).</summary>
    public const string ModuleCompleted = "module_completed";

    /// <summary>A customer was asked for a review (<see cref="Funnel.Advocacy.ReviewRequested"/>).</summary>
    public const string ReviewRequested = "review_requested";

    /// <summary>A review was approved for publication (<see cref="Funnel.Advocacy.ReviewApproved"/>).</summary>
    public const string ReviewApproved = "review_approved";

    /// <summary>A review was rejected by moderation (<see cref="Funnel.Advocacy.ReviewRejected"/>).</summary>
    public const string ReviewRejected = "review_rejected";

    /// <summary>An incentive for a review was given (<see cref="Funnel.Advocacy.ReviewIncentiveGranted"/>).</summary>
    public const string ReviewIncentiveGranted = "review_incentive_granted";

    /// <summary>A lead applied to become an affiliate (<see cref="Funnel.Advocacy.AffiliateApplied"/>).</summary>
    public const string AffiliateApplied = "affiliate_applied";

    /// <summary>An affiliate application was approved (<see cref="Funnel.Advocacy.AffiliateApproved"/>).</summary>
    public const string AffiliateApproved = "affiliate_approved";

    /// <summary>An affiliate link was clicked (<see cref="Funnel.Advocacy.AffiliateLinkClicked"/>).</summary>
    public const string AffiliateLinkClicked = "affiliate_link_clicked";

    /// <summary>An order was attributed to an affiliate (<see cref="Funnel.Advocacy.AffiliateSaleAttributed"/>).</summary>
    public const string AffiliateSaleAttributed = "affiliate_sale_attributed";

    /// <summary>An affiliate earned a commission on a payment (<see cref="Funnel.Advocacy.CommissionEarned"/>).</summary>
    public const string CommissionEarned = "commission_earned";

    /// <summary>Commission was clawed back after a refund (<see cref="Funnel.Advocacy.CommissionClawedBack"/>).</summary>
    public const string CommissionClawedBack = "commission_clawed_back";

    /// <summary>A commission passed its refund window and was approved (<see cref="Funnel.Advocacy.CommissionApproved"/>).</summary>
    public const string CommissionApproved = "commission_approved";

    /// <summary>An affiliate was paid (<see cref="Funnel.Advocacy.AffiliatePaidOut"/>).</summary>
    public const string AffiliatePaidOut = "affiliate_paid_out";

    /// <summary>A referral was refused by a fraud guard (<see cref="Funnel.Advocacy.ReferralRejected"/>).</summary>
    public const string ReferralRejected = "referral_rejected";

    /// <summary>A referred friend bought; the referrer's reward waits for the refund window (<see cref="Funnel.Advocacy.ReferralPurchased"/>).</summary>
    public const string ReferralPurchased = "referral_purchased";

    /// <summary>A referrer earned the reward for a friend's purchase (<see cref="Funnel.Advocacy.ReferralRewardEarned"/>).</summary>
    public const string ReferralRewardEarned = "referral_reward_earned";

    /// <summary>A registrant did not attend their webinar session (<see cref="Funnel.Webinars.WebinarMissed"/>).</summary>
    public const string WebinarMissed = "webinar_missed";
}
