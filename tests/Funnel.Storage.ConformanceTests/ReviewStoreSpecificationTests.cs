using Funnel.Advocacy;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The contract of <see cref="IReviewStore"/>: subclass it with a <see cref="CreateStore"/> of your store.</summary>
public abstract class ReviewStoreSpecificationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);

    /// <summary>Returns a new, empty store.</summary>
    protected abstract IReviewStore CreateStore();

    [Fact]
    public async Task TryAddAsync_SameIdTwice_SecondReturnsFalse()
    {
        IReviewStore store = CreateStore();
        Review review = NewReview("masterclass", Start);

        (await store.TryAddAsync(review)).ShouldBeTrue();
        (await store.TryAddAsync(review with { Status = ReviewStatus.Approved })).ShouldBeFalse();

        Review stored = (await store.FindAsync(review.Id)).ShouldNotBeNull();
        stored.Status.ShouldBe(ReviewStatus.Pending);
        stored.Version.ShouldBe(0);
    }

    [Fact]
    public async Task TryUpdateAsync_StaleVersion_ReturnsFalseAndChangesNothing()
    {
        IReviewStore store = CreateStore();
        Review review = NewReview("masterclass", Start);
        await store.TryAddAsync(review);
        (await store.TryUpdateAsync(review, review with { Status = ReviewStatus.Approved })).ShouldBeTrue();

        (await store.TryUpdateAsync(review, review with { Status = ReviewStatus.Rejected, RejectionReason = "late" })).ShouldBeFalse();

        Review stored = (await store.FindAsync(review.Id)).ShouldNotBeNull();
        stored.Status.ShouldBe(ReviewStatus.Approved);
        stored.Version.ShouldBe(1);
    }

    [Fact]
    public async Task TryUpdateAsync_ParallelUpdatesFromOneVersion_ExactlyOneWins()
    {
        IReviewStore store = CreateStore();
        Review review = NewReview("masterclass", Start);
        await store.TryAddAsync(review);

        bool[] won = await Race.RunAsync(Race.Contenders, i => store.TryUpdateAsync(review, review with { RejectionReason = "r" + i }));

        won.Count(w => w).ShouldBe(1);
        Review stored = (await store.FindAsync(review.Id)).ShouldNotBeNull();
        stored.Version.ShouldBe(1);
        stored.RejectionReason.ShouldBe("r" + Array.IndexOf(won, true));
    }

    [Fact]
    public async Task ListAsync_MoreReviewsThanMax_ReturnsTheNewestOfTheProductOnly()
    {
        IReviewStore store = CreateStore();
        for (int i = 0; i < 5; i++)
        {
            await store.TryAddAsync(NewReview("masterclass", Start + Duration.FromHours(i)));
        }

        await store.TryAddAsync(NewReview("ebook", Start + Duration.FromDays(1)));

        var listed = await store.ListAsync("masterclass", 3);

        listed.Select(r => r.SubmittedAt).ShouldBe([Start + Duration.FromHours(4), Start + Duration.FromHours(3), Start + Duration.FromHours(2)]);
        listed.ShouldAllBe(r => r.Submission.Product == "masterclass");
    }

    private static Review NewReview(string product, Instant at) => new()
    {
        Id = ReviewId.New(),
        SubmittedAt = at,
        Submission = new ReviewSubmission { Lead = LeadId.New(), Product = product, Rating = 5, Text = "Great.", ConsentToPublish = false },
    };
}
