using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The sequences of the sales-funnel guide's case study, "The E-Book Masterclass", as ready-made definitions.</summary>
/// <remarks>
/// Use them as they are for the sample's keys (magnet <c>quick-start-guide</c>, offer <c>masterclass-basic</c>, course
/// <c>ebook-masterclass</c>, webinar <c>ebook-masterclass-live</c>), or copy them with <c>with</c> and your own copy.
/// </remarks>
/// <threadsafety>All members are immutable and safe to share between threads.</threadsafety>
public static class GuideSequences
{
    /// <summary>The lead magnet key that starts the nurture sequence.</summary>
    public const string Magnet = "quick-start-guide";

    /// <summary>The offer whose purchase ends the nurture sequence and starts the welcome sequence.</summary>
    public const string Offer = "masterclass-basic";

    /// <summary>The course whose completion starts the review and affiliate sequence.</summary>
    public const string Course = "ebook-masterclass";

    /// <summary>The webinar whose registration starts the reminders.</summary>
    public const string Webinar = "ebook-masterclass-live";

    private static readonly LocalTime Morning = new(9, 0);

    /// <summary>Gets the 7-email nurture after the free guide: the guide at once, then one email a day at 09:00 local; a purchase ends it.</summary>
    public static SequenceDefinition Nurture { get; } = new()
    {
        Key = "guide-nurture",
        Triggers = [EventMatch.For(EventTypes.OptedIn, Magnet)],
        ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, Offer), EventMatch.For(EventTypes.PaymentSucceeded)],
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Step("nurture-1", "Your Quick Start Guide to E-Book Creation", "Hi {{ first_name }}, here is your guide, as promised. Thank you for downloading it: I am glad you are here.", immediate: true),
            Step("nurture-2", "One number every e-book author should know", "Hi {{ first_name }}, a tip that saves weeks: outline before you write. Here is why."),
            Step("nurture-3", "How Maya finished her first e-book in 30 days", "Hi {{ first_name }}, Maya had the same problem you might have. Here is her story."),
            Step("nurture-4", "The outline that writes itself", "Hi {{ first_name }}, the outline template our students start with."),
            Step("nurture-5", "Pricing your e-book without guessing", "Hi {{ first_name }}, what to charge, and the module of the Masterclass that covers it."),
            Step("nurture-6", "Marketing before you publish", "Hi {{ first_name }}, your launch starts before the book is done. More on the blog."),
            Step("nurture-7", "Ready for the whole system?", "Hi {{ first_name }}, The E-Book Masterclass takes you from idea to launch. Have a look."),
        ],
    };

    /// <summary>Gets the 5-day welcome after the Masterclass purchase: access at once, then daily at 09:00 local (not marketing: it is onboarding).</summary>
    public static SequenceDefinition Welcome { get; } = new()
    {
        Key = "masterclass-welcome",
        Triggers = [EventMatch.For(EventTypes.OrderPlaced, Offer)],
        IsMarketing = false,
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Step("welcome-1", "Welcome to The E-Book Masterclass", "Hi {{ first_name }}, your access details and what to expect this week.", immediate: true),
            Step("welcome-2", "Your first steps in the course", "Hi {{ first_name }}, how to navigate the course and where to start."),
            Step("welcome-3", "Join the private community", "Hi {{ first_name }}, your invitation to the community and the resources page."),
            Step("welcome-4", "Three tips to get the most out of it", "Hi {{ first_name }}, what our most successful students do in week one."),
            Step("welcome-5", "How is it going?", "Hi {{ first_name }}, reply and tell us where you are."),
        ],
    };

    /// <summary>Gets the review request and affiliate invitation after the course is completed, on weekdays at 09:00 local.</summary>
    public static SequenceDefinition Advocacy { get; } = new()
    {
        Key = "course-advocacy",
        Triggers = [EventMatch.For(EventTypes.CourseCompleted, Course)],
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            Step("review-request", "Congratulations! Would you share your experience?", "Hi {{ first_name }}, you finished the Masterclass. A short review helps the next author.", weekdays: true),
            Step("affiliate-invitation", "Earn by recommending the Masterclass", "Hi {{ first_name }}, join our affiliate programme and earn a commission on every student you send.", delayDays: 3, weekdays: true),
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

    /// <summary>Gets all four sequences.</summary>
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
