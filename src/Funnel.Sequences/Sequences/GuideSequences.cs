using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The sequences of the sales-funnel guide's case study, "The E-Book Masterclass", as ready-made definitions.</summary>
/// <remarks>
/// <para>
/// Use them as they are for the sample's keys (magnet <c>quick-start-guide</c>, offer <c>masterclass-basic</c>, course
/// product <c>masterclass-videos</c>, webinar <c>ebook-masterclass-live</c>), or copy them with <c>with</c> and your own copy.
/// </para>
/// <para>
/// Onboarding is entitlement-driven: the welcome starts on <c>entitlement_granted</c> for the course product, which the
/// order service emits only once an order is paid (its first payment or installment), so an unpaid order does not
/// onboard, and <c>entitlement_revoked</c> (a refund) ends the welcome and the advocacy sequence.
/// </para>
/// </remarks>
/// <threadsafety>All members are immutable and safe to share between threads.</threadsafety>
public static class GuideSequences
{
    /// <summary>The lead magnet key that starts the nurture sequence.</summary>
    public const string Magnet = "quick-start-guide";

    /// <summary>The offer whose order ends the nurture sequence.</summary>
    public const string Offer = "masterclass-basic";

    /// <summary>The course product: its grant starts the welcome, its completion the review, affiliate and next-offer sequence.</summary>
    /// <remarks>A course's key (<c>Funnel.Onboarding.Course</c> in Funnel.Advocacy) is the product key that grants it, so this is both the subject of
    /// <c>entitlement_granted</c> and of <c>course_completed</c>.</remarks>
    public const string Course = "masterclass-videos";

    /// <summary>The next offer recommended once the course is completed: the "Advanced Digital Product Launch Course".</summary>
    public const string NextOffer = "advanced-launch-course";

    /// <summary>The webinar whose registration starts the reminders.</summary>
    public const string Webinar = "ebook-masterclass-live";

    private static readonly LocalTime Morning = new(9, 0);

    /// <summary>The tag the nurture gives a lead who opened the guide.</summary>
    public const string EngagedReaderTag = "engaged-reader";

