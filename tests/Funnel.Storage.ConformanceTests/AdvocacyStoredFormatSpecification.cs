using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Webinars;
using NodaTime;
using static Funnel.Storage.ConformanceTests.AdvocacySamples;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The ten stores of Funnel.Advocacy over one database.</summary>
public sealed record AdvocacyStores(
    IAffiliateStore Affiliates,
    IAffiliateClickStore Clicks,
    IAffiliateSaleStore Sales,
    IAffiliatePayoutStore Payouts,
    IReferrerStore Referrers,
    IReferralStore Referrals,
    IReviewStore Reviews,
    ICourseProgressStore Progress,
    IEntitlementStore Entitlements,
    IWebinarRegistrationStore Registrations);

/// <summary>
/// The stored format of Funnel.Advocacy's documents, the same for every durable store: fixed rows of version 1 read
/// back, the JSON written, every record surviving a reopen, and the queries on derived columns.
/// </summary>
/// <remarks>Subclass it with the stores over a fresh database of your own, and the raw SQL that reads and writes rows.</remarks>
public abstract class AdvocacyStoredFormatSpecification
{
    /// <summary>Creates a fresh, migrated database and returns the ten stores over it.</summary>
    protected abstract Task<AdvocacyStores> CreateStoresAsync();

    /// <summary>Closes the database of <paramref name="stores"/>, opens it again and returns new stores over it.</summary>
    protected abstract Task<AdvocacyStores> ReopenAsync(AdvocacyStores stores);

    /// <summary>Inserts <paramref name="document"/> into <c>reviews</c>: id <see cref="ReviewIdOfRow"/>, product <c>masterclass</c>, submitted at <see cref="T0"/>, version 4.</summary>
    protected abstract Task InsertReviewRowAsync(AdvocacyStores stores, string document);

    /// <summary>Inserts <paramref name="document"/> into <c>affiliates</c>: id <see cref="AffiliateIdOfRow"/>, code <c>sarah</c>, lead <see cref="AffiliateLeadOfRow"/>, version 2.</summary>
    protected abstract Task InsertAffiliateRowAsync(AdvocacyStores stores, string document);

    /// <summary>Returns the <c>document</c> of the only row of <paramref name="table"/>, as stored.</summary>
    protected abstract Task<string> DocumentAsync(AdvocacyStores stores, string table);

    /// <summary>Asserts that a stored document is <paramref name="written"/>; by default as compact text, in that order.</summary>
    protected virtual void ShouldBeStoredAs(string stored, string written) => stored.ShouldBe(Compact(written));

    [Fact]
    public async Task FindAsync_FixedVersion1ReviewRow_ReadsTheRecordIgnoringUnknownFields()
    {
        AdvocacyStores stores = await CreateStoresAsync();
        await InsertReviewRowAsync(stores, ReviewRow);
        IReviewStore store = stores.Reviews;

        Review found = (await store.FindAsync(ReviewIdOfRow)).ShouldNotBeNull();

        found.ShouldBeEquivalentTo(ExpectedReview);
        (await store.ListAsync("masterclass", 10)).ShouldHaveSingleItem().Id.ShouldBe(ReviewIdOfRow);
    }

    [Fact]
    public async Task FindAsync_FixedVersion1AffiliateRow_ReadsTheRecordIgnoringUnknownFields()
    {
        AdvocacyStores stores = await CreateStoresAsync();
        await InsertAffiliateRowAsync(stores, AffiliateRow);
        IAffiliateStore store = stores.Affiliates;

        Affiliate found = (await store.FindAsync(AffiliateIdOfRow)).ShouldNotBeNull();

        found.ShouldBeEquivalentTo(ExpectedAffiliate);
        (await store.FindByCodeAsync("sarah")).ShouldNotBeNull().Id.ShouldBe(AffiliateIdOfRow);
    }

