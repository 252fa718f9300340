using System.Collections.Immutable;
using System.Globalization;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Identifies one enrolment of a lead in a sequence.</summary>
/// <param name="Value">The underlying GUID.</param>
/// <remarks><c>default(EnrolmentId)</c> is <see cref="Guid.Empty"/> and is rejected wherever an id is required.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public readonly record struct EnrolmentId(Guid Value)
{
    /// <summary>Returns a new time-ordered id.</summary>
    /// <returns>The id.</returns>
    public static EnrolmentId New() => new(Guid.CreateVersion7());

    /// <summary>Returns the id as 32 lower-case hex digits.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Value.ToString("N", CultureInfo.InvariantCulture);
}

/// <summary>Where an enrolment stands.</summary>
public enum EnrolmentStatus
{
    /// <summary>Steps are still being sent.</summary>
    Active,

    /// <summary>Every step was sent or skipped.</summary>
    Completed,

    /// <summary>An exit goal (such as a purchase) ended it early.</summary>
    Exited,

    /// <summary>A marketing sequence triggered while the lead's double opt-in was unconfirmed: it starts on the lead's <c>opt_in_confirmed</c>, and never if the lead does not confirm.</summary>
    AwaitingConsent,
}

/// <summary>A lead's passage through one sequence.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Enrolment
{
    /// <summary>Gets the id.</summary>
    public required EnrolmentId Id { get; init; }

    /// <summary>Gets the lead.</summary>
    public required LeadId LeadId { get; init; }

    /// <summary>Gets the sequence key.</summary>
    public required string Sequence { get; init; }

    /// <summary>Gets when the lead was enrolled: the instant of the triggering event, or of the confirmation for an enrolment that awaited consent.</summary>
    public required Instant EnrolledAt { get; init; }

    /// <summary>Gets the anchor that <see cref="StepTiming.RelativeToAnchor"/> steps count from, such as a webinar's start.</summary>
    /// <value><see langword="null"/> when none was given.</value>
    public Instant? Anchor { get; init; }

    /// <summary>Gets the status.</summary>
    /// <value>Defaults to <see cref="EnrolmentStatus.Active"/>.</value>
    public EnrolmentStatus Status { get; init; } = EnrolmentStatus.Active;

    /// <summary>Gets when the last email of this enrolment was sent.</summary>
    /// <value><see langword="null"/> before the first send.</value>
    public Instant? LastSentAt { get; init; }

    /// <summary>Gets the template fields taken from the triggering event, such as <c>confirmation_url</c>.</summary>
    /// <remarks>Stored with the enrolment so a send retried after a restart renders the same; they override the sequence's and the lead's fields.</remarks>
    /// <value>Defaults to empty.</value>
    public ImmutableDictionary<string, string> Fields { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Gets when the enrolment completed or exited.</summary>
    /// <value><see langword="null"/> while active.</value>
    public Instant? EndedAt { get; init; }

    /// <summary>Gets the version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>Starts at 0.</value>
    public long Version { get; init; }
}
