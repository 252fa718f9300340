using System.Text.Json.Nodes;
using Funnel.Advocacy;
using Funnel.Leads;
using Funnel.Onboarding;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The stored format of Funnel.Advocacy's documents, as every durable store must read and write it.</summary>
/// <remarks>Fixed rows of version 1 of the format (with fields a later version might add), the records they hold, and
/// the JSON this version writes for them; shared by the SQLite and PostgreSQL stored-format tests.</remarks>
public static class AdvocacySamples
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 3, 2, 9, 0);

    public static readonly ReviewId ReviewIdOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000a001"));
    public static readonly LeadId AuthorOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000b001"));
    public static readonly AffiliateId AffiliateIdOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000c001"));
    public static readonly LeadId AffiliateLeadOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000d001"));

    /// <summary>A review as version 1 of the format stores it, with fields a later version might add.</summary>
    public const string ReviewRow = """
        {
          "v": 1,
          "id": "0194a7c2-5e1b-7c3d-9f00-00000000a001",
          "submission": {
            "lead": "0194a7c2-5e1b-7c3d-9f00-00000000b001",
            "product": "masterclass",
            "rating": 5,
            "text": "Changed how I launch.",
            "consentToPublish": true,
            "attributionName": "Sarah K.",
            "photoUrl": "https://example.com/sarah.jpg"
          },
          "submittedAt": "2026-03-02T09:00:00Z",
          "status": "approved",
          "moderatedAt": "2026-03-03T10:15:00Z",
          "incentives": ["bonus-workbook"],
          "helpfulVotes": 7
        }
        """;

    /// <summary>An affiliate as version 1 of the format stores it, with a field a later version might add.</summary>
    public const string AffiliateRow = """
        {
          "v": 1,
          "id": "0194a7c2-5e1b-7c3d-9f00-00000000c001",
          "lead": "0194a7c2-5e1b-7c3d-9f00-00000000d001",
          "code": "sarah",
          "status": "approved",
          "appliedAt": "2026-03-01T08:00:00Z",
          "decidedAt": "2026-03-01T12:30:00Z",
          "clicks": 42,
          "salesNumbered": 3,
          "payoutEmail": "sarah@example.com"
        }
        """;

    /// <summary>The review of <see cref="ReviewRow"/> as this version writes it (in this order).</summary>
    public const string ReviewWritten = """
        {
          "v": 1,
          "id": "0194a7c2-5e1b-7c3d-9f00-00000000a001",
          "submission": {
            "lead": "0194a7c2-5e1b-7c3d-9f00-00000000b001",
            "product": "masterclass",
            "rating": 5,
            "text": "Changed how I launch.",
            "consentToPublish": true,
            "attributionName": "Sarah K."
          },
          "submittedAt": "2026-03-02T09:00:00Z",
          "status": "approved",
          "moderatedAt": "2026-03-03T10:15:00Z",
          "incentives": ["bonus-workbook"]
        }
        """;

    /// <summary>The affiliate of <see cref="AffiliateRow"/> as this version writes it (in this order).</summary>
    public const string AffiliateWritten = """
        {
          "v": 1,
          "id": "0194a7c2-5e1b-7c3d-9f00-00000000c001",
          "lead": "0194a7c2-5e1b-7c3d-9f00-00000000d001",
          "code": "sarah",
          "status": "approved",
          "appliedAt": "2026-03-01T08:00:00Z",
          "decidedAt": "2026-03-01T12:30:00Z",
          "clicks": 42,
          "salesNumbered": 3
        }
        """;

    /// <summary>Gets the review that <see cref="ReviewRow"/> holds, at version 4.</summary>
    public static Review ExpectedReview { get; } = new()
    {
        Id = ReviewIdOfRow,
        Submission = new ReviewSubmission
        {
            Lead = AuthorOfRow,
            Product = "masterclass",
            Rating = 5,
            Text = "Changed how I launch.",
            ConsentToPublish = true,
            AttributionName = "Sarah K.",
        },
        SubmittedAt = T0,
        Status = ReviewStatus.Approved,
        ModeratedAt = Instant.FromUtc(2026, 3, 3, 10, 15),
        Incentives = ["bonus-workbook"],
        Version = 4,
    };

    /// <summary>Gets the affiliate that <see cref="AffiliateRow"/> holds, at version 2.</summary>
    public static Affiliate ExpectedAffiliate { get; } = new()
    {
        Id = AffiliateIdOfRow,
        Lead = AffiliateLeadOfRow,
        Code = "sarah",
        Status = AffiliateStatus.Approved,
        AppliedAt = Instant.FromUtc(2026, 3, 1, 8, 0),
        DecidedAt = Instant.FromUtc(2026, 3, 1, 12, 30),
        Clicks = 42,
        SalesNumbered = 3,
        Version = 2,
    };

    /// <summary>Returns JSON without whitespace, as a store writes it.</summary>
    public static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    /// <summary>A commission entry of the row's affiliate, clearing <paramref name="clearsAt"/> seconds after <see cref="T0"/>.</summary>
    public static CommissionEntry Entry(CommissionStatus status, int clearsAt) => new()
    {
        Id = Guid.CreateVersion7(),
        Affiliate = AffiliateIdOfRow,
        Order = new OrderId(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000e001")),
        Amount = new Money(3_000, Currency.USD),
        ClawedBack = new Money(0, Currency.USD),
        EarnedAt = T0,
        ClearsAt = T0 + Duration.FromSeconds(clearsAt),
        Status = status,
    };
}

