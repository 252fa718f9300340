namespace Funnel.Events;

/// <summary>A page was viewed; the first touch of most visitors.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.PageViewed)]
public sealed record PageViewed : LeadEvent
{
    /// <summary>Gets the path of the page, such as <c>/blog/write-an-ebook-in-30-days</c>.</summary>
    public required string Page { get; init; }

    /// <summary>Gets the page title, when known.</summary>
    public string? Title { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.PageViewed;

    /// <inheritdoc/>
    /// <value>The <see cref="Page"/> path.</value>
    public override string? Subject => Page;
}

/// <summary>A lead gave an email address in exchange for a lead magnet.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.OptedIn)]
public sealed record OptedIn : LeadEvent
{
    /// <summary>Gets the key of the lead magnet, such as <c>quick-start-guide</c>.</summary>
    public required string Magnet { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.OptedIn;

    /// <inheritdoc/>
    /// <value>The <see cref="Magnet"/> key.</value>
    public override string? Subject => Magnet;
}

/// <summary>A lead moved from one lifecycle stage to a later one.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.LifecycleStageChanged)]
public sealed record LifecycleStageChanged : LeadEvent
{
    /// <summary>Gets the stage the lead left.</summary>
    public required LifecycleStage From { get; init; }

    /// <summary>Gets the stage the lead entered.</summary>
    public required LifecycleStage To { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.LifecycleStageChanged;

    /// <inheritdoc/>
    /// <value>The key of the stage entered, such as <c>marketing-qualified</c> (see <see cref="LifecycleStageExtensions.ToKey"/>).</value>
    public override string? Subject => To.ToKey();
}

/// <summary>The base of the email events; <see cref="Email"/> names the email, such as <c>nurture-3</c>.</summary>
/// <remarks>A message is identified by the lead and the email key: rates count each message once.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record EmailEvent : LeadEvent
{
    /// <summary>Gets the key of the email (a sequence step or broadcast), such as <c>nurture-3</c>.</summary>
    public required string Email { get; init; }

    /// <summary>Gets the key of the A/B test variant the lead got for this email, such as <c>short-subject</c>.</summary>
    /// <remarks>
    /// Set on the events of a send (<c>email_sent</c>, <c>email_failed</c>) of an email with variants. Feedback events
    /// (opens, clicks, unsubscribes) usually leave it unset: they are attributed to a variant through the lead's
    /// <c>email_sent</c> of the same email. Left out of the stored JSON when unset, so events stored before it existed
    /// read unchanged.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: the email has no variants, or the event does not say.</value>
    public string? Variant { get; init; }

    /// <inheritdoc/>
    /// <value>The <see cref="Email"/> key.</value>
    public override string? Subject => Email;
}

/// <summary>An email was handed to the mail server.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailSent)]
public sealed record EmailSent : EmailEvent
{
    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailSent;
}

/// <summary>An email was accepted by the recipient's mail server.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailDelivered)]
public sealed record EmailDelivered : EmailEvent
{
    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailDelivered;
}

/// <summary>An email was opened (its tracking pixel was loaded).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailOpened)]
public sealed record EmailOpened : EmailEvent
{
    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailOpened;
}

/// <summary>A link in an email was clicked.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailClicked)]
public sealed record EmailClicked : EmailEvent
{
    /// <summary>Gets the URL that was clicked, when known.</summary>
    public string? Url { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailClicked;
}

/// <summary>Whether a bounce is permanent.</summary>
public enum BounceKind
{
    /// <summary>A permanent failure, such as an unknown mailbox: never send to the address again.</summary>
    Hard = 0,

    /// <summary>A temporary failure, such as a full mailbox.</summary>
    Soft = 1,
}

/// <summary>An email bounced.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailBounced)]
public sealed record EmailBounced : EmailEvent
{
    /// <summary>Gets whether the bounce is permanent.</summary>
    /// <value>Defaults to <see cref="BounceKind.Hard"/>.</value>
    public BounceKind Kind { get; init; } = BounceKind.Hard;

    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailBounced;
}

/// <summary>A lead unsubscribed through an email.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailUnsubscribed)]
public sealed record EmailUnsubscribed : EmailEvent
{
    /// <summary>Gets the topic the lead left, such as <c>newsletter</c>; the lead still gets the other topics' email.</summary>
    /// <remarks>Left out of the stored JSON when unset, so events stored before it existed read unchanged.</remarks>
    /// <value>Defaults to <see langword="null"/>: the lead left all marketing email.</value>
    public string? Topic { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailUnsubscribed;
}

/// <summary>A lead who had left an email topic joined it again, through the preference centre.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailTopicResubscribed)]
public sealed record EmailTopicResubscribed : LeadEvent
{
    /// <summary>Gets the topic, such as <c>newsletter</c>.</summary>
    public required string Topic { get; init; }

