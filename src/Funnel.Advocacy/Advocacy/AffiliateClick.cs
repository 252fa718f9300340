using NodaTime;

namespace Funnel.Advocacy;

/// <summary>A stored click by a visitor on an approved affiliate's link.</summary>
/// <remarks>The document of <see cref="IAffiliateClickStore"/>, keyed by <see cref="Id"/>; clicks are never changed.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AffiliateClick
{
    /// <summary>Gets the click id.</summary>
    public required Guid Id { get; init; }

    /// <summary>Gets the affiliate whose link was clicked.</summary>
    public required AffiliateId Affiliate { get; init; }

    /// <summary>Gets the visitor's lead id.</summary>
    public required LeadId Visitor { get; init; }

    /// <summary>Gets when the click happened.</summary>
    public required Instant At { get; init; }

    /// <summary>Gets the stored version: 0 when new.</summary>
    public long Version { get; init; }
}
