using System.Collections.Immutable;
using Funnel.Email;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>A sequence email's automatic winner test: its variants run until each has a sample, then the winner goes to every lead after.</summary>
/// <remarks>
/// <para>
/// Set it as <see cref="SequenceStep.WinnerTest"/> on an email step with <see cref="SequenceStep.Variants"/>. Leads
/// enter a sequence over weeks, so the test has no test group: until it is decided every lead gets their sticky
/// variant, as without a winner test. Each test send counts once its lead has had <see cref="Wait"/> to open (or click)
/// it. When every variant has at least <see cref="MinimumSamplePerVariant"/> such sends, the <c>sequence-tests</c> job
/// asks the <see cref="IVariantWinnerSelector"/> once, with the results then, and stores the decision: the significantly
/// better variant, or the control when none is (judging once at a sample fixed in advance keeps the false-winner rate
/// at the selector's level, where checking again as results come in would raise it). Every send of the step after the
/// decision gets the winner, on every instance.
/// </para>
/// <para>
/// The decision is recorded as a <see cref="SequenceTestDecided"/> event; the tallies are kept by the
/// <c>sequences</c> pipeline handler from the <c>email_sent</c>, <c>email_opened</c> and <c>email_clicked</c> events in
/// an <see cref="ISequenceTestStore"/>, one row per lead, so a redelivered event counts once and a lead who opens three
/// times is one conversion.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StepWinnerTest
{
    /// <summary>The shortest <see cref="Wait"/>.</summary>
    public static readonly Duration MinWait = Duration.FromHours(1);

    /// <summary>The longest <see cref="Wait"/>.</summary>
    public static readonly Duration MaxWait = Duration.FromDays(30);

    /// <summary>Gets how long after its send a test send starts to count, so its lead has had time to open it.</summary>
    /// <value>Defaults to 2 days; from 1 hour to 30 days.</value>
    public Duration Wait { get; init; } = Duration.FromDays(2);

    /// <summary>Gets what the test measures.</summary>
    /// <value>Defaults to <see cref="VariantWinnerMetric.Opens"/> (a click counts as an open).</value>
    public VariantWinnerMetric Metric { get; init; } = VariantWinnerMetric.Opens;

    /// <summary>Gets the counted sends every variant needs before the test is decided.</summary>
    /// <value>Defaults to 100; at least 1.</value>
    public long MinimumSamplePerVariant { get; init; } = 100;
}

/// <summary>The decision of a sequence email's automatic winner test (<see cref="StepWinnerTest"/>).</summary>
/// <param name="Test">The test key, <c>sequence/step</c> (<see cref="EmailVariants.TestKey"/>).</param>
/// <param name="Winner">The variant every lead gets from now on: the winner, or the control when no variant was significantly better.</param>
/// <param name="Significant">Whether <paramref name="Winner"/> was significantly better than the others; <see langword="false"/> when the control was kept.</param>
/// <param name="Results">Each variant's counted sends and conversions when the test was decided, ordered by variant key.</param>
/// <param name="DecidedAt">When the test was decided.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SequenceTestDecision(string Test, string Winner, bool Significant, ImmutableArray<VariantResult> Results, Instant DecidedAt);

/// <summary>Keeps the tallies and decisions of sequence emails' automatic winner tests (<see cref="StepWinnerTest"/>); replace the in-memory default with durable storage.</summary>
/// <remarks>
/// <para>
/// A test's tally is one row per lead: the variant sent, when, and whether the lead converted. Recording is idempotent
/// (a send already recorded, or a conversion already counted, changes nothing), so the pipeline's at-least-once
/// delivery counts every lead once. Once a test is decided its rows are deleted and nothing more is recorded for it.
/// </para>
/// <para>
/// <see cref="DecideAsync"/> stores the first decision only: several instances deciding at once all get the same one back.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads and processes at once.</threadsafety>
public interface ISequenceTestStore
{
    /// <summary>Records that a test variant was sent to a lead, unless the lead already has a send in the test or the test is decided.</summary>
    /// <param name="test">The test key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="variant">The variant sent.</param>
    /// <param name="sentAt">When it was sent.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the send is recorded.</returns>
    Task RecordSendAsync(string test, LeadId lead, string variant, Instant sentAt, CancellationToken cancellationToken = default);

    /// <summary>Records that a lead converted (opened or clicked) in a test; nothing happens when the lead has no send in it.</summary>
    /// <param name="test">The test key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the conversion is recorded.</returns>
    Task RecordConversionAsync(string test, LeadId lead, CancellationToken cancellationToken = default);

    /// <summary>Counts, per variant, the test's sends made at or before an instant and those of their leads who converted.</summary>
    /// <param name="test">The test key.</param>
    /// <param name="sentBy">The latest send instant counted.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One result per variant with a counted send, ordered by variant key (ordinal).</returns>
    Task<ImmutableArray<VariantResult>> TallyAsync(string test, Instant sentBy, CancellationToken cancellationToken = default);

    /// <summary>Finds a test's decision.</summary>
    /// <param name="test">The test key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The decision, or <see langword="null"/> while the test runs.</returns>
    Task<SequenceTestDecision?> FindDecisionAsync(string test, CancellationToken cancellationToken = default);

    /// <summary>Stores a test's decision unless it has one, and deletes the test's tally.</summary>
    /// <param name="decision">The decision.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored decision: <paramref name="decision"/>, or the one stored before it.</returns>
    Task<SequenceTestDecision> DecideAsync(SequenceTestDecision decision, CancellationToken cancellationToken = default);
}