    /// <inheritdoc/>
    /// <value>The <see cref="Topic"/>.</value>
    public override string? Subject => Topic;

    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailTopicResubscribed;
}

/// <summary>A lead marked an email as spam.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.EmailComplained)]
public sealed record EmailComplained : EmailEvent
{
    /// <inheritdoc/>
    public override string EventType => EventTypes.EmailComplained;
}

/// <summary>A lead visited the sales page of an offer.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.SalesPageVisited)]
public sealed record SalesPageVisited : LeadEvent
{
    /// <summary>Gets the offer the sales page sells.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.SalesPageVisited;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A lead started a checkout for an offer.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.CheckoutStarted)]
public sealed record CheckoutStarted : LeadEvent
{
    /// <summary>Gets the offer being bought.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.CheckoutStarted;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A checkout was left without an order (emitted when the checkout expires).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.CheckoutAbandoned)]
public sealed record CheckoutAbandoned : LeadEvent
{
    /// <summary>Gets the offer that was not bought.</summary>
    public required OfferId Offer { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.CheckoutAbandoned;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A lead placed an order; the order's total is revenue booked by the funnel.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.OrderPlaced)]
public sealed record OrderPlaced : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the main offer of the order.</summary>
    public required OfferId Offer { get; init; }

    /// <summary>Gets the order total, after discounts, including bumps.</summary>
    public required Money Total { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.OrderPlaced;

    /// <inheritdoc/>
    /// <value>The <see cref="Offer"/> key.</value>
    public override string? Subject => Offer.Value;
}

/// <summary>A payment for an order (or one installment of it) succeeded.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.PaymentSucceeded)]
public sealed record PaymentSucceeded : LeadEvent
{
    /// <summary>Gets the order paid for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the amount collected.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.PaymentSucceeded;
}

/// <summary>A payment for an order (or one installment of it) failed.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.PaymentFailed)]
public sealed record PaymentFailed : LeadEvent
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the amount that was not collected.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the provider's reason code, such as <c>card_declined</c>.</summary>
    public required string Reason { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.PaymentFailed;
}

/// <summary>Money was refunded on an order.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.RefundIssued)]
public sealed record RefundIssued : LeadEvent
{
    /// <summary>Gets the refunded order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the amount refunded.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.RefundIssued;
}

/// <summary>A lead registered for a webinar session.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.WebinarRegistered)]
public sealed record WebinarRegistered : LeadEvent
{
    /// <summary>Gets the key of the webinar.</summary>
    public required string Webinar { get; init; }

    /// <summary>Gets when the registered session starts: the anchor of reminder sequences ("24 hours before").</summary>
    /// <value><see langword="null"/> when unknown (anchored reminder steps are then skipped).</value>
    public NodaTime.Instant? StartsAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.WebinarRegistered;

    /// <inheritdoc/>
    /// <value>The <see cref="Webinar"/> key.</value>
    public override string? Subject => Webinar;
}

/// <summary>A lead attended a webinar session.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.WebinarAttended)]
public sealed record WebinarAttended : LeadEvent
{
    /// <summary>Gets the key of the webinar.</summary>
    public required string Webinar { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.WebinarAttended;

    /// <inheritdoc/>
    /// <value>The <see cref="Webinar"/> key.</value>
    public override string? Subject => Webinar;
}

/// <summary>A customer completed a course.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.CourseCompleted)]
public sealed record CourseCompleted : LeadEvent
{
    /// <summary>Gets the key of the course.</summary>
    public required string Course { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.CourseCompleted;

    /// <inheritdoc/>
    /// <value>The <see cref="Course"/> key.</value>
    public override string? Subject => Course;
}

/// <summary>A customer submitted a review of a product.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ReviewSubmitted)]
public sealed record ReviewSubmitted : LeadEvent
{
    /// <summary>Gets the key of the reviewed product.</summary>
    public required string Product { get; init; }

    /// <summary>Gets the rating, from 1 to 5.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is outside 1 to 5.</exception>
    public required int Rating
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Rating));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 5, nameof(Rating));
            field = value;
        }
    }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ReviewSubmitted;

    /// <inheritdoc/>
    /// <value>The <see cref="Product"/> key.</value>
    public override string? Subject => Product;
}

/// <summary>A lead referred another person to the funnel.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.ReferralMade)]
public sealed record ReferralMade : LeadEvent
{
    /// <summary>Gets the lead who was referred.</summary>
    public required LeadId Referred { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.ReferralMade;
}

/// <summary>Money spent on advertising, for the channel and campaign in its <see cref="FunnelEvent.Attribution"/>.</summary>
/// <remarks>Spend is about no one lead. Record it per channel and day (or per campaign) so reports can compute CAC and ROAS per channel.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(EventTypes.AdSpendRecorded)]
public sealed record AdSpendRecorded : FunnelEvent
{
    /// <summary>Gets the amount spent.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => EventTypes.AdSpendRecorded;

    /// <inheritdoc/>
    /// <value>The channel of the spend, from its attribution.</value>
    public override string? Subject => Attribution.Channel;
}
