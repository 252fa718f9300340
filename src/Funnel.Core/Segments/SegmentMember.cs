using NodaTime;

namespace Funnel.Segments;

/// <summary>The stored membership of one lead in one segment, as of the latest evaluation that changed it.</summary>
/// <remarks>The document of <see cref="ISegmentMembershipStore"/>, keyed by segment and lead; a lead who left keeps the record with <see cref="IsMember"/> <see langword="false"/>.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SegmentMember
{
    /// <summary>Gets the segment key.</summary>
    public required string Segment { get; init; }

    /// <summary>Gets the lead.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets whether the lead is in the segment.</summary>
    public required bool IsMember { get; init; }

    /// <summary>Gets when the lead entered or left.</summary>
    public required Instant ChangedAt { get; init; }

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}
