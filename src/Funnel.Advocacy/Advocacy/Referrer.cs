using System.Collections.Immutable;
using Funnel.Leads;

namespace Funnel.Advocacy;

/// <summary>The stored state of a customer who refers friends: their code, the guards' data and the credit earned.</summary>
/// <remarks>The document of <see cref="IReferrerStore"/>, keyed by <see cref="Lead"/>; <see cref="Code"/> is unique too.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Referrer
{
    /// <summary>Gets the customer's lead id.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the customer's email address, for the same-email guard.</summary>
    public required EmailAddress Email { get; init; }

    /// <summary>Gets the referral code, unique among referrers.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the customer's known payment fingerprints, for the same-payment guard.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<string> Fingerprints { get; init; } = [];

    /// <summary>Gets the credit earned so far.</summary>
    public required Money Credit { get; init; }

    /// <summary>Gets the friends whose reward has been credited, so that a reward is credited once.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<LeadId> Credited { get; init; } = [];

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}
