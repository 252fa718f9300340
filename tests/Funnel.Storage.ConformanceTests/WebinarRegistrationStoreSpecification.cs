using Funnel.Webinars;
using NodaTime;
using static Funnel.Storage.ConformanceTests.ConformanceKit;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IWebinarRegistrationStore"/>: one registration per webinar and lead.</summary>
public abstract class WebinarRegistrationStoreSpecification : VersionedStoreSpecification<IWebinarRegistrationStore, WebinarRegistration>
{
    [Fact]
    public async Task TryAddAsync_SameLeadAnotherWebinar_IsAnotherRegistration()
    {
        IWebinarRegistrationStore store = CreateStore();
        await store.TryAddAsync(NewDocument(1));

        (await store.TryAddAsync(Registration(Lead(1), "other", endsAt: 60))).ShouldBeTrue();

        (await store.FindAsync("other", Lead(1))).ShouldNotBeNull().Session.Webinar.ShouldBe("other");
    }

    [Fact]
    public async Task ListUnrecordedNoShowsAsync_Mixed_ReturnsEndedUnattendedUnrecordedBySessionEndAtMostMax()
    {
        IWebinarRegistrationStore store = CreateStore();
        await store.TryAddAsync(Registration(Lead(1), "w", endsAt: 30));
        await store.TryAddAsync(Registration(Lead(2), "w", endsAt: 10));
        await store.TryAddAsync(Registration(Lead(3), "w", endsAt: 20) with { Attended = true });
        await store.TryAddAsync(Registration(Lead(4), "w", endsAt: 20) with { NoShowRecorded = true });
        await store.TryAddAsync(Registration(Lead(5), "w", endsAt: 500));
        await store.TryAddAsync(Registration(Lead(6), "w", endsAt: 40));

        var all = await store.ListUnrecordedNoShowsAsync(At(100), 10);
        all.Select(r => r.Lead).ShouldBe([Lead(2), Lead(1), Lead(6)]);
        (await store.ListUnrecordedNoShowsAsync(At(100), 2)).Select(r => r.Lead).ShouldBe([Lead(2), Lead(1)]);
        (await store.ListUnrecordedNoShowsAsync(At(30), 10)).Select(r => r.Lead).ShouldBe([Lead(2), Lead(1)]);
    }

    protected static WebinarRegistration Registration(LeadId lead, string webinar, int endsAt)
    {
        var session = new WebinarSession(webinar, SessionKind.Live, At(endsAt - 60), At(endsAt), At(endsAt - 60).InUtc());
        return new WebinarRegistration(lead, session, T0, false);
    }

    protected override WebinarRegistration NewDocument(int n) => Registration(Lead(n), "w", endsAt: 3_600);

    protected override WebinarRegistration Changed(WebinarRegistration current, int change) =>
        current with { RegisteredAt = At(change), Attended = change % 2 == 0 };

    protected override Task<WebinarRegistration?> FindAsync(IWebinarRegistrationStore store, WebinarRegistration document) =>
        store.FindAsync(document.Session.Webinar, document.Lead);

    protected override Task<bool> TryAddAsync(IWebinarRegistrationStore store, WebinarRegistration document) => store.TryAddAsync(document);

    protected override Task<bool> TryUpdateAsync(IWebinarRegistrationStore store, WebinarRegistration current, WebinarRegistration replacement) =>
        store.TryUpdateAsync(current, replacement);

    protected override long VersionOf(WebinarRegistration document) => document.Version;

    protected override string ContentOf(WebinarRegistration document) =>
        $"{document.Session.Webinar}/{document.Lead}/{document.Session.StartsAt}/{document.RegisteredAt}/{document.Attended}/{document.NoShowRecorded}";
}
