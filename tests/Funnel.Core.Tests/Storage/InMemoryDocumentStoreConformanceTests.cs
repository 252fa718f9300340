using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Segments;
using Funnel.Webinars;

using Funnel.Storage.ConformanceTests;

namespace Funnel.Tests.Storage;

public sealed class InMemoryEntitlementStoreTests : EntitlementStoreSpecification
{
    protected override IEntitlementStore CreateStore() => new InMemoryEntitlementStore();
}

public sealed class InMemoryWebinarRegistrationStoreTests : WebinarRegistrationStoreSpecification
{
    protected override IWebinarRegistrationStore CreateStore() => new InMemoryWebinarRegistrationStore();
}

public sealed class InMemoryReferrerStoreTests : ReferrerStoreSpecification
{
    protected override IReferrerStore CreateStore() => new InMemoryReferrerStore();
}

public sealed class InMemoryReferralStoreTests : ReferralStoreSpecification
{
    protected override IReferralStore CreateStore() => new InMemoryReferralStore();
}

public sealed class InMemorySegmentMembershipStoreTests : SegmentMembershipStoreSpecification
{
    protected override ISegmentMembershipStore CreateStore() => new InMemorySegmentMembershipStore();
}

public sealed class InMemoryAffiliateStoreTests : AffiliateStoreSpecification
{
    protected override IAffiliateStore CreateStore() => new InMemoryAffiliateStore();
}

public sealed class InMemoryAffiliateSaleStoreTests : AffiliateSaleStoreSpecification
{
    protected override IAffiliateSaleStore CreateStore() => new InMemoryAffiliateSaleStore();
}

public sealed class InMemoryAffiliateClickStoreTests : AffiliateClickStoreSpecification
{
    protected override IAffiliateClickStore CreateStore() => new InMemoryAffiliateClickStore();
}

public sealed class InMemoryAffiliatePayoutStoreTests : AffiliatePayoutStoreSpecification
{
    protected override IAffiliatePayoutStore CreateStore() => new InMemoryAffiliatePayoutStore();
}
