using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The state of one send in the outbox.</summary>
public enum SendState
{
    /// <summary>Waiting for its due instant.</summary>
    Pending,

    /// <summary>Claimed by a dispatcher until the lease ends; due again if the lease runs out (the dispatcher crashed).</summary>
    Sending,

    /// <summary>Accepted by the mail server.</summary>
    Sent,

    /// <summary>Failed in a way worth retrying; due again at the backoff instant.</summary>
    FailedTransient,

    /// <summary>Failed for good (a permanent error, or too many transient ones).</summary>
    FailedPermanent,

    /// <summary>Not sent because the lead may not receive it (unsubscribed, bounced, complained, no consent).</summary>
    Suppressed,

    /// <summary>Not sent because the step's conditions did not hold or its anchored instant had passed.</summary>
    Skipped,

    /// <summary>Not sent because the enrolment ended first (an exit goal).</summary>
    Cancelled,

    /// <summary>A step that sends no email to the lead was carried out: a branch took its path, or an action (a tag, a score, a seller notification, a webhook…) was recorded or delivered.</summary>
    /// <remarks>For a branch, <see cref="OutboxEntry.Reason"/> holds the path taken: <c>then</c> or <c>else</c>.</remarks>
    Done,
}

/// <summary>One send of one step to one lead, keyed by its idempotency key (enrolment, step).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OutboxEntry
{
    /// <summary>Gets the idempotency key, <c>{enrolment}:{step}</c>; unique in the outbox.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the enrolment.</summary>
    public required EnrolmentId Enrolment { get; init; }

    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets the index of the step in the sequence when the entry was scheduled.</summary>
    /// <remarks>The step's key in <see cref="Key"/> is its identity: if steps were inserted or removed since, the dispatcher finds the step by key.</remarks>
    public required int StepIndex { get; init; }

    /// <summary>Gets the instant the step is meant to be sent at (the computed send time, or the deferred one); later steps count from it.</summary>
    public required Instant ScheduledFor { get; init; }

    /// <summary>Gets the instant the entry is next due: the send instant, the retry instant, or the end of a claim's lease.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Gets the state.</summary>
    /// <value>Defaults to <see cref="SendState.Pending"/>.</value>
    public SendState State { get; init; } = SendState.Pending;

    /// <summary>Gets the number of send attempts made.</summary>
    /// <value>Defaults to 0.</value>
    public int Attempts { get; init; }

    /// <summary>Gets the dispatcher holding the claim while <see cref="SendState.Sending"/>.</summary>
    /// <value><see langword="null"/> when not claimed.</value>
    public string? ClaimedBy { get; init; }

    /// <summary>Gets when the entry reached a final state.</summary>
    /// <value><see langword="null"/> while pending.</value>
    public Instant? CompletedAt { get; init; }

    /// <summary>Gets the transport message id of a sent email.</summary>
    /// <value><see langword="null"/> when not sent or unknown.</value>
    public string? MessageId { get; init; }

    /// <summary>Gets the last failure or the reason for suppression or skipping; for a branch step, the path it took (<c>then</c> or <c>else</c>).</summary>
    /// <value><see langword="null"/> when there is none.</value>
    public string? Reason { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>Starts at 0.</value>
    public long Version { get; init; }

    /// <summary>Gets the outcome of the send, recorded while the entry is still claimed, before the follow-up work (next step, enrolment) is done.</summary>
    /// <remarks>
    /// A dispatcher that finds an entry with an outcome (its predecessor crashed after recording it) does not send again:
    /// it only finishes the follow-up work and moves the entry to this state.
    /// </remarks>
    /// <value><see langword="null"/> until the send has a result.</value>
    public SendState? Outcome { get; init; }

    /// <summary>Gets the events recorded by the change that stored this version (transactional outbox).</summary>
    /// <remarks>
    /// <see cref="ISendOutbox.TryUpdateAsync"/> appends these events to the outbox's event log in the same atomic step as
    /// the state change, so an event is recorded exactly when its change is; they are handed out by
    /// <see cref="ISendOutbox.ClaimEventsAsync"/> until acknowledged. An outbox with an <see cref="ISendOutbox.EventLog"/>
    /// writes them straight into that log instead, in the same step.
    /// </remarks>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];

    /// <summary>Returns the idempotency key of a step of an enrolment.</summary>
    /// <param name="enrolment">The enrolment.</param>
    /// <param name="step">The step key.</param>
    /// <returns>The key, <c>{enrolment}:{step}</c>.</returns>
    public static string KeyOf(EnrolmentId enrolment, string step) => enrolment.ToString() + ":" + step;
}
