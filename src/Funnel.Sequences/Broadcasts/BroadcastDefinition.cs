using System.Collections.Immutable;
using FluentValidation;
using FluentValidation.Results;
using Funnel.Email;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>A one-off email to the members of a segment, such as a weekly newsletter or the guide's webinar promotion.</summary>
/// <remarks>
/// <para>
/// Schedule it with <see cref="BroadcastService.ScheduleAsync"/>. It goes out either at one instant for everyone
/// (<see cref="SendAt"/>) or at one local date and time in each lead's own time zone (<see cref="LocalSendAt"/>, such
/// as 09:00 on Tuesday wherever the lead is). The audience is the members of <see cref="Segment"/> when the broadcast
/// starts, and each send checks again that the lead is still a member; every send goes through the same outbox as the
/// sequences, so suppression, consent, the frequency cap, retries and the no-duplicate guarantee are the same.
/// </para>
/// <para>
/// The email events of its sends (<c>email_sent</c>, <c>email_opened</c>, …) carry the broadcast's <see cref="Key"/>
/// as their email key; <see cref="BroadcastMetrics.Compute"/> reads them back as the broadcast's figures.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BroadcastDefinition
{
    /// <summary>Gets the unique key, such as <c>webinar-promo-2026-12</c>; it is the email key of the broadcast's email events.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the key of the tracked segment whose members receive the broadcast (a <c>SegmentDefinition</c> registered with <c>AddFunnelSegment</c>).</summary>
    public required string Segment { get; init; }

    /// <summary>Gets the subject template.</summary>
    public required string Subject { get; init; }

    /// <summary>Gets the plain-text body template.</summary>
    public required string TextBody { get; init; }

    /// <summary>Gets the HTML body template, whose values are HTML-encoded.</summary>
    /// <value>Defaults to <see langword="null"/> (text only).</value>
    public string? HtmlBody { get; init; }

    /// <summary>Gets the email topic of the broadcast, such as <c>newsletter</c>: a lead who left it is not sent it (suppressed, <c>unsubscribed_topic</c>).</summary>
    /// <remarks>The topic must be a registered <see cref="EmailTopic"/>; <see cref="BroadcastService.ScheduleAsync"/> checks it.</remarks>
    /// <value>Defaults to <see langword="null"/>: only leaving all marketing email stops it.</value>
    public string? Topic { get; init; }

    /// <summary>Gets the instant every lead is sent the broadcast at.</summary>
    /// <remarks>Set exactly one of <see cref="SendAt"/> and <see cref="LocalSendAt"/>.</remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Instant? SendAt { get; init; }

    /// <summary>Gets the local date and time each lead is sent the broadcast at, in the lead's own time zone (the business zone for leads without one).</summary>
    /// <remarks>
    /// A local time skipped by a daylight-saving change is sent at the first instant after the gap, and an ambiguous one
    /// at its earlier occurrence. The broadcast starts when that local time comes in the earliest zone (UTC+14); a lead
    /// whose local time has already passed when the broadcast starts (it was scheduled late) is sent it at once.
    /// Set exactly one of <see cref="SendAt"/> and <see cref="LocalSendAt"/>.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public LocalDateTime? LocalSendAt { get; init; }

    /// <summary>Gets the most sends per minute that start at one send instant; the rest are spread over the following minutes.</summary>
    /// <remarks>
    /// Throttling keeps a large list from hitting the mail server (and the site the email links to) all at once. The
    /// limit applies to each send instant separately: with <see cref="LocalSendAt"/> the leads of each time zone offset
    /// are spread from their own local time.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: no limit, every send is due at its instant.</value>
    public int? MaxSendsPerMinute { get; init; }

    /// <summary>Gets whether the <c>http</c> and <c>https</c> links of the HTML body are rewritten into signed click-tracking links (needs <see cref="SequenceOptions.Tracking"/>).</summary>
    /// <value>Defaults to <see langword="true"/>: a broadcast's clicks are one of its figures.</value>
    public bool TrackClicks { get; init; } = true;

    /// <summary>Gets the custom profile fields the templates may use, with the value used when a lead has none, such as <c>first_name</c> → <c>there</c>.</summary>
    /// <value>Defaults to none. The built-in fields <c>email</c>, <c>lead_id</c>, <c>stage</c>, <c>unsubscribe_url</c> and <c>tags</c> are always available.</value>
    public ImmutableDictionary<string, string> Fields { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Gets the variants of a subject-line or content A/B test; each lead gets one, assigned sticky by <see cref="EmailVariants.Assign"/> with the test key <c>broadcast:{key}/{key}</c>.</summary>
    /// <value>Defaults to none: every lead gets the broadcast's subject and bodies.</value>
    public ImmutableArray<EmailVariant> Variants { get; init; } = [];

    /// <summary>Gets the automatic winner test: the variants go to a test share of the segment first, and after a wait the winner goes to everyone else.</summary>
    /// <remarks>Needs <see cref="Variants"/> and <see cref="SendAt"/> (one instant), and an <see cref="Email.IVariantWinnerSelector"/> (<c>AddFunnelAnalytics()</c>).</remarks>
    /// <value>Defaults to <see langword="null"/>: every lead gets their sticky variant at once.</value>
    public BroadcastWinnerTest? WinnerTest { get; init; }

    /// <summary>Returns the one-step sequence the dispatcher sends the broadcast as.</summary>
    internal SequenceDefinition ToSequence() => new()
    {
        Key = Broadcasts.SequenceOf(Key),
        IsMarketing = true,
        Topic = Topic,
        TrackClicks = TrackClicks,
        Fields = Fields,
        Steps =
        [
            new SequenceStep
            {
                Key = Key,
                Subject = Subject,
                TextBody = TextBody,
                HtmlBody = HtmlBody,
                Variants = Variants,
                // A send deferred by the frequency cap goes out the next day at the same local time.
                SendAt = LocalSendAt?.TimeOfDay,
            },
        ],
    };
}

/// <summary>Validates a <see cref="BroadcastDefinition"/>; errors name the property, such as <c>Subject</c>, and the problem.</summary>
/// <remarks>
/// Checks the key and segment key, that exactly one of <see cref="BroadcastDefinition.SendAt"/> and
/// <see cref="BroadcastDefinition.LocalSendAt"/> is set, the throttle, and the templates, fields and variants with the
/// rules of a sequence step (<see cref="SequenceDefinitionValidator"/>): a placeholder that is neither a built-in field
/// nor declared in <see cref="BroadcastDefinition.Fields"/> is an error naming it.
/// </remarks>
/// <threadsafety>Instances are safe to share between threads.</threadsafety>
public sealed class BroadcastDefinitionValidator : AbstractValidator<BroadcastDefinition>
{
    /// <summary>The largest <see cref="BroadcastDefinition.MaxSendsPerMinute"/>.</summary>
    public const int MaxSendsPerMinuteLimit = 1_000_000;

    /// <summary>Initializes the rules with the built-in template renderer.</summary>
    public BroadcastDefinitionValidator()
        : this(PlaceholderTemplateRenderer.Instance)
    {
    }

    /// <summary>Initializes the rules with the template renderer the engine uses.</summary>
    /// <param name="renderer">The renderer that reads the templates' fields.</param>
    /// <exception cref="ArgumentNullException"><paramref name="renderer"/> is <see langword="null"/>.</exception>
    public BroadcastDefinitionValidator(ITemplateRenderer renderer)
    {
        ArgumentNullException.ThrowIfNull(renderer);
        SequenceDefinitionValidator sequences = new(renderer);
        RuleFor(b => b.Key).Must(Funnel.Key.IsValid)
            .WithMessage(b => $"'Key' is '{b.Key}': use 1-100 lowercase letters, digits, '-', '_' or '.'.");
        RuleFor(b => b.Segment).Must(Funnel.Key.IsValid)
            .WithMessage(b => $"'Segment' is '{b.Segment}': name a tracked segment by its key.");
        RuleFor(b => b).Must(b => b.SendAt is null != b.LocalSendAt is null)
            .OverridePropertyName("SendAt")
            .WithMessage("Set exactly one of 'SendAt' (one instant for everyone) and 'LocalSendAt' (a local time in each lead's zone).");
        RuleFor(b => b.MaxSendsPerMinute).InclusiveBetween(1, MaxSendsPerMinuteLimit)
            .When(b => b.MaxSendsPerMinute is not null)
            .WithMessage(b => $"'MaxSendsPerMinute' is {b.MaxSendsPerMinute}: use 1 to {MaxSendsPerMinuteLimit:N0}, or null for no limit.");
        RuleFor(b => b.WinnerTest).Custom((test, context) =>
        {
            BroadcastDefinition b = context.InstanceToValidate;
            if (test is null)
            {
                return;
            }

            if (b.Variants.IsDefaultOrEmpty)
            {
                context.AddFailure("WinnerTest", "'WinnerTest' needs Variants: a control and at least one challenger.");
            }

            if (b.LocalSendAt is not null)
            {
                context.AddFailure("WinnerTest", "'WinnerTest' needs SendAt (one instant): with LocalSendAt the test group's results would arrive over a whole day.");
            }

            if (test.TestPercent is < BroadcastWinnerTest.MinTestPercent or > BroadcastWinnerTest.MaxTestPercent)
            {
                context.AddFailure("WinnerTest.TestPercent", $"'WinnerTest.TestPercent' is {test.TestPercent}: use {BroadcastWinnerTest.MinTestPercent} to {BroadcastWinnerTest.MaxTestPercent}.");
            }

            if (test.Wait < Duration.FromHours(1) || test.Wait > Duration.FromDays(7))
            {
                context.AddFailure("WinnerTest.Wait", "'WinnerTest.Wait' must be from 1 hour to 7 days.");
            }

            if (!Enum.IsDefined(test.Metric))
            {
                context.AddFailure("WinnerTest.Metric", "'WinnerTest.Metric' is not a defined metric.");
            }

            if (test.MinimumSamplePerVariant < 1)
            {
                context.AddFailure("WinnerTest.MinimumSamplePerVariant", "'WinnerTest.MinimumSamplePerVariant' must be at least 1.");
            }
        });
        RuleFor(b => b).Custom((b, context) =>
        {
            if (b.Key is null || !Funnel.Key.IsValid(b.Key) || b.Fields is null)
            {
                return; // reported above; the step's rules need a key.
            }

            // The templates, fields and variants follow the rules of a sequence step; report them by the broadcast's names.
            SequenceDefinition sequence = b.ToSequence() with { Key = "broadcast" };
            ValidationResult result = sequences.Validate(sequence);
            foreach (ValidationFailure failure in result.Errors)
            {
                string path = failure.PropertyName.StartsWith("Steps[0].", StringComparison.Ordinal)
                    ? failure.PropertyName["Steps[0].".Length..]
                    : failure.PropertyName;
                context.AddFailure(path, failure.ErrorMessage.Replace("Steps[0].", string.Empty, StringComparison.Ordinal));
            }
        });
    }
}

/// <summary>What an automatic winner test measures: a broadcast's (<see cref="BroadcastWinnerTest"/>) or a sequence email's (<see cref="StepWinnerTest"/>).</summary>
public enum VariantWinnerMetric
{
    /// <summary>The share of the test sends opened (<c>email_opened</c>): for a subject-line test.</summary>
    Opens,

    /// <summary>The share of the test sends with a click (<c>email_clicked</c>): for a content test.</summary>
    Clicks,
}

/// <summary>A broadcast's automatic winner test: the variants go to a test share of the segment, and after <see cref="Wait"/> the winner goes to the rest.</summary>
/// <remarks>
/// <para>
/// A lead is in the test group when their sticky bucket for the broadcast (a hash of the broadcast key and the lead id,
/// no stored state) is below <see cref="TestPercent"/>, so the group is the same on every instance and after a restart.
/// The test group is queued at <see cref="BroadcastDefinition.SendAt"/> with their sticky variants. <see cref="Wait"/>
/// after the last test send, the queuing job tallies each variant's sends and opens (or clicks) from the event log, a
/// page of the segment at a time, and asks the <see cref="Email.IVariantWinnerSelector"/> for the winner; without a
/// significant winner (too few sends, or no significant difference) the control is sent. The decision is stored on the
/// broadcast (<see cref="BroadcastTestState.Winner"/>), then everyone else in the segment is queued with the winner.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BroadcastWinnerTest
{
    /// <summary>The smallest <see cref="TestPercent"/>.</summary>
    public const int MinTestPercent = 5;

    /// <summary>The largest <see cref="TestPercent"/>: more than half would leave little to send the winner to.</summary>
    public const int MaxTestPercent = 50;

    /// <summary>Gets the share of the segment, in percent, that receives the test.</summary>
    /// <value>Defaults to 20; from 5 to 50.</value>
    public int TestPercent { get; init; } = 20;

    /// <summary>Gets how long after the last test send the results are read.</summary>
    /// <value>Defaults to 4 hours; from 1 hour to 7 days.</value>
    public Duration Wait { get; init; } = Duration.FromHours(4);

    /// <summary>Gets what the test measures.</summary>
    /// <value>Defaults to <see cref="VariantWinnerMetric.Opens"/>.</value>
    public VariantWinnerMetric Metric { get; init; } = VariantWinnerMetric.Opens;

    /// <summary>Gets the test sends every variant needs before a winner is named.</summary>
    /// <value>Defaults to 100; at least 1.</value>
    public long MinimumSamplePerVariant { get; init; } = 100;

    /// <summary>Returns whether a lead is in a broadcast's test group: a pure function of the broadcast key, the lead and <see cref="TestPercent"/>.</summary>
    /// <param name="broadcast">The broadcast key.</param>
    /// <param name="lead">The lead.</param>
    /// <returns><see langword="true"/> when the lead gets the test.</returns>
    public bool IsInTestGroup(string broadcast, LeadId lead)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        return Math.BigMul(StickyBuckets.Rolls("broadcast-test:" + broadcast, lead).First, 100UL, out _) < (ulong)TestPercent;
    }
}
