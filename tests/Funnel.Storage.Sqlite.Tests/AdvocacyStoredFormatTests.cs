using System.Text.Json.Nodes;
using Funnel.Advocacy;
using Funnel.Leads;
using Funnel.Onboarding;
using Funnel.Storage.Sqlite.Advocacy;
using Funnel.Storage.Sqlite.Internal;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>The stored format of Funnel.Advocacy's documents: fixed rows read back, every record survives a reopen, DI.</summary>
public sealed class AdvocacyStoredFormatTests : IDisposable
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 3, 2, 9, 0);

    private static readonly ReviewId ReviewIdOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000a001"));
    private static readonly LeadId AuthorOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000b001"));
    private static readonly AffiliateId AffiliateIdOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000c001"));
    private static readonly LeadId AffiliateLeadOfRow = new(Guid.Parse("0194a7c2-5e1b-7c3d-9f00-00000000d001"));

    /// <summary>A review as version 1 of the format stores it, with fields a later version might add.</summary>
    private const string ReviewRow = """
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
    private const string AffiliateRow = """
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

    private static readonly Review ExpectedReview = new()
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

    private static readonly Affiliate ExpectedAffiliate = new()
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

    /// <summary>The review of <see cref="ReviewRow"/> as this version writes it (compact, in this order).</summary>
    private const string ReviewWritten = """
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

    /// <summary>The affiliate of <see cref="AffiliateRow"/> as this version writes it (compact, in this order).</summary>
    private const string AffiliateWritten = """
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

    private readonly AdvocacyTestDatabases _databases = new();

    public void Dispose() => _databases.Dispose();

    [Fact]
    public async Task FindAsync_FixedVersion1ReviewRow_ReadsTheRecordIgnoringUnknownFields()
    {
        SqliteDatabase database = _databases.New();
        await database.WriteAsync(
            static s => s.Execute(
                "INSERT INTO reviews (id, product, submitted_at, version, document) VALUES ($id, 'masterclass', $at, 4, $document)",
                ("$id", ReviewIdOfRow.Value), ("$at", T0), ("$document", ReviewRow)),
            CancellationToken.None);
        SqliteReviewStore store = new(database);

        Review found = (await store.FindAsync(ReviewIdOfRow)).ShouldNotBeNull();

        found.ShouldBeEquivalentTo(ExpectedReview);
        (await store.ListAsync("masterclass", 10)).ShouldHaveSingleItem().Id.ShouldBe(ReviewIdOfRow);
    }

    [Fact]
    public async Task FindAsync_FixedVersion1AffiliateRow_ReadsTheRecordIgnoringUnknownFields()
    {
        SqliteDatabase database = _databases.New();
        await database.WriteAsync(
            static s => s.Execute(
                "INSERT INTO affiliates (id, code, lead_id, version, document) VALUES ($id, 'sarah', $lead, 2, $document)",
                ("$id", AffiliateIdOfRow.Value), ("$lead", AffiliateLeadOfRow.Value), ("$document", AffiliateRow)),
            CancellationToken.None);
        SqliteAffiliateStore store = new(database);

        Affiliate found = (await store.FindAsync(AffiliateIdOfRow)).ShouldNotBeNull();

        found.ShouldBeEquivalentTo(ExpectedAffiliate);
        (await store.FindByCodeAsync("sarah")).ShouldNotBeNull().Id.ShouldBe(AffiliateIdOfRow);
    }

    [Fact]
    public async Task TryAddAsync_ReviewAndAffiliate_WriteVersion1OfTheFormatWithoutTheStoreVersion()
    {
        SqliteDatabase database = _databases.New();

        await new SqliteReviewStore(database).TryAddAsync(ExpectedReview);
        await new SqliteAffiliateStore(database).TryAddAsync(ExpectedAffiliate);

        string review = (await database.ReadAsync(static s => (string)s.Scalar("SELECT document FROM reviews")!, CancellationToken.None));
        string affiliate = (await database.ReadAsync(static s => (string)s.Scalar("SELECT document FROM affiliates")!, CancellationToken.None));
        review.ShouldBe(Compact(ReviewWritten));
        affiliate.ShouldBe(Compact(AffiliateWritten));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reopen_EveryStoreWritten_ReadsBackEveryRecord(bool everyMemberSet)
    {
        string path = SqliteTestDatabase.NewPath();
        Records records = everyMemberSet ? Records.Full() : Records.Minimal();
        SqliteDatabase first = _databases.Open(path);
        Stores stores = new(first);
        (await stores.Affiliates.TryAddAsync(records.Affiliate)).ShouldBeTrue();
        (await stores.Affiliates.TryUpdateAsync(records.Affiliate, records.Affiliate with { Clicks = 43 })).ShouldBeTrue();
        (await stores.Clicks.TryAddAsync(records.Click)).ShouldBeTrue();
        (await stores.Sales.TryAddAsync(records.Sale)).ShouldBeTrue();
        (await stores.Payouts.TryAddAsync(records.Payout)).ShouldBeTrue();
        (await stores.Referrers.TryAddAsync(records.Referrer)).ShouldBeTrue();
        (await stores.Referrals.TryAddAsync(records.Referral)).ShouldBeTrue();
        (await stores.Reviews.TryAddAsync(records.Review)).ShouldBeTrue();
        (await stores.Progress.AddAsync(records.Referrer.Lead, "course", "module-1")).Added.ShouldBeTrue();
        (await stores.Entitlements.TryAddAsync(records.Entitlement)).ShouldBeTrue();
        (await stores.Registrations.TryAddAsync(records.Registration)).ShouldBeTrue();
        first.Dispose();

        Stores reopened = new(_databases.Open(path));

        (await reopened.Affiliates.FindAsync(records.Affiliate.Id)).ShouldBeEquivalentTo(records.Affiliate with { Clicks = 43, Version = 1 });
        (await reopened.Clicks.ListAsync(records.Click.Visitor, records.Click.At, 10)).ShouldHaveSingleItem().ShouldBeEquivalentTo(records.Click);
        (await reopened.Sales.FindAsync(records.Sale.Order)).ShouldBeEquivalentTo(records.Sale);
        (await reopened.Payouts.ListAsync(records.Payout.Affiliate, 10)).ShouldHaveSingleItem().ShouldBeEquivalentTo(records.Payout);
        (await reopened.Referrers.FindAsync(records.Referrer.Lead)).ShouldBeEquivalentTo(records.Referrer);
        (await reopened.Referrals.FindAsync(records.Referral.Friend)).ShouldBeEquivalentTo(records.Referral);
        (await reopened.Reviews.FindAsync(records.Review.Id)).ShouldBeEquivalentTo(records.Review);
        (await reopened.Progress.GetAsync(records.Referrer.Lead, "course")).ShouldBe(["module-1"]);
        (await reopened.Entitlements.FindAsync(records.Entitlement.Lead, records.Entitlement.Product, records.Entitlement.Order))
            .ShouldBeEquivalentTo(records.Entitlement);
        WebinarRegistration registration = (await reopened.Registrations.FindAsync(records.Registration.Session.Webinar, records.Registration.Lead)).ShouldNotBeNull();
        registration.ShouldBe(records.Registration);
        registration.Session.LocalStart.Zone.Id.ShouldBe(records.Registration.Session.LocalStart.Zone.Id);
    }

    [Fact]
    public async Task ListQueries_InstantsBeyondTheStoredRange_CompareAsTheInstantsWould()
    {
        Records records = Records.Full();
        Stores stores = new(_databases.New());
        await stores.Clicks.TryAddAsync(records.Click);
        await stores.Sales.TryAddAsync(records.Sale with { Entries = [Entry(CommissionStatus.Pending, clearsAt: 10)] });
        await stores.Referrals.TryAddAsync(records.Referral);
        await stores.Registrations.TryAddAsync(records.Registration with { NoShowRecorded = false });

        (await stores.Clicks.ListAsync(records.Click.Visitor, Instant.MinValue, 10)).ShouldHaveSingleItem();
        (await stores.Clicks.ListAsync(records.Click.Visitor, Instant.MaxValue, 10)).ShouldBeEmpty();
        (await stores.Sales.ListClearedAsync(Instant.MaxValue, 10)).ShouldHaveSingleItem();
        (await stores.Sales.ListClearedAsync(Instant.MinValue, 10)).ShouldBeEmpty();
        (await stores.Referrals.ListClearedAsync(Instant.MaxValue, 10)).ShouldHaveSingleItem();
        (await stores.Referrals.ListClearedAsync(Instant.MinValue, 10)).ShouldBeEmpty();
        (await stores.Registrations.ListUnrecordedNoShowsAsync(Instant.MaxValue, 10)).ShouldHaveSingleItem();
        (await stores.Registrations.ListUnrecordedNoShowsAsync(Instant.MinValue, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListClearedAsync_SaleWhoseEarliestPendingEntryIsApproved_FollowsTheNextPendingEntry()
    {
        SqliteAffiliateSaleStore store = new(_databases.New());
        AffiliateSale sale = Records.Full().Sale with
        {
            Entries = [Entry(CommissionStatus.Pending, clearsAt: 10), Entry(CommissionStatus.Pending, clearsAt: 50)],
        };
        await store.TryAddAsync(sale);
        AffiliateSale stored = (await store.FindAsync(sale.Order))!;

        await store.TryUpdateAsync(stored, stored with { Entries = [Entry(CommissionStatus.Approved, clearsAt: 10), stored.Entries[1]] });

        (await store.ListClearedAsync(T0 + Duration.FromSeconds(20), 10)).ShouldBeEmpty();
        (await store.ListClearedAsync(T0 + Duration.FromSeconds(50), 10)).ShouldHaveSingleItem().Order.ShouldBe(sale.Order);
    }

    [Fact]
    public async Task ListUnrecordedNoShowsAsync_NoShowRecordedByUpdate_IsNoLongerListed()
    {
        SqliteWebinarRegistrationStore store = new(_databases.New(), DateTimeZoneProviders.Tzdb);
        WebinarRegistration registration = Records.Minimal().Registration;
        await store.TryAddAsync(registration);
        Instant after = registration.Session.EndsAt + Duration.FromMinutes(1);
        WebinarRegistration due = (await store.ListUnrecordedNoShowsAsync(after, 10)).ShouldHaveSingleItem();

        (await store.TryUpdateAsync(due, due with { NoShowRecorded = true })).ShouldBeTrue();

        (await store.ListUnrecordedNoShowsAsync(after, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherCode_ThrowsAndChangesNothing()
    {
        SqliteAffiliateStore store = new(_databases.New());
        await store.TryAddAsync(ExpectedAffiliate);
        Affiliate current = (await store.FindAsync(AffiliateIdOfRow))!;

        await Should.ThrowAsync<ArgumentException>(() => store.TryUpdateAsync(current, current with { Code = "other" }));

        (await store.FindByCodeAsync("sarah")).ShouldNotBeNull().Version.ShouldBe(0);
    }

    [Fact]
    public void AddFunnelSqlite_BeforeOrAfterAddFunnelAdvocacy_ReplacesEveryAdvocacyStore()
    {
        foreach (bool sqliteFirst in new[] { true, false })
        {
            ServiceCollection services = new();
            string connectionString = $"Data Source={SqliteTestDatabase.NewPath()}";
            if (sqliteFirst)
            {
                services.AddFunnelSqlite(connectionString).AddFunnelAdvocacy();
            }
            else
            {
                services.AddFunnelAdvocacy().AddFunnelSqlite(connectionString);
            }

            using ServiceProvider provider = services.BuildServiceProvider();
            Type[] seams =
            [
                typeof(IAffiliateStore), typeof(IAffiliateClickStore), typeof(IAffiliateSaleStore), typeof(IAffiliatePayoutStore),
                typeof(IReferrerStore), typeof(IReferralStore), typeof(IReviewStore), typeof(ICourseProgressStore),
                typeof(IEntitlementStore), typeof(IWebinarRegistrationStore),
            ];
            foreach (Type seam in seams)
            {
                provider.GetServices(seam).ShouldHaveSingleItem().ShouldNotBeNull().GetType().Name.ShouldStartWith("Sqlite", customMessage: seam.Name);
            }
        }
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static CommissionEntry Entry(CommissionStatus status, int clearsAt) => new()
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

    /// <summary>The ten stores over one database.</summary>
    private sealed class Stores(SqliteDatabase database)
    {
        public SqliteAffiliateStore Affiliates { get; } = new(database);

        public SqliteAffiliateClickStore Clicks { get; } = new(database);

        public SqliteAffiliateSaleStore Sales { get; } = new(database);

        public SqliteAffiliatePayoutStore Payouts { get; } = new(database);

        public SqliteReferrerStore Referrers { get; } = new(database);

        public SqliteReferralStore Referrals { get; } = new(database);

        public SqliteReviewStore Reviews { get; } = new(database);

        public SqliteCourseProgressStore Progress { get; } = new(database);

        public SqliteEntitlementStore Entitlements { get; } = new(database);

        public SqliteWebinarRegistrationStore Registrations { get; } = new(database, DateTimeZoneProviders.Tzdb);
    }

    /// <summary>One record of each stored type: with every member set, or with the optional ones left out.</summary>
    private sealed record Records(
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
        public static Records Full()
        {
            LeadId lead = LeadId.New(), friend = LeadId.New();
            AffiliateId affiliate = AffiliateId.New();
            OrderId order = OrderId.New();
            static Money Usd(long cents) => new(cents, Currency.USD);
            DateTimeZone berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
            Instant starts = T0 + Duration.FromDays(2);
            return new Records(
                new Affiliate
                {
                    Id = affiliate, Lead = lead, Code = "sarah", Status = AffiliateStatus.Approved, AppliedAt = T0,
                    DecidedAt = T0 + Duration.FromHours(3), Clicks = 42, SalesNumbered = 3,
                },
                new AffiliateClick { Id = Guid.NewGuid(), Affiliate = affiliate, Visitor = friend, At = T0 },
                new AffiliateSale
                {
                    Order = order, Affiliate = affiliate, SaleNumber = 3, Total = Usd(49_700), Percent = 30.5m, Fixed = Usd(1_000),
                    Paid = Usd(24_850), Refunded = Usd(100), Earned = Usd(7_579), ClawedBack = Usd(30),
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

        public static Records Minimal()
        {
            LeadId lead = LeadId.New(), friend = LeadId.New();
            AffiliateId affiliate = AffiliateId.New();
            OrderId order = OrderId.New();
            Money zero = new(0, Currency.EUR);
            return new Records(
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
}
