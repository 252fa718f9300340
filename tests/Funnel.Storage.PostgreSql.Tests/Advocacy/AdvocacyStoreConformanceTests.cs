using Funnel.Advocacy;
using Funnel.Onboarding;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Advocacy;
using Funnel.Webinars;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Tests.Advocacy;

// Every specification of Funnel.Advocacy's stores, run against the PostgreSQL stores, each test on a fresh database.

public sealed class PgAffiliateStoreTests : AffiliateStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IAffiliateStore CreateStore() => new PgAffiliateStore(_database.Empty());
}

public sealed class PgAffiliateClickStoreTests : AffiliateClickStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IAffiliateClickStore CreateStore() => new PgAffiliateClickStore(_database.Empty());
}

public sealed class PgAffiliateSaleStoreTests : AffiliateSaleStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IAffiliateSaleStore CreateStore() => new PgAffiliateSaleStore(_database.Empty());
}

public sealed class PgAffiliatePayoutStoreTests : AffiliatePayoutStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IAffiliatePayoutStore CreateStore() => new PgAffiliatePayoutStore(_database.Empty());
}

public sealed class PgReferrerStoreTests : ReferrerStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IReferrerStore CreateStore() => new PgReferrerStore(_database.Empty());
}

public sealed class PgReferralStoreTests : ReferralStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IReferralStore CreateStore() => new PgReferralStore(_database.Empty());
}

public sealed class PgReviewStoreTests : ReviewStoreSpecificationTests, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IReviewStore CreateStore() => new PgReviewStore(_database.Empty());
}

public sealed class PgCourseProgressStoreTests : CourseProgressStoreSpecificationTests, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override ICourseProgressStore CreateStore() => new PgCourseProgressStore(_database.Empty());
}

public sealed class PgEntitlementStoreTests : EntitlementStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IEntitlementStore CreateStore() => new PgEntitlementStore(_database.Empty());
}

public sealed class PgWebinarRegistrationStoreTests : WebinarRegistrationStoreSpecification, IAsyncLifetime
{
    private readonly AdvocacyTestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    protected override IWebinarRegistrationStore CreateStore() =>
        new PgWebinarRegistrationStore(_database.Empty(), DateTimeZoneProviders.Tzdb);
}