    [Fact]
    public async Task TryAddAsync_ReviewAndAffiliate_WriteVersion1OfTheFormatWithoutTheStoreVersion()
    {
        AdvocacyStores stores = await CreateStoresAsync();

        await stores.Reviews.TryAddAsync(ExpectedReview);
        await stores.Affiliates.TryAddAsync(ExpectedAffiliate);

        ShouldBeStoredAs(await DocumentAsync(stores, "reviews"), ReviewWritten);
        ShouldBeStoredAs(await DocumentAsync(stores, "affiliates"), AffiliateWritten);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reopen_EveryStoreWritten_ReadsBackEveryRecord(bool everyMemberSet)
    {
        AdvocacyRecords records = everyMemberSet ? AdvocacyRecords.Full() : AdvocacyRecords.Minimal();
        AdvocacyStores stores = await CreateStoresAsync();
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

        AdvocacyStores reopened = await ReopenAsync(stores);

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
        AdvocacyRecords records = AdvocacyRecords.Full();
        AdvocacyStores stores = (await CreateStoresAsync());
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
    public async Task ListQueries_InstantsWithinOneMicrosecond_CompareToTheNanosecond()
    {
        Duration half = Duration.FromNanoseconds(500);
        AdvocacyRecords records = AdvocacyRecords.Full();
        AffiliateClick click = records.Click with { At = T0 + half };
        Referral referral = records.Referral with { ClearsAt = T0 + half };
        WebinarRegistration registration = records.Registration with
        {
            NoShowRecorded = false,
            Session = records.Registration.Session with { EndsAt = T0 + half },
        };
        AdvocacyStores stores = (await CreateStoresAsync());
        await stores.Clicks.TryAddAsync(click);
        await stores.Sales.TryAddAsync(records.Sale with { Entries = [Entry(CommissionStatus.Pending, clearsAt: 0) with { ClearsAt = T0 + half }] });
        await stores.Referrals.TryAddAsync(referral);
        await stores.Registrations.TryAddAsync(registration);
        Instant before = T0 + half - Duration.Epsilon, after = T0 + half + Duration.Epsilon;

        (await stores.Clicks.ListAsync(click.Visitor, T0 + half, 10)).ShouldHaveSingleItem();
        (await stores.Clicks.ListAsync(click.Visitor, after, 10)).ShouldBeEmpty();
        (await stores.Sales.ListClearedAsync(T0 + half, 10)).ShouldHaveSingleItem();
        (await stores.Sales.ListClearedAsync(before, 10)).ShouldBeEmpty();
        (await stores.Referrals.ListClearedAsync(T0 + half, 10)).ShouldHaveSingleItem();
        (await stores.Referrals.ListClearedAsync(before, 10)).ShouldBeEmpty();
        (await stores.Registrations.ListUnrecordedNoShowsAsync(T0 + half, 10)).ShouldHaveSingleItem();
        (await stores.Registrations.ListUnrecordedNoShowsAsync(before, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListClearedAsync_SaleWhoseEarliestPendingEntryIsApproved_FollowsTheNextPendingEntry()
    {
        IAffiliateSaleStore store = (await CreateStoresAsync()).Sales;
        AffiliateSale sale = AdvocacyRecords.Full().Sale with
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
        IWebinarRegistrationStore store = (await CreateStoresAsync()).Registrations;
        WebinarRegistration registration = AdvocacyRecords.Minimal().Registration;
        await store.TryAddAsync(registration);
        Instant after = registration.Session.EndsAt + Duration.FromMinutes(1);
        WebinarRegistration due = (await store.ListUnrecordedNoShowsAsync(after, 10)).ShouldHaveSingleItem();

        (await store.TryUpdateAsync(due, due with { NoShowRecorded = true })).ShouldBeTrue();

        (await store.ListUnrecordedNoShowsAsync(after, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherCode_ThrowsAndChangesNothing()
    {
        IAffiliateStore store = (await CreateStoresAsync()).Affiliates;
        await store.TryAddAsync(ExpectedAffiliate);
        Affiliate current = (await store.FindAsync(AffiliateIdOfRow))!;

        await Should.ThrowAsync<ArgumentException>(() => store.TryUpdateAsync(current, current with { Code = "other" }));

        (await store.FindByCodeAsync("sarah")).ShouldNotBeNull().Version.ShouldBe(0);
    }
}
