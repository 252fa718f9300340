using NodaTime;

namespace Funnel.Onboarding;

/// <summary>The stored state of one order's grant of one product to a lead: held or revoked, as of the latest event.</summary>
/// <remarks>Keyed by lead, product and order; a product granted by two orders has two records.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EntitlementRecord
{
    /// <summary>Gets the lead.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the product key.</summary>
    public required string Product { get; init; }

    /// <summary>Gets the order whose grant this is.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets whether the order's grant is held (<see langword="false"/> once revoked).</summary>
    public required bool Held { get; init; }

    /// <summary>Gets when the latest applied event for the order happened.</summary>
    public required Instant ChangedAt { get; init; }

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}
