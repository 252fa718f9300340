using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Identifies a review.</summary>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct ReviewId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static ReviewId New() => new(Guid.CreateVersion7());

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>Where a review stands in moderation.</summary>
public enum ReviewStatus
{
    /// <summary>Submitted, waiting for moderation.</summary>
    Pending = 0,

    /// <summary>Approved; shown as a testimonial when the reviewer consented to publication.</summary>
    Approved = 1,

    /// <summary>Rejected, with a reason.</summary>
    Rejected = 2,
}

/// <summary>What a customer submits: a rating, a text, consent to publish and the name to show.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ReviewSubmission
{
    /// <summary>Gets the reviewer.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the reviewed product's key, such as <c>masterclass-course</c>.</summary>
    public required string Product { get; init; }

    /// <summary>Gets the rating, 1 to 5.</summary>
    public required int Rating { get; init; }

    /// <summary>Gets the review text, 1 to <see cref="ReviewSubmissionValidator.MaxTextLength"/> characters.</summary>
    public required string Text { get; init; }

    /// <summary>Gets whether the reviewer agrees that the review is published as a testimonial.</summary>
    public required bool ConsentToPublish { get; init; }

    /// <summary>Gets the name to show with the testimonial, such as <c>Sarah K., Denver</c>; required when <see cref="ConsentToPublish"/> is set.</summary>
    public string? AttributionName { get; init; }
}

/// <summary>Validates a <see cref="ReviewSubmission"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class ReviewSubmissionValidator : AbstractValidator<ReviewSubmission>
{
    /// <summary>The longest review text accepted, in characters.</summary>
    public const int MaxTextLength = 5000;

    /// <summary>The longest attribution name accepted, in characters.</summary>
    public const int MaxAttributionLength = 100;

    /// <summary>Initializes the validator.</summary>
    public ReviewSubmissionValidator()
    {
        RuleFor(r => r.Lead).Must(l => l != default).WithMessage("'Lead' must be set.");
        RuleFor(r => r.Product).Must(Key.IsValid).WithMessage("'Product' must be a valid key.");
        RuleFor(r => r.Rating).InclusiveBetween(1, 5);
        RuleFor(r => r.Text).NotEmpty().Must(t => !string.IsNullOrWhiteSpace(t)).WithMessage("'Text' must not be blank.").MaximumLength(MaxTextLength);
        RuleFor(r => r.AttributionName).Must(n => !string.IsNullOrWhiteSpace(n)).When(r => r.ConsentToPublish)
            .WithMessage("'AttributionName' is required when 'ConsentToPublish' is set.");
        RuleFor(r => r.AttributionName).MaximumLength(MaxAttributionLength);
    }
}

/// <summary>A review with its moderation state.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Review
{
    /// <summary>Gets the review id.</summary>
    public required ReviewId Id { get; init; }

    /// <summary>Gets what was submitted.</summary>
    public required ReviewSubmission Submission { get; init; }

    /// <summary>Gets when it was submitted.</summary>
    public required Instant SubmittedAt { get; init; }

    /// <summary>Gets the moderation status.</summary>
    /// <value>Defaults to <see cref="ReviewStatus.Pending"/>.</value>
    public ReviewStatus Status { get; init; } = ReviewStatus.Pending;

    /// <summary>Gets when it was approved or rejected.</summary>
    public Instant? ModeratedAt { get; init; }

    /// <summary>Gets why it was rejected.</summary>
    public string? RejectionReason { get; init; }

    /// <summary>Gets the incentives given for the review, such as <c>bonus-workbook</c>; a testimonial discloses that it was incentivised.</summary>
    public ImmutableArray<string> Incentives { get; init; } = [];

    /// <summary>Gets the stored version, for compare-and-set (<see cref="IReviewStore.TryUpdateAsync"/>).</summary>
    /// <value>0 when new; the store sets it to one more on every replacement.</value>
    public long Version { get; init; }
}

/// <summary>An approved, consented review, ready for a sales page.</summary>
/// <param name="Review">The review.</param>
/// <param name="Rating">The rating, 1 to 5.</param>
/// <param name="Text">The text.</param>
/// <param name="AttributionName">The name to show.</param>
/// <param name="SubmittedAt">When it was submitted.</param>
/// <param name="Incentivised">Whether an incentive was given for it; the page should disclose this.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Testimonial(ReviewId Review, int Rating, string Text, string AttributionName, Instant SubmittedAt, bool Incentivised);

/// <summary>How testimonials are ordered for a sales page.</summary>
public enum TestimonialOrder
{
    /// <summary>Newest first; ties by higher rating, then by id.</summary>
    MostRecent = 0,

    /// <summary>Highest rating first; ties by newest, then by id.</summary>
    HighestRated = 1,
}

/// <summary>A review and the events its change emitted.</summary>
/// <param name="Review">The review after the change.</param>
/// <param name="Events">The events this call recorded (already in the log; do not append them again).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ReviewResult(Review Review, ImmutableArray<FunnelEvent> Events);