/// <summary>One record of each stored advocacy type: with every member set, or with the optional ones left out.</summary>
public sealed record AdvocacyRecords(
    Affiliate Affiliate,
    AffiliateClick Click,
    AffiliateSale Sale,
    Payout Payout,
    Referrer Referrer,
    Referral Referral,
    Review Review,
    EntitlementRecord Entitlement,
    WebinarRegistration Registration)
{
    private static Instant T0 => AdvocacySamples.T0;

    /// <summary>Returns records with every member set (new ids each call).</summary>
    public static AdvocacyRecords Full()
    {
        LeadId lead = LeadId.New(), friend = LeadId.New();
        AffiliateId affiliate = AffiliateId.New();
        OrderId order = OrderId.New();
        static Money Usd(long cents) => new(cents, Currency.USD);
        static Money Eur(long cents) => new(cents, Currency.EUR);
        DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        Instant starts = T0 + Duration.FromDays(2);
        return new AdvocacyRecords(
            new Affiliate
            {
                Id = affiliate, Lead = lead, Code = "sarah", Status = AffiliateStatus.Approved, AppliedAt = T0,
                DecidedAt = T0 + Duration.FromHours(3), Clicks = 42, SalesNumbered = 3,
            },
            new AffiliateClick { Id = Guid.NewGuid(), Affiliate = affiliate, Visitor = friend, At = T0 },
            new AffiliateSale
            {
                Order = order, Affiliate = affiliate, SaleNumber = 3, Total = Eur(45_900), ExchangeRate = 1.0842m, Percent = 30.5m,
                Fixed = Usd(1_000), Paid = Eur(22_950), Refunded = Eur(100), Earned = Usd(7_579), ClawedBack = Usd(30),
                AppliedEvents = [EventId.New(), EventId.New()],
                Entries =
                [
                    new CommissionEntry
                    {
                        Id = Guid.NewGuid(), Affiliate = affiliate, Order = order, Amount = Usd(7_549), ClawedBack = Usd(30),
                        EarnedAt = T0, ClearsAt = T0 + Duration.FromDays(30), Status = CommissionStatus.Paid, Payout = Guid.NewGuid(),
                    },
                ],
            },
            new Payout(Guid.NewGuid(), affiliate, Usd(7_549), T0, [Guid.NewGuid(), Guid.NewGuid()]),
            new Referrer
            {
                Lead = lead, Email = EmailAddress.Parse("sarah@example.com"), Code = "sarah-r", Fingerprints = ["card_1", "card_2"],
                Credit = Usd(2_000), Credited = [friend],
            },
            new Referral
            {
                Friend = friend, Referrer = lead, Code = "sarah-r", Status = ReferralStatus.Purchased, Order = order,
                ClearsAt = T0 + Duration.FromDays(14),
            },
            new Review
            {
                Id = ReviewId.New(),
                Submission = new ReviewSubmission
                {
                    Lead = friend, Product = "masterclass", Rating = 4, Text = "Good \"quotes\" and ünïcödé.",
                    ConsentToPublish = true, AttributionName = "Tom",
                },
                SubmittedAt = T0, Status = ReviewStatus.Rejected, ModeratedAt = T0 + Duration.FromHours(1),
                RejectionReason = "spam", Incentives = ["bonus-workbook", "coupon"],
            },
            new EntitlementRecord { Lead = friend, Product = "masterclass", Order = order, Held = false, ChangedAt = T0 },
            new WebinarRegistration(
                friend,
                new WebinarSession("launch-live", SessionKind.Evergreen, starts, starts + Duration.FromHours(1), starts.InZone(berlin)),
                T0,
                Attended: false) { NoShowRecorded = true });
    }

    /// <summary>Returns records with the optional members left out (new ids each call).</summary>
    public static AdvocacyRecords Minimal()
    {
        LeadId lead = LeadId.New(), friend = LeadId.New();
        AffiliateId affiliate = AffiliateId.New();
        OrderId order = OrderId.New();
        Money zero = new(0, Currency.EUR);
        return new AdvocacyRecords(
            new Affiliate { Id = affiliate, Lead = lead, Code = "a", Status = AffiliateStatus.Pending, AppliedAt = T0 },
            new AffiliateClick { Id = Guid.NewGuid(), Affiliate = affiliate, Visitor = friend, At = T0 },
            new AffiliateSale
            {
                Order = order, Affiliate = affiliate, SaleNumber = 1, Total = new Money(9_900, Currency.EUR),
                Paid = zero, Refunded = zero, Earned = zero, ClawedBack = zero,
            },
            new Payout(Guid.NewGuid(), affiliate, zero, T0, []),
            new Referrer { Lead = lead, Email = EmailAddress.Parse("a@example.com"), Code = "r", Credit = zero },
            new Referral { Friend = friend, Referrer = lead, Code = "r", Status = ReferralStatus.Referred },
            new Review
            {
                Id = ReviewId.New(),
                Submission = new ReviewSubmission { Lead = friend, Product = "ebook", Rating = 1, Text = "Meh.", ConsentToPublish = false },
                SubmittedAt = T0,
            },
            new EntitlementRecord { Lead = friend, Product = "ebook", Order = order, Held = true, ChangedAt = T0 },
            new WebinarRegistration(
                friend,
                new WebinarSession("w", SessionKind.Live, T0, T0 + Duration.FromHours(1), T0.InUtc()),
                T0,
                Attended: false));
    }
}
