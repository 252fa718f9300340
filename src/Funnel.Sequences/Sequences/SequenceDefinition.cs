using System.Collections.Immutable;
using Funnel.Definitions;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>An email sequence: who enrols (triggers), what is sent when (steps), and what ends it (exit goals).</summary>
/// <remarks>
/// <para>
/// A funnel event matching one of the <see cref="Triggers"/> enrols its lead (subject to <see cref="ReEntry"/>); an
/// event matching one of the <see cref="ExitGoals"/> ends every active enrolment of its lead in this sequence, so a
/// purchase ends the nurture sequence. Steps are sent in order, each at an exact instant computed in the lead's time
/// zone (see <see cref="SendTimes"/>).
/// </para>
/// <para>Validate definitions with <see cref="SequenceDefinitionValidator"/>; the engine rejects invalid ones.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SequenceDefinition
{
    /// <summary>Gets the unique key of the sequence, such as <c>guide-nurture</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the events that enrol a lead, such as <c>opted_in:quick-start-guide</c>.</summary>
    /// <value>Defaults to none: leads are then enrolled only explicitly.</value>
    public ImmutableArray<EventMatch> Triggers { get; init; } = [];

    /// <summary>Gets the events that end an active enrolment, such as <c>order_placed:ebook-masterclass</c>.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<EventMatch> ExitGoals { get; init; } = [];

    /// <summary>Gets the steps, run in order: emails, actions (<see cref="SequenceStep.Action"/>) and branches (<see cref="SequenceStep.If"/>), whose <see cref="SequenceStep.Then"/> or <see cref="SequenceStep.Else"/> steps run before the next step.</summary>
    /// <remarks>Step keys are unique across the whole sequence, branches included; at most 200 steps in all, and branches nest at most 8 deep.</remarks>
    public required ImmutableArray<SequenceStep> Steps { get; init; }

    /// <summary>Gets whether a lead can be enrolled again.</summary>
    /// <value>Defaults to <see cref="ReEntryPolicy.Never"/>.</value>
    public ReEntryPolicy ReEntry { get; init; } = ReEntryPolicy.Never;

    /// <summary>Gets whether the emails are marketing: they need consent and count toward the per-lead frequency cap.</summary>
    /// <value>Defaults to <see langword="true"/>. Unsubscribed, bounced and complained leads get no email either way.</value>
    public bool IsMarketing { get; init; } = true;

    /// <summary>Gets the email topic of the sequence, such as <c>newsletter</c>: a lead who left it gets none of its emails (suppressed, <c>unsubscribed_topic</c>).</summary>
    /// <remarks>The topic must be a registered <see cref="Email.EmailTopic"/>; the engine checks it at start-up.</remarks>
    /// <value>Defaults to <see langword="null"/>: only leaving all marketing email stops it.</value>
    public string? Topic { get; init; }

    /// <summary>Gets the local hours in which nothing is sent; a send that falls inside moves to their end.</summary>
    /// <value>Defaults to <see langword="null"/> (no quiet hours).</value>
    public QuietHours? QuietHours { get; init; }

    /// <summary>Gets whether the <c>http</c> and <c>https</c> links of the HTML bodies are rewritten into signed click-tracking links.</summary>
    /// <remarks>
    /// Needs <see cref="SequenceOptions.Tracking"/>. Only <c>href="http(s)://…"</c> attributes are rewritten (see
    /// <see cref="Email.TrackingLinks.RewriteLinks"/>); <c>mailto:</c> links, anchors and the tracking links themselves (such
    /// as <c>unsubscribe_url</c>) are left alone, and the text body is never changed.
    /// </remarks>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool TrackClicks { get; init; }

    /// <summary>Gets the custom profile fields the templates may use, with the value used when a lead has none, such as <c>first_name</c> → <c>there</c>.</summary>
    /// <value>Defaults to none. The built-in fields <c>email</c>, <c>lead_id</c>, <c>stage</c>, <c>unsubscribe_url</c> and <c>tags</c> are always available.</value>
    public ImmutableDictionary<string, string> Fields { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Returns every step, the steps of branches' paths included, depth first (a branch, then its Then steps, then its Else steps).</summary>
    /// <returns>The steps.</returns>
    public IEnumerable<SequenceStep> AllSteps()
    {
        Stack<ImmutableArray<SequenceStep>.Enumerator> lists = new();
        lists.Push((Steps.IsDefault ? [] : Steps).GetEnumerator());
        while (lists.Count > 0)
        {
            ImmutableArray<SequenceStep>.Enumerator list = lists.Pop();
            if (!list.MoveNext())
            {
                continue;
            }

            SequenceStep step = list.Current;
            lists.Push(list);
            yield return step;
            if (step is { IsBranch: true })
            {
                lists.Push((step.Else.IsDefault ? [] : step.Else).GetEnumerator());
                lists.Push((step.Then.IsDefault ? [] : step.Then).GetEnumerator());
            }
        }
    }
}

/// <summary>One email of a sequence and when to send it.</summary>
/// <remarks>
/// <para>
/// The earliest send instant is <see cref="Delay"/> after the base chosen by <see cref="Timing"/>; from there
/// <see cref="SendAt"/>, <see cref="Days"/> and the sequence's quiet hours move it forward in the lead's zone.
/// </para>
/// <para>
/// A calendar-day step (<see cref="StepTiming.OnDay"/>) is instead sent on local day <see cref="Day"/> of the
/// enrolment at <see cref="SendAt"/>, such as "day 1 at 09:00": the next local day after the enrolment's, whatever
/// the time of the opt-in.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SequenceStep
{
    /// <summary>Gets the email key, unique in the sequence and used as the <c>Email</c> of the email events, such as <c>nurture-3</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets what <see cref="Delay"/> counts from.</summary>
    /// <value>Defaults to <see cref="StepTiming.AfterPreviousStep"/>.</value>
    public StepTiming Timing { get; init; } = StepTiming.AfterPreviousStep;

    /// <summary>Gets the delay from the base instant, such as one day; negative only with <see cref="StepTiming.RelativeToAnchor"/> ("24 hours before").</summary>
    /// <remarks>
    /// Date units (days, weeks, months) are added in the lead's local time, so "one day later" keeps the local time of
    /// day across a daylight-saving change; time units (hours, minutes) are exact elapsed time. Anchored steps take
    /// time units only.
    /// </remarks>
    /// <value>Defaults to <see cref="Period.Zero"/>.</value>
    public Period Delay { get; init; } = Period.Zero;

    /// <summary>Gets the local time of day to send at, such as 09:00: the first such time at or after the earliest instant.</summary>
    /// <remarks>Required with <see cref="StepTiming.OnDay"/>, where it is the time on <see cref="Day"/>.</remarks>
    /// <value>Defaults to <see langword="null"/>: send as soon as due.</value>
    public LocalTime? SendAt { get; init; }

    /// <summary>Gets the local calendar day of a <see cref="StepTiming.OnDay"/> step, counted from the enrolment: 1 is the next local day.</summary>
    /// <remarks>
    /// <para>
    /// Day 0 is the enrolment's own local date, day 1 the next local date in the lead's zone, and so on, whatever the
    /// time of the enrolment: a lead who opts in at 08:00 or at 23:00 gets day 1 at 09:00 the next morning. Day 0 at
    /// <see cref="SendAt"/> is sent that day only when the time is still ahead at enrolment, otherwise at the next
    /// day's <see cref="SendAt"/> (for "at once", use <see cref="StepTiming.AfterEnrolment"/> with no delay).
    /// </para>
    /// <para>
    /// The days of a sequence's calendar-day steps must not decrease. Only <see cref="StepTiming.OnDay"/> steps use it;
    /// it must be 0 on the others.
    /// </para>
    /// </remarks>
    /// <value>Defaults to 0.</value>
    public int Day { get; init; }

    /// <summary>Gets the local days of the week a send is allowed on; a send on another day rolls forward to the next allowed day.</summary>
    /// <value>Defaults to empty: every day.</value>
    public ImmutableArray<IsoDayOfWeek> Days { get; init; } = [];

    /// <summary>Gets tags the lead must all have, or the step is skipped.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> RequiredTags { get; init; } = [];

    /// <summary>Gets tags none of which the lead may have, or the step is skipped.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> ExcludedTags { get; init; } = [];

    /// <summary>Gets the subject template, such as <c>{{ first_name }}, your guide is inside</c>.</summary>
    /// <value>Required for an email step; <see langword="null"/> (the default) for an action or a branch.</value>
    public string? Subject { get; init; }

    /// <summary>Gets the plain-text body template.</summary>
    /// <value>Required for an email step; <see langword="null"/> (the default) for an action or a branch.</value>
    public string? TextBody { get; init; }

    /// <summary>Gets the HTML body template, whose values are HTML-encoded.</summary>
    /// <value>Defaults to <see langword="null"/> (text only).</value>
    public string? HtmlBody { get; init; }

    /// <summary>Gets the variants of the step's A/B test (subject, content or both), one of them the control.</summary>
    /// <remarks>
    /// <para>
    /// Each lead gets one variant, sticky and weighted (<see cref="EmailVariants.Assign"/> with the test key
    /// <c>sequence/step</c>): the variant's <see cref="EmailVariant.Subject"/>, <see cref="EmailVariant.TextBody"/> and
    /// <see cref="EmailVariant.HtmlBody"/> replace the step's when set. The send's <c>email_sent</c> (or
    /// <c>email_failed</c>) carries the variant's key in <see cref="Events.EmailEvent.Variant"/>; read the results with
    /// <see cref="EmailVariantMetrics.Compute"/>.
    /// </para>
    /// <para>
    /// When not empty: at most <see cref="EmailVariants.MaxVariants"/> variants with unique keys, weights from 1 to
    /// <see cref="EmailVariants.MaxWeight"/>, one of them keyed <see cref="EmailVariant.ControlKey"/>, and every other
    /// one overriding something.
    /// </para>
    /// </remarks>
    /// <value>Defaults to none: every lead gets the step's subject and bodies.</value>
    public ImmutableArray<EmailVariant> Variants { get; init; } = [];

    /// <summary>Gets the step's automatic winner test: after a sample of each variant, the winner goes to every later lead.</summary>
    /// <remarks>Needs <see cref="Variants"/>, the <c>sequence-tests</c> job (<c>AddFunnelSequenceDispatcher()</c>) and an <see cref="Email.IVariantWinnerSelector"/> (<c>AddFunnelAnalytics()</c>); see <see cref="StepWinnerTest"/>.</remarks>
    /// <value>Defaults to <see langword="null"/>: every lead gets their sticky variant for as long as the step has variants.</value>
    public StepWinnerTest? WinnerTest { get; init; }

    /// <summary>Gets what the step does instead of sending an email, such as <c>new AddTag("engaged")</c>.</summary>
    /// <remarks>
    /// An action step has no subject, bodies or variants; its timing, tag conditions and place in the sequence work as
    /// for an email. A step with only a delay before the next one is how a sequence waits.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: an email step (or a branch).</value>
    public AutomationAction? Action { get; init; }

    /// <summary>Gets the condition of a branch step, evaluated for the lead when the step comes due, such as <c>new EmailRule("nurture-1", EmailAction.Opened)</c>.</summary>
    /// <remarks>
    /// <para>
    /// A branch step sends nothing: when it comes due it evaluates <see cref="If"/> (against the lead's profile and
    /// events, with <see cref="Segments.SegmentEvaluator"/>) and <see cref="IfInSegment"/>, runs <see cref="Then"/> when
    /// both hold and <see cref="Else"/> otherwise, and then goes on with the steps after the branch. The path taken is
    /// recorded with a <c>sequence_branched</c> event and never re-evaluated, even after a crash.
    /// </para>
    /// <para>
    /// Conditions cover tags (<see cref="Segments.TagRule"/>), fields (<see cref="Segments.FieldRule"/>), engagement
    /// with a previous email (<see cref="Segments.EmailRule"/>), a purchase (<see cref="Segments.EventRule"/> on
    /// <c>order_placed</c>), stage, score and any combination (<see cref="Segments.AllRule"/>,
    /// <see cref="Segments.AnyRule"/>, <see cref="Segments.NotRule"/>). A branch anchored to an instant that has passed
    /// takes <see cref="Else"/>.
    /// </para>
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: not a branch (unless <see cref="IfInSegment"/> is set).</value>
    public Segments.SegmentRule? If { get; init; }

    /// <summary>Gets the tracked segment the lead must be in for a branch to take <see cref="Then"/>, such as <c>hot-leads</c>.</summary>
    /// <remarks>Read from the segment membership store when the step comes due; the segment must be tracked. With <see cref="If"/>, both must hold.</remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? IfInSegment { get; init; }

    /// <summary>Gets the steps a branch runs when its condition holds, before the steps after the branch.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<SequenceStep> Then { get; init; } = [];

    /// <summary>Gets the steps a branch runs when its condition does not hold, before the steps after the branch.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<SequenceStep> Else { get; init; } = [];

    /// <summary>Gets whether the step is a branch (it has a condition).</summary>
    internal bool IsBranch => If is not null || IfInSegment is not null;

    /// <summary>Gets whether the step sends an email to the lead (it is neither an action nor a branch).</summary>
    public bool IsEmail => Action is null && !IsBranch;
}

/// <summary>What a step's delay counts from.</summary>
public enum StepTiming
{
    /// <summary>The previous step's send (or skip); the enrolment for the first step.</summary>
    AfterPreviousStep,

    /// <summary>The enrolment.</summary>
    AfterEnrolment,

    /// <summary>The anchor instant given at enrolment, such as a webinar's start; the delay may be negative.</summary>
    /// <remarks>
    /// Anchored steps are sent at the exact instant: send times, days and quiet hours do not move them. A step
    /// whose instant has already passed when it is scheduled (or with no anchor) is skipped, never sent late.
    /// </remarks>
    RelativeToAnchor,

    /// <summary>A local calendar day counted from the enrolment (<see cref="SequenceStep.Day"/>), at <see cref="SequenceStep.SendAt"/>.</summary>
    /// <remarks>
    /// <para>
    /// The step is sent at <see cref="SequenceStep.SendAt"/> on the enrolment's local date plus
    /// <see cref="SequenceStep.Day"/> days in the lead's zone ("day 1 at 09:00" is 09:00 the next local day). The
    /// local date-time is mapped to an instant with <see cref="SendTimes.CalendarDayResolver"/>: a time in a
    /// spring-forward gap becomes the first instant after the gap, a time that occurs twice the earlier one.
    /// </para>
    /// <para>
    /// It is never sent before the enrolment or before the previous step was sent (or skipped); when that instant has
    /// passed, it goes out at the next <see cref="SequenceStep.SendAt"/>. <see cref="SequenceStep.Days"/>, quiet hours
    /// and the frequency cap move it forward exactly as they move other steps. <see cref="SequenceStep.Delay"/> must be zero.
    /// </para>
    /// </remarks>
    OnDay,
}

/// <summary>Whether a lead who was enrolled in a sequence before can be enrolled again.</summary>
public enum ReEntryPolicy
{
    /// <summary>Once per lead, ever.</summary>
    Never,

    /// <summary>Again once the previous enrolment completed or exited; never twice at once.</summary>
    AfterEnded,

    /// <summary>On every trigger, even while an earlier enrolment is active (such as one confirmation email per request).</summary>
    Always,
}

/// <summary>Local hours in which a sequence sends nothing, such as 21:00 to 08:00 (which spans midnight).</summary>
/// <param name="Start">The first quiet local time.</param>
/// <param name="End">The first local time after the quiet hours.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record QuietHours(LocalTime Start, LocalTime End)
{
    /// <summary>Returns whether a local time is inside the quiet hours.</summary>
    /// <param name="time">The local time.</param>
    /// <returns><see langword="true"/> when quiet.</returns>
    public bool Contains(LocalTime time) => Start <= End ? time >= Start && time < End : time >= Start || time < End;
}
