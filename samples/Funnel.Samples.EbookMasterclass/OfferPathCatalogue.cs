using Funnel.Definitions;
using Funnel.Events;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>The guide's Masterclass offer table as a catalogue, and the offer path that connects its offers.</summary>
/// <remarks>
/// Prices from the guide: Basic $497 once or 3 × $180, Premium $797 once or 3 × $270, the Mini E-Book Kit
/// downsell $47 and the E-Book Cover Design Pack bump $27. The guide names the E-Book Launch Planner cross-sell
/// and the bundle without prices; $19 and $537 are this sample's choices.
/// </remarks>
public static class OfferPathCatalogue
{
    public static readonly OfferId Basic = "masterclass-basic";
    public static readonly OfferId Premium = "masterclass-premium";
    public static readonly OfferId MiniKit = "mini-ebook-kit";
    public static readonly OfferId CoverPack = "cover-design-pack";
    public static readonly OfferId LaunchPlanner = "launch-planner";
    public static readonly OfferId LaunchBundle = "masterclass-launch-bundle";

    /// <summary>"Enroll this week and receive a complimentary 30-minute e-book strategy session": 7 days from the first sales-page visit.</summary>
    public static Deadline EnrollThisWeek { get; } = new()
    {
        Key = "enroll-this-week",
        Evergreen = Duration.FromDays(7),
        StartsOn = EventMatch.For(EventTypes.SalesPageVisited, "masterclass-basic"),
    };

    private static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    public static Catalogue Catalogue { get; } = new()
    {
        Currency = Currency.USD,
        Products =
        [
            new Product { Key = "masterclass-videos", Name = "Masterclass video lessons", Kind = ProductKind.Course },
            new Product { Key = "masterclass-templates", Name = "Masterclass templates and checklists", Kind = ProductKind.TemplatePack },
            new Product { Key = "masterclass-community", Name = "Private community", Kind = ProductKind.CommunityAccess },
            new Product { Key = "strategy-session", Name = "1-on-1 strategy session", Kind = ProductKind.CoachingSession },
            new Product { Key = "strategy-call-30", Name = "30-minute e-book strategy call (enroll-this-week bonus)", Kind = ProductKind.CoachingSession },
            new Product { Key = "marketing-blueprint", Name = "Advanced Marketing Blueprint", Kind = ProductKind.EBook },
            new Product { Key = "outline-video-series", Name = "5-part video series on e-book outlines", Kind = ProductKind.Course },
            new Product { Key = "mini-kit-templates", Name = "3 e-book templates", Kind = ProductKind.TemplatePack },
            new Product { Key = "cover-design-pack", Name = "E-Book Cover Design Pack", Kind = ProductKind.TemplatePack },
            new Product { Key = "launch-planner", Name = "E-Book Launch Planner", Kind = ProductKind.Download },
        ],
        Offers =
        [
            new Offer
            {
                Id = Basic,
                Name = "Basic Masterclass",
                Price = Usd(497m),
                Products = ["masterclass-videos", "masterclass-templates", "masterclass-community"],
                PaymentPlans = [new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = Usd(180m), Interval = Period.FromMonths(1) }],
                Bonuses = [new LimitedTimeBonus { Product = "strategy-call-30", Deadline = EnrollThisWeek }],
            },
            new Offer
            {
                Id = Premium,
                Name = "Masterclass Premium",
                Role = OfferRole.Upsell,
                Price = Usd(797m),
                Products = ["masterclass-videos", "masterclass-templates", "masterclass-community", "strategy-session", "marketing-blueprint"],
                PaymentPlans = [new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = Usd(270m), Interval = Period.FromMonths(1) }],
            },
            new Offer { Id = MiniKit, Name = "Mini E-Book Kit", Role = OfferRole.Downsell, Price = Usd(47m), Products = ["outline-video-series", "mini-kit-templates"] },
            new Offer { Id = CoverPack, Name = "E-Book Cover Design Pack", Role = OfferRole.OrderBump, Price = Usd(27m), Products = ["cover-design-pack"] },
            new Offer { Id = LaunchPlanner, Name = "E-Book Launch Planner", Role = OfferRole.CrossSell, Price = Usd(19m), Products = ["launch-planner"] },
            new Offer
            {
                Id = LaunchBundle,
                Name = "Masterclass Launch Bundle",
                Price = Usd(537m),
                Products = ["masterclass-videos", "masterclass-templates", "masterclass-community", "cover-design-pack", "launch-planner"],
            },
        ],
        Coupons =
        [
            new Coupon { Code = "LAUNCH20", PercentOff = 20m },
            new Coupon { Code = "COVER5", AmountOff = Usd(5m), AppliesTo = [CoverPack] },
            new Coupon { Code = "VIP100", AmountOff = Usd(100m), Stacking = CouponStacking.Exclusive, MaxRedemptions = 10, MaxRedemptionsPerLead = 1 },
        ],
    };

    /// <summary>Bump and cross-sell on the Basic checkout; Premium as a one-click upsell after it; the Mini Kit when Premium is declined or the sales page is left.</summary>
    public static OfferPath Path { get; } = new()
    {
        Entry = Basic,
        Edges =
        [
            new OfferPathEdge { From = Basic, When = OfferTransition.OnCheckoutForm, To = CoverPack },
            new OfferPathEdge { From = Basic, When = OfferTransition.AtCheckout, To = LaunchPlanner },
            new OfferPathEdge { From = Basic, When = OfferTransition.Purchased, To = Premium, HigherTier = true },
            new OfferPathEdge { From = Premium, When = OfferTransition.Declined, To = MiniKit },
            new OfferPathEdge { From = Basic, When = OfferTransition.LeftSalesPage, To = MiniKit },
        ],
    };
}
