using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

public class ReviewServiceTests
{
    private static ReviewSubmission Submission(int lead, int rating, bool consent = true, string product = "masterclass-course") => new()
    {
        Lead = Lead(lead),
        Product = product,
        Rating = rating,
        Text = "  Finished my e-book in 30 days.  ",
        ConsentToPublish = consent,
        AttributionName = consent ? "Reader " + lead : null,
    };

    [Fact]
    public async Task RequestAsync_ValidProduct_RecordsReviewRequested()
    {
        var log = new InMemoryFunnelEventLog();
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), log);

        ReviewRequested requested = await service.RequestAsync(Lead(1), "masterclass-course");

        requested.Subject.ShouldBe("masterclass-course");
        requested.EventType.ShouldBe(AdvocacyEventTypes.ReviewRequested);
        log.Snapshot().ShouldBe([requested]);
    }

    [Fact]
    public async Task SubmitAndApprove_Recorded_EventsAreInTheLogOnce()
    {
        var log = new InMemoryFunnelEventLog();
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), log);

        ReviewResult submitted = await service.SubmitAsync(Submission(1, 5));
        ReviewResult approved = await service.ApproveAsync(submitted.Review.Id);

        log.Snapshot().ShouldBe([.. submitted.Events, .. approved.Events]);
    }

    [Fact]
    public async Task SubmitAsync_ValidSubmission_StoresPendingReviewAndEmitsReviewSubmitted()
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());

        ReviewResult result = await service.SubmitAsync(Submission(1, 5));

        result.Review.Status.ShouldBe(ReviewStatus.Pending);
        result.Review.Submission.Text.ShouldBe("Finished my e-book in 30 days.");
        result.Events.ShouldHaveSingleItem().ShouldBeOfType<ReviewSubmitted>().Rating.ShouldBe(5);
    }

    [Theory]
    [InlineData(0, "Rating")]
    [InlineData(6, "Rating")]
    public async Task SubmitAsync_RatingOutOfRange_NamesRating(int rating, string field)
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());

        var error = await Should.ThrowAsync<ValidationException>(() => service.SubmitAsync(Submission(1, rating)));

        error.Errors.ShouldContain(e => e.PropertyName == field);
    }

    [Fact]
    public async Task SubmitAsync_ConsentWithoutNameOrBlankText_NamesTheFields()
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());

        var error = await Should.ThrowAsync<ValidationException>(() => service.SubmitAsync(Submission(1, 4) with { AttributionName = " ", Text = "   " }));

        error.Errors.ShouldContain(e => e.PropertyName == "AttributionName");
        error.Errors.ShouldContain(e => e.PropertyName == "Text");
    }

    [Fact]
    public async Task RejectAsync_WithReason_IsRejectedAndNeverATestimonial()
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());
        ReviewId id = (await service.SubmitAsync(Submission(1, 5))).Review.Id;

        ReviewResult rejected = await service.RejectAsync(id, "contains a phone number");

        rejected.Review.Status.ShouldBe(ReviewStatus.Rejected);
        rejected.Events.ShouldHaveSingleItem().ShouldBeOfType<ReviewRejected>().Reason.ShouldBe("contains a phone number");
        (await service.SelectTestimonialsAsync("masterclass-course", 10)).ShouldBeEmpty();
        await Should.ThrowAsync<ArgumentException>(() => service.RejectAsync(id, " "));
    }

    [Fact]
    public async Task SelectTestimonialsAsync_MixedReviews_OnlyApprovedWithConsentInTheAskedOrder()
    {
        var clock = new FakeClock(T0);
        var service = new ReviewService(new InMemoryReviewStore(), clock, new InMemoryFunnelEventLog());
        async Task<ReviewId> Add(int lead, int rating, bool consent = true, bool approve = true, string product = "masterclass-course")
        {
            clock.Advance(Duration.FromHours(1));
            ReviewId id = (await service.SubmitAsync(Submission(lead, rating, consent, product))).Review.Id;
            if (approve)
            {
                await service.ApproveAsync(id);
            }

            return id;
        }

        ReviewId oldFive = await Add(1, 5);
        ReviewId four = await Add(2, 4);
        await Add(3, 5, consent: false);
        await Add(4, 5, approve: false);
        await Add(5, 5, product: "other-product");
        ReviewId newFive = await Add(6, 5);
        ReviewId three = await Add(7, 3);

        (await service.SelectTestimonialsAsync("masterclass-course", 10)).Select(t => t.Review).ShouldBe([three, newFive, four, oldFive]);
        (await service.SelectTestimonialsAsync("masterclass-course", 3, TestimonialOrder.HighestRated)).Select(t => t.Review).ShouldBe([newFive, oldFive, four]);
        (await service.SelectTestimonialsAsync("masterclass-course", 10, minimumRating: 4)).Length.ShouldBe(3);
    }

    [Fact]
    public async Task RecordIncentiveAsync_Twice_RecordsOnceAndMarksTheTestimonialIncentivised()
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());
        ReviewId id = (await service.SubmitAsync(Submission(1, 5))).Review.Id;
        await service.ApproveAsync(id);

        (await service.RecordIncentiveAsync(id, "bonus-workbook")).Events.ShouldHaveSingleItem().ShouldBeOfType<ReviewIncentiveGranted>();
        (await service.RecordIncentiveAsync(id, "bonus-workbook")).Events.ShouldBeEmpty();

        (await service.SelectTestimonialsAsync("masterclass-course", 1)).Single().Incentivised.ShouldBeTrue();
    }

    [Fact]
    public async Task ApproveAsync_UnknownReview_Throws()
    {
        var service = new ReviewService(new InMemoryReviewStore(), new FakeClock(T0), new InMemoryFunnelEventLog());

        await Should.ThrowAsync<KeyNotFoundException>(() => service.ApproveAsync(ReviewId.New()));
    }
}