/// <summary>Requests, collects, moderates and selects reviews and testimonials.</summary>
/// <remarks>
/// Submitting emits <c>review_submitted</c>; approving <c>review_approved</c>, rejecting <c>review_rejected</c>
/// (with the reason), recording an incentive <c>review_incentive_granted</c>. Only approved reviews whose author
/// consented to publication become testimonials. Each call appends its events to the <see cref="IFunnelEventLog"/>
/// itself, right after the store change.
/// </remarks>
/// <threadsafety>All members are thread-safe when the store is; concurrent changes to one review are compare-and-set on its version, so none is lost.</threadsafety>
public sealed class ReviewService
{
    private static readonly ReviewSubmissionValidator Validator = new();
    private readonly IReviewStore store;
    private readonly IClock clock;
    private readonly IFunnelEventLog log;

    /// <summary>Initializes the service.</summary>
    /// <param name="store">The review store.</param>
    /// <param name="clock">The clock that stamps reviews and events.</param>
    /// <param name="log">The event log the service records its events in.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public ReviewService(IReviewStore store, IClock clock, IFunnelEventLog log)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        this.store = store;
        this.clock = clock;
        this.log = log;
    }

    /// <summary>Records that a customer is asked for a review of a product (send the email from a sequence triggered on it).</summary>
    /// <param name="lead">The customer.</param>
    /// <param name="product">The product key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The <c>review_requested</c> event this call recorded (already in the log; do not append it again).</returns>
    /// <exception cref="ArgumentException"><paramref name="product"/> is not a valid key.</exception>
    public async Task<ReviewRequested> RequestAsync(LeadId lead, string product, CancellationToken cancellationToken = default)
    {
        if (!Key.IsValid(product))
        {
            throw new ArgumentException("'product' must be a valid key.", nameof(product));
        }

        var requested = new ReviewRequested { LeadId = lead, OccurredAt = clock.GetCurrentInstant(), Product = product };
        await log.AppendAsync([requested], cancellationToken).ConfigureAwait(false);
        return requested;
    }

    /// <summary>Validates and stores a submitted review, pending moderation.</summary>
    /// <param name="submission">The submission.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pending review and its <c>review_submitted</c> event, recorded by this call (already in the log; do not append it again).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="submission"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The submission is invalid; the errors name the fields, such as <c>Rating</c>.</exception>
    public async Task<ReviewResult> SubmitAsync(ReviewSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        await Validator.ValidateAndThrowAsync(submission, cancellationToken).ConfigureAwait(false);
        Instant now = clock.GetCurrentInstant();
        var review = new Review { Id = ReviewId.New(), Submission = submission with { Text = submission.Text.Trim(), AttributionName = submission.AttributionName?.Trim() }, SubmittedAt = now };
        if (!await store.TryAddAsync(review, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"Review {review.Id} already exists.");
        }

        return await RecordAsync(review, [new ReviewSubmitted { LeadId = submission.Lead, OccurredAt = now, Product = submission.Product, Rating = submission.Rating }], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Approves a review.</summary>
    /// <param name="id">The review id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The approved review and its <c>review_approved</c> event, recorded by this call (already in the log; do not append it again).</returns>
    /// <exception cref="KeyNotFoundException">No review has the id.</exception>
    public async Task<ReviewResult> ApproveAsync(ReviewId id, CancellationToken cancellationToken = default)
    {
        Instant now = clock.GetCurrentInstant();
        Review review = (await UpdateAsync(id, r => r with { Status = ReviewStatus.Approved, ModeratedAt = now, RejectionReason = null }, cancellationToken).ConfigureAwait(false)).After!;
        return await RecordAsync(review, [new ReviewApproved { LeadId = review.Submission.Lead, OccurredAt = now, Review = id, Product = review.Submission.Product }], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rejects a review with a reason.</summary>
    /// <param name="id">The review id.</param>
    /// <param name="reason">Why, such as <c>contains personal data</c>; not blank.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The rejected review and its <c>review_rejected</c> event, recorded by this call (already in the log; do not append it again).</returns>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is blank.</exception>
    /// <exception cref="KeyNotFoundException">No review has the id.</exception>
    public async Task<ReviewResult> RejectAsync(ReviewId id, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Instant now = clock.GetCurrentInstant();
        Review review = (await UpdateAsync(id, r => r with { Status = ReviewStatus.Rejected, ModeratedAt = now, RejectionReason = reason.Trim() }, cancellationToken).ConfigureAwait(false)).After!;
        return await RecordAsync(review, [new ReviewRejected { LeadId = review.Submission.Lead, OccurredAt = now, Review = id, Product = review.Submission.Product, Reason = review.RejectionReason! }], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records an incentive given for leaving a review, such as a bonus or a coupon.</summary>
    /// <param name="id">The review id.</param>
    /// <param name="incentive">The incentive's key, such as <c>bonus-workbook</c>; a valid key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The review and its <c>review_incentive_granted</c> event; no event when the incentive was already recorded.</returns>
    /// <exception cref="ArgumentException"><paramref name="incentive"/> is not a valid key.</exception>
    /// <exception cref="KeyNotFoundException">No review has the id.</exception>
    public async Task<ReviewResult> RecordIncentiveAsync(ReviewId id, string incentive, CancellationToken cancellationToken = default)
    {
        if (!Key.IsValid(incentive))
        {
            throw new ArgumentException("'incentive' must be a valid key.", nameof(incentive));
        }

        OptimisticConcurrency.Update<Review> update = await UpdateAsync(
            id, r => r.Incentives.Contains(incentive) ? r : r with { Incentives = r.Incentives.Add(incentive) }, cancellationToken).ConfigureAwait(false);
        Review review = update.After!;
        if (!update.Changed)
        {
            return new ReviewResult(review, []);
        }

        return await RecordAsync(review, [new ReviewIncentiveGranted { LeadId = review.Submission.Lead, OccurredAt = clock.GetCurrentInstant(), Review = id, Incentive = incentive }], cancellationToken).ConfigureAwait(false);
    }

    private async Task<ReviewResult> RecordAsync(Review review, ImmutableArray<FunnelEvent> events, CancellationToken cancellationToken) =>
        new(review, await log.RecordAsync(events, cancellationToken).ConfigureAwait(false));

    /// <summary>Selects testimonials for a product's sales page: approved reviews whose author consented to publication.</summary>
    /// <param name="product">The product key.</param>
    /// <param name="count">How many at most; not negative.</param>
    /// <param name="order">The order.</param>
    /// <param name="minimumRating">The lowest rating to show, 1 to 5.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <remarks>They are chosen among the product's <see cref="MaxReviewsConsidered"/> most recent reviews.</remarks>
    /// <returns>The testimonials, in the order asked for.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="minimumRating"/> is outside 1 to 5.</exception>
    public async Task<ImmutableArray<Testimonial>> SelectTestimonialsAsync(string product, int count, TestimonialOrder order = TestimonialOrder.MostRecent, int minimumRating = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumRating, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minimumRating, 5);
        ImmutableArray<Review> reviews = await store.ListAsync(product, MaxReviewsConsidered, cancellationToken).ConfigureAwait(false);
        IEnumerable<Review> eligible = reviews.Where(r => r.Status == ReviewStatus.Approved && r.Submission.ConsentToPublish
            && r.Submission.AttributionName is not null && r.Submission.Rating >= minimumRating);
        IOrderedEnumerable<Review> ordered = order == TestimonialOrder.HighestRated
            ? eligible.OrderByDescending(r => r.Submission.Rating).ThenByDescending(r => r.SubmittedAt)
            : eligible.OrderByDescending(r => r.SubmittedAt).ThenByDescending(r => r.Submission.Rating);
        return [.. ordered.ThenBy(r => r.Id.Value).Take(count).Select(r =>
            new Testimonial(r.Id, r.Submission.Rating, r.Submission.Text, r.Submission.AttributionName!, r.SubmittedAt, !r.Incentives.IsDefaultOrEmpty))];
    }

    /// <summary>The most reviews of one product that <see cref="SelectTestimonialsAsync"/> reads, newest first.</summary>
    public const int MaxReviewsConsidered = 1000;

    private Task<OptimisticConcurrency.Update<Review>> UpdateAsync(ReviewId id, Func<Review, Review> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.UpdateAsync(
            async c => await store.FindAsync(id, c).ConfigureAwait(false) ?? throw new KeyNotFoundException($"No review has the id {id}."),
            current => change(current!),
            tryAddAsync: null,
            store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Review {id}",
            cancellationToken);
}

/// <summary>A customer was asked for a review.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReviewRequested)]
public sealed record ReviewRequested : LeadEvent
{
    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReviewRequested;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}

/// <summary>A review was approved for publication.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReviewApproved)]
public sealed record ReviewApproved : LeadEvent
{
    /// <summary>Gets the review.</summary>
    public required ReviewId Review { get; init; }

    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReviewApproved;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}

/// <summary>A review was rejected by moderation.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReviewRejected)]
public sealed record ReviewRejected : LeadEvent
{
    /// <summary>Gets the review.</summary>
    public required ReviewId Review { get; init; }

    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <summary>Gets why it was rejected.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReviewRejected;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}

/// <summary>An incentive was given for a review.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ReviewIncentiveGranted)]
public sealed record ReviewIncentiveGranted : LeadEvent
{
    /// <summary>Gets the review.</summary>
    public required ReviewId Review { get; init; }

    /// <summary>Gets the incentive's key.</summary>
    public required string Incentive { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ReviewIncentiveGranted;

    /// <inheritdoc/>
    /// <value>The <see cref="Incentive"/> key.</value>
    public override string? Subject => Incentive;
}