    /// <summary>Gets the 7-email nurture after the free guide: the guide at once, then days 1 to 6 at 09:00 local, with a branch on day 3; a purchase ends it.</summary>
    /// <remarks>
    /// <para>
    /// The daily emails are calendar-day steps (<see cref="StepTiming.OnDay"/>): day 1 is the local day after the opt-in,
    /// so a lead who opts in at 08:00 and one who opts in at 22:00 both get the second email the next morning at 09:00.
    /// </para>
    /// <para>
    /// On day 3 the branch <c>opened-guide</c> asks whether the lead opened the guide (<c>nurture-1</c>): a lead who did
    /// is tagged <see cref="EngagedReaderTag"/> and gets the next lesson (<c>nurture-4</c>); one who did not gets a
    /// reminder to open it (<c>nurture-4-reminder</c>). Both go on with day 4.
    /// </para>
    /// </remarks>
    public static SequenceDefinition Nurture { get; } = new()
    {
        Key = "guide-nurture",
        Triggers = [EventMatch.For(EventTypes.OptedIn, Magnet)],
        ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, Offer), EventMatch.For(EventTypes.PaymentSucceeded)],
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Step("nurture-1", "Your Quick Start Guide to E-Book Creation", "Hi {{ first_name }}, here is your guide, as promised. Thank you for downloading it: I am glad you are here.", immediate: true),
            OnDay("nurture-2", 1, "One number every e-book author should know", "Hi {{ first_name }}, a tip that saves weeks: outline before you write. Here is why."),
            OnDay("nurture-3", 2, "How Maya finished her first e-book in 30 days", "Hi {{ first_name }}, Maya had the same problem you might have. Here is her story."),
            new SequenceStep
            {
                // The guide's branch: on day 3, a lead who opened the guide gets the next lesson, one who did not a nudge.
                Key = "opened-guide",
                Timing = StepTiming.OnDay,
                Day = 3,
                SendAt = Morning,
                If = new Segments.EmailRule("nurture-1", Segments.EmailAction.Opened),
                Then =
                [
                    new SequenceStep { Key = "tag-engaged-reader", Action = new AddTag(EngagedReaderTag) },
                    OnDay("nurture-4", 3, "The outline that writes itself", "Hi {{ first_name }}, the outline template our students start with."),
                ],
                Else =
                [
                    OnDay("nurture-4-reminder", 3, "Did you get a chance to open your guide?", "Hi {{ first_name }}, your Quick Start Guide is still waiting for you: chapter 1 takes ten minutes, and the outline template is on page 4."),
                ],
            },
            OnDay("nurture-5", 4, "Pricing your e-book without guessing", "Hi {{ first_name }}, what to charge, and the module of the Masterclass that covers it."),
            OnDay("nurture-6", 5, "Marketing before you publish", "Hi {{ first_name }}, your launch starts before the book is done. More on the blog."),
            OnDay("nurture-7", 6, "Ready for the whole system?", "Hi {{ first_name }}, The E-Book Masterclass takes you from idea to launch. Have a look."),
        ],
    };

    // The names of Funnel.Commerce's OfferEventTypes.EntitlementGranted and EntitlementRevoked: this package does
    // not reference Funnel.Commerce, and an event type name never changes once released.
    private const string EntitlementGranted = "entitlement_granted";
    private const string EntitlementRevoked = "entitlement_revoked";

    /// <summary>Gets the 5-day welcome after the Masterclass purchase: access at once, then days 1 to 4 at 09:00 local (not marketing: it is onboarding).</summary>
    /// <remarks>
    /// The daily emails are calendar-day steps (<see cref="StepTiming.OnDay"/>), counted in the buyer's local days from the grant.
    /// It starts on <c>entitlement_granted</c> for <see cref="Course"/> (the order is paid, not merely placed) and ends on
    /// <c>entitlement_revoked</c> for it (refunded), so unpaid and refunded orders are not onboarded.
    /// </remarks>
    public static SequenceDefinition Welcome { get; } = new()
    {
        Key = "masterclass-welcome",
        Triggers = [EventMatch.For(EntitlementGranted, Course)],
        ExitGoals = [EventMatch.For(EntitlementRevoked, Course)],
        IsMarketing = false,
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Step("welcome-1", "Welcome to The E-Book Masterclass", "Hi {{ first_name }}, your access details and what to expect this week.", immediate: true),
            OnDay("welcome-2", 1, "Your first steps in the course", "Hi {{ first_name }}, how to navigate the course and where to start."),
            OnDay("welcome-3", 2, "Join the private community", "Hi {{ first_name }}, your invitation to the community and the resources page."),
            OnDay("welcome-4", 3, "Three tips to get the most out of it", "Hi {{ first_name }}, what our most successful students do in week one."),
            OnDay("welcome-5", 4, "How is it going?", "Hi {{ first_name }}, reply and tell us where you are."),
        ],
    };

    /// <summary>Gets the review request, affiliate invitation and next offer after the course is completed, on weekdays at 09:00 local.</summary>
    /// <remarks>
    /// <para>
    /// It starts on <c>course_completed</c> for <see cref="Course"/> and ends on <c>entitlement_revoked</c> for it (a refund)
    /// or on an order for <see cref="NextOffer"/> (the emails not yet sent are then dropped). The emails link to
    /// <c>{{ review_url }}</c>, <c>{{ affiliate_url }}</c> and <c>{{ next_offer_url }}</c>: put a per-lead signed review-form
    /// URL in the lead's custom field <c>review_url</c>; the defaults are the public pages.
    /// </para>
    /// </remarks>
    public static SequenceDefinition Advocacy { get; } = new()
    {
        Key = "course-advocacy",
        Triggers = [EventMatch.For(EventTypes.CourseCompleted, Course)],
        ExitGoals = [EventMatch.For(EntitlementRevoked, Course), EventMatch.For(EventTypes.OrderPlaced, NextOffer)],
        Fields = ImmutableDictionary<string, string>.Empty
            .Add("first_name", "there")
            .Add("review_url", "https://example.com/masterclass/review")
            .Add("affiliate_url", "https://example.com/affiliates/apply")
            .Add("next_offer_url", "https://example.com/advanced-launch-course"),
        Steps =
        [
            Step("review-request", "Congratulations! Would you share your experience?", "Hi {{ first_name }}, you finished the Masterclass. A short review helps the next author: {{ review_url }}", weekdays: true),
            Step("affiliate-invitation", "Earn by recommending the Masterclass", "Hi {{ first_name }}, join our affiliate programme and earn a commission on every student you send: {{ affiliate_url }}", delayDays: 3, weekdays: true),
            Step("next-offer", "Your next step: the Advanced Digital Product Launch Course", "Hi {{ first_name }}, ready to launch your e-book like a pro? The Advanced Digital Product Launch Course picks up where the Masterclass ends: {{ next_offer_url }}", delayDays: 4, weekdays: true),
        ],
    };

    /// <summary>Gets the webinar reminders: 24 hours before, 1 hour before and at the start of the registered session.</summary>
    /// <remarks>The anchor is <see cref="WebinarRegistered.StartsAt"/>; reminders whose time has passed at registration are skipped.</remarks>
    public static SequenceDefinition WebinarReminders { get; } = new()
    {
        Key = "webinar-reminders",
        Triggers = [EventMatch.For(EventTypes.WebinarRegistered, Webinar)],
        IsMarketing = false,
        ReEntry = ReEntryPolicy.AfterEnded,
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Anchored("webinar-24h", Period.FromHours(-24), "Tomorrow: the live Masterclass lesson", "Hi {{ first_name }}, see you tomorrow at the live lesson."),
            Anchored("webinar-1h", Period.FromHours(-1), "In one hour: the live Masterclass lesson", "Hi {{ first_name }}, we start in one hour."),
            Anchored("webinar-now", Period.Zero, "We are live now", "Hi {{ first_name }}, we are starting: join now."),
        ],
    };

    /// <summary>Gets the replay emails for a registrant who missed the webinar: the replay at once, and a last call 12 hours before it comes down.</summary>
    /// <remarks>
    /// It has no trigger, because its anchor is the replay deadline: enrol explicitly on <c>WebinarMissed</c> (Funnel.Advocacy),
    /// <c>engine.EnrolAsync(missed.LeadId, WebinarReplay.Key, missed.OccurredAt, missed.ReplayEndsAt)</c>. An order for
    /// <see cref="Offer"/> ends it; the last call is skipped when fewer than 12 hours are left at enrolment.
    /// </remarks>
    public static SequenceDefinition WebinarReplay { get; } = new()
    {
        Key = "webinar-replay",
        ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, Offer)],
        IsMarketing = false,
        ReEntry = ReEntryPolicy.AfterEnded,
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there").Add("replay_url", "https://example.com/masterclass/replay"),
        Steps =
        [
            new SequenceStep
            {
                Key = "replay-available",
                Timing = StepTiming.AfterEnrolment,
                Subject = "Sorry we missed you: the replay is up",
                TextBody = "Hi {{ first_name }}, the live lesson's replay is available for a limited time: {{ replay_url }}",
                HtmlBody = "<p>Hi {{ first_name }}, the live lesson's replay is available for a limited time: {{ replay_url }}</p>",
            },
            Anchored("replay-last-call", Period.FromHours(-12), "The replay comes down in 12 hours", "Hi {{ first_name }}, last call: the replay comes down in 12 hours. {{ replay_url }}"),
        ],
    };

    /// <summary>Gets the three cart-recovery emails after an abandoned checkout of <see cref="Offer"/>: at once, 24 hours and 72 hours later; an order for the offer ends it.</summary>
    /// <remarks>
    /// <para>
    /// It starts on <c>checkout_abandoned</c> for <see cref="Offer"/>, which <c>AddFunnelCartRecovery</c> (Funnel.Commerce)
    /// emits once when a checkout has had no order for <c>CartRecoveryOptions.AbandonAfter</c> (one hour by default), so
    /// the first email goes out about an hour after the buyer left the checkout. The later steps count exact hours from
    /// the enrolment. An <c>order_placed</c> for <see cref="Offer"/> ends it, and the emails not yet sent are dropped. A
    /// lead can go through it again after a later abandoned checkout (<see cref="ReEntryPolicy.AfterEnded"/>).
    /// </para>
    /// <para>
    /// The sales-funnel guide names the cart abandonment rate and checkout friction, but gives no recovery emails: their
    /// wording draws on what the guide offers a hesitating buyer (the payment plan of 3 × $180, a trusted payment
    /// gateway, the enrol-this-week bonus), and their timing is Funnel's choice. The emails link to
    /// <c>{{ checkout_url }}</c>; put a per-lead link in the lead's custom field <c>checkout_url</c>, or change the default.
    /// For another offer, copy it with <c>with</c> and your own <see cref="SequenceDefinition.Key"/>, triggers and exit goals.
    /// </para>
    /// </remarks>
    public static SequenceDefinition CartRecovery { get; } = new()
    {
        Key = "cart-recovery",
        Triggers = [EventMatch.For(EventTypes.CheckoutAbandoned, Offer)],
        ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, Offer)],
        ReEntry = ReEntryPolicy.AfterEnded,
        Fields = ImmutableDictionary<string, string>.Empty
            .Add("first_name", "there")
            .Add("checkout_url", "https://example.com/masterclass/checkout"),
        Steps =
        [
            AfterEnrolment("cart-recovery-1", Period.Zero, "You left The E-Book Masterclass in your cart",
                "Hi {{ first_name }}, your seat in The E-Book Masterclass is still waiting. Pick up where you left off: {{ checkout_url }}"),
            AfterEnrolment("cart-recovery-2", Period.FromHours(24), "Questions about the Masterclass?",
                "Hi {{ first_name }}, not sure yet? You can pay in 3 monthly payments of $180 instead of $497 at once, securely by card through Stripe. Reply to this email with any question. Your checkout: {{ checkout_url }}"),
            AfterEnrolment("cart-recovery-3", Period.FromHours(72), "Last call: your enrolment bonus ends soon",
                "Hi {{ first_name }}, enrol this week and you also get a complimentary 30-minute e-book strategy session. This is our last reminder: {{ checkout_url }}"),
        ],
    };

    /// <summary>Gets the four triggered sequences: nurture, welcome, advocacy and webinar reminders.</summary>
    /// <remarks><see cref="WebinarReplay"/> is not included: it is enrolled explicitly with its anchor.</remarks>
    public static ImmutableArray<SequenceDefinition> All { get; } = [Nurture, Welcome, Advocacy, WebinarReminders];

    private static SequenceStep Step(string key, string subject, string text, bool immediate = false, int delayDays = 1, bool weekdays = false) => new()
    {
        Key = key,
        Timing = immediate ? StepTiming.AfterEnrolment : StepTiming.AfterPreviousStep,
        Delay = immediate ? Period.Zero : Period.FromDays(delayDays),
        SendAt = immediate ? null : Morning,
        Days = weekdays ? [IsoDayOfWeek.Monday, IsoDayOfWeek.Tuesday, IsoDayOfWeek.Wednesday, IsoDayOfWeek.Thursday, IsoDayOfWeek.Friday] : [],
        Subject = subject,
        TextBody = text + "\n\nUnsubscribe: {{ unsubscribe_url }}",
        HtmlBody = "<p>" + text + "</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
    };

    private static SequenceStep AfterEnrolment(string key, Period delay, string subject, string text) => Step(key, subject, text) with
    {
        Timing = StepTiming.AfterEnrolment,
        Delay = delay,
        SendAt = null,
    };

    private static SequenceStep OnDay(string key, int day, string subject, string text) => Step(key, subject, text) with
    {
        Timing = StepTiming.OnDay,
        Day = day,
        Delay = Period.Zero,
    };

    private static SequenceStep Anchored(string key, Period delay, string subject, string text) => new()
    {
        Key = key,
        Timing = StepTiming.RelativeToAnchor,
        Delay = delay,
        Subject = subject,
        TextBody = text,
        HtmlBody = "<p>" + text + "</p>",
    };
}
