namespace Funnel.Events;

/// <summary>The <see cref="FunnelEvent.EventType"/> names of the built-in events.</summary>
/// <remarks>These names are part of the stored format: they never change once released.</remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static partial class EventTypes
{
    /// <summary>A page was viewed (<see cref="PageViewed"/>).</summary>
    public const string PageViewed = "page_viewed";

    /// <summary>A lead opted in to a lead magnet (<see cref="OptedIn"/>).</summary>
    public const string OptedIn = "opted_in";

    /// <summary>A lead moved to another lifecycle stage (<see cref="LifecycleStageChanged"/>).</summary>
    public const string LifecycleStageChanged = "lifecycle_stage_changed";

    /// <summary>An email was handed to the mail server (<see cref="EmailSent"/>).</summary>
    public const string EmailSent = "email_sent";

    /// <summary>An email was accepted by the recipient's server (<see cref="EmailDelivered"/>).</summary>
    public const string EmailDelivered = "email_delivered";

    /// <summary>An email was opened (<see cref="EmailOpened"/>).</summary>
    public const string EmailOpened = "email_opened";

    /// <summary>A link in an email was clicked (<see cref="EmailClicked"/>).</summary>
    public const string EmailClicked = "email_clicked";

    /// <summary>An email bounced (<see cref="EmailBounced"/>).</summary>
    public const string EmailBounced = "email_bounced";

    /// <summary>A lead unsubscribed through an email (<see cref="EmailUnsubscribed"/>).</summary>
    public const string EmailUnsubscribed = "email_unsubscribed";

    /// <summary>A lead joined an email topic again (<see cref="EmailTopicResubscribed"/>).</summary>
    public const string EmailTopicResubscribed = "email_topic_resubscribed";

    /// <summary>A lead marked an email as spam (<see cref="EmailComplained"/>).</summary>
    public const string EmailComplained = "email_complained";

    /// <summary>A sales page was visited (<see cref="SalesPageVisited"/>).</summary>
    public const string SalesPageVisited = "sales_page_visited";

    /// <summary>A checkout was started (<see cref="CheckoutStarted"/>).</summary>
    public const string CheckoutStarted = "checkout_started";

    /// <summary>A checkout was left without an order (<see cref="CheckoutAbandoned"/>).</summary>
    public const string CheckoutAbandoned = "checkout_abandoned";

    /// <summary>An order was placed (<see cref="OrderPlaced"/>).</summary>
    public const string OrderPlaced = "order_placed";

    /// <summary>A payment succeeded (<see cref="PaymentSucceeded"/>).</summary>
    public const string PaymentSucceeded = "payment_succeeded";

    /// <summary>A payment failed (<see cref="PaymentFailed"/>).</summary>
    public const string PaymentFailed = "payment_failed";

    /// <summary>Money was refunded (<see cref="RefundIssued"/>).</summary>
    public const string RefundIssued = "refund_issued";

    /// <summary>A lead registered for a webinar (<see cref="WebinarRegistered"/>).</summary>
    public const string WebinarRegistered = "webinar_registered";

    /// <summary>A lead attended a webinar (<see cref="WebinarAttended"/>).</summary>
    public const string WebinarAttended = "webinar_attended";

    /// <summary>A customer completed a course (<see cref="CourseCompleted"/>).</summary>
    public const string CourseCompleted = "course_completed";

    /// <summary>A customer submitted a review (<see cref="ReviewSubmitted"/>).</summary>
    public const string ReviewSubmitted = "review_submitted";

    /// <summary>A lead referred someone (<see cref="ReferralMade"/>).</summary>
    public const string ReferralMade = "referral_made";

    /// <summary>Ad spend was recorded for a channel (<see cref="AdSpendRecorded"/>).</summary>
    public const string AdSpendRecorded = "ad_spend_recorded";
}
