using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>Where a broadcast is in its life.</summary>
public enum BroadcastStatus
{
    /// <summary>Waiting for its start; nothing is queued yet.</summary>
    Scheduled = 0,

    /// <summary>Its sends are being queued in the outbox, a page of the segment at a time.</summary>
    Queuing = 1,

    /// <summary>A send is queued for every member; the dispatcher sends them at their instants.</summary>
    Queued = 2,

    /// <summary>Cancelled: nothing more is queued, and the sends not yet made are cancelled when they come due.</summary>
    Cancelled = 3,
}

/// <summary>Where a broadcast with an automatic winner test (<see cref="BroadcastDefinition.WinnerTest"/>) is in it.</summary>
public enum BroadcastTestStage
{
    /// <summary>No test, or not started.</summary>
    None = 0,

    /// <summary>The test group's sends are being queued.</summary>
    Testing = 1,

    /// <summary>The test group is queued; the results are read at <see cref="Broadcast.DueAt"/>.</summary>
    Waiting = 2,

    /// <summary>Each variant's results are being tallied from the event log, a page of the segment at a time.</summary>
    Tallying = 3,

    /// <summary>The winner is chosen (<see cref="BroadcastTestState.Winner"/>); everyone else is being queued, or has been.</summary>
    Decided = 4,
}

/// <summary>Where a broadcast's automatic winner test stands: its stage, the results tallied and the winner.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BroadcastTestState
{
    /// <summary>Gets the stage.</summary>
    public required BroadcastTestStage Stage { get; init; }

    /// <summary>Gets the latest instant a test send was queued for; the results are read <see cref="BroadcastWinnerTest.Wait"/> after it.</summary>
    /// <value><see langword="null"/> before the test group is queued, or when it is empty.</value>
    public Instant? LastSendAt { get; init; }

    /// <summary>Gets each variant's test results tallied so far: test sends, and those opened (or clicked).</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<Email.VariantResult> Tallies { get; init; } = [];

    /// <summary>Gets the variant sent to everyone outside the test group.</summary>
    /// <value><see langword="null"/> until decided.</value>
    public string? Winner { get; init; }

    /// <summary>Gets whether <see cref="Winner"/> was significantly better; otherwise it is the control, sent for want of a significant winner.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool Significant { get; init; }

    /// <summary>Gets when the winner was chosen.</summary>
    /// <value><see langword="null"/> until decided.</value>
    public Instant? DecidedAt { get; init; }
}

/// <summary>How many sends were queued for one send instant, for throttling.</summary>
/// <param name="At">The send instant.</param>
/// <param name="Queued">The sends queued for it so far.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BroadcastSlot(Instant At, int Queued);

/// <summary>A scheduled broadcast as stored: its definition and how far its sends are queued.</summary>
/// <remarks>
/// The document of <see cref="IBroadcastStore"/>, keyed by <see cref="BroadcastDefinition.Key"/> and changed only by
/// compare-and-set on <see cref="Version"/>. The queuing of a broadcast is claimed like an outbox entry: the instance
/// that moves it to <see cref="BroadcastStatus.Queuing"/> sets <see cref="ClaimedBy"/> and a <see cref="DueAt"/> at the
/// end of its lease, and writes <see cref="Cursor"/> after every page, so another instance resumes after a crash
/// where it stopped.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Broadcast
{
    /// <summary>Gets what is sent, to whom and when.</summary>
    public required BroadcastDefinition Definition { get; init; }

    /// <summary>Gets the key (the definition's).</summary>
    public string Key => Definition.Key;

    /// <summary>Gets the status.</summary>
    public required BroadcastStatus Status { get; init; }

    /// <summary>Gets when the broadcast was scheduled.</summary>
    public required Instant CreatedAt { get; init; }

    /// <summary>Gets when the broadcast next needs queuing work: its start, or the end of the current claim's lease.</summary>
    public required Instant DueAt { get; init; }

    /// <summary>Gets the instance queuing the sends while <see cref="BroadcastStatus.Queuing"/>.</summary>
    /// <value><see langword="null"/> when not claimed.</value>
    public string? ClaimedBy { get; init; }

    /// <summary>Gets when queuing began: sends whose instant had passed by then are due at it (spread by the throttle from there).</summary>
    /// <value><see langword="null"/> while <see cref="BroadcastStatus.Scheduled"/>.</value>
    public Instant? StartedAt { get; init; }

    /// <summary>Gets the last lead whose send was queued (members are queued in lead id order).</summary>
    /// <value><see langword="null"/> before the first page.</value>
    public LeadId? Cursor { get; init; }

    /// <summary>Gets the sends queued so far.</summary>
    /// <value>Defaults to 0.</value>
    public int Queued { get; init; }

    /// <summary>Gets the sends queued per send instant, for <see cref="BroadcastDefinition.MaxSendsPerMinute"/>.</summary>
    /// <value>Defaults to empty; kept only for a throttled broadcast.</value>
    public ImmutableArray<BroadcastSlot> Slots { get; init; } = [];

    /// <summary>Gets the state of the automatic winner test (<see cref="BroadcastDefinition.WinnerTest"/>).</summary>
    /// <value><see langword="null"/> without a test, or before it starts.</value>
    public BroadcastTestState? Test { get; init; }

    /// <summary>Gets when the broadcast reached <see cref="BroadcastStatus.Queued"/> or <see cref="BroadcastStatus.Cancelled"/>.</summary>
    /// <value><see langword="null"/> before.</value>
    public Instant? CompletedAt { get; init; }

    /// <summary>Gets the stored version, incremented by every stored change (for compare-and-set).</summary>
    /// <value>Starts at 0.</value>
    public long Version { get; init; }
}

/// <summary>The names broadcasts use in the outbox.</summary>
internal static class Broadcasts
{
    /// <summary>The prefix of a broadcast's sequence key in the outbox; sequence keys cannot contain ':'.</summary>
    public const string SequencePrefix = "broadcast:";

    /// <summary>Returns the outbox sequence key of a broadcast, <c>broadcast:{key}</c>.</summary>
    public static string SequenceOf(string key) => SequencePrefix + key;

    /// <summary>Returns whether an outbox sequence key is a broadcast's; if so, its key.</summary>
    public static bool TryParse(string sequence, out string key)
    {
        if (sequence.StartsWith(SequencePrefix, StringComparison.Ordinal))
        {
            key = sequence[SequencePrefix.Length..];
            return true;
        }

        key = string.Empty;
        return false;
    }

    /// <summary>Returns the id that stands for the enrolment of one lead in one broadcast: a pure function of the two, so a re-queued send has the same outbox key.</summary>
    public static EnrolmentId EnrolmentOf(string key, LeadId lead)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(SequencePrefix + key + "/" + lead.Value.ToString("N")), hash);
        hash[7] = (byte)((hash[7] & 0x0F) | 0x80); // version 8 (custom), so it never equals a random or time-ordered id.
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant.
        return new EnrolmentId(new Guid(hash[..16]));
    }
}
