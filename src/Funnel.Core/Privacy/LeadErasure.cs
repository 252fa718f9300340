using System.Collections.Immutable;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Privacy;

/// <summary>What an <see cref="IPersonalDataStore"/> did when asked to erase a lead.</summary>
public enum ErasureStatus
{
    /// <summary>The store held personal data of the lead and redacted it.</summary>
    Erased = 0,

    /// <summary>The store held no personal data of the lead.</summary>
    NothingFound = 1,

    /// <summary>The store had erased the lead before; nothing changed.</summary>
    AlreadyErased = 2,
}

/// <summary>What one store did for an erasure.</summary>
/// <param name="Store">The store's <see cref="IPersonalDataStore.Name"/>.</param>
/// <param name="Status">What it did.</param>
/// <param name="RecordsChanged">How many records (rows, events, profiles) it changed.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ErasureOutcome(string Store, ErasureStatus Status, int RecordsChanged);

/// <summary>What <see cref="LeadPrivacyService.EraseAsync"/> did: the lead, when, its tombstone and each store's outcome.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="ErasedAt">When it was erased.</param>
/// <param name="Tombstone">The address that replaced the lead's email address.</param>
/// <param name="Outcomes">One outcome per store, in the order they ran.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadErasure(LeadId LeadId, Instant ErasedAt, EmailAddress Tombstone, ImmutableArray<ErasureOutcome> Outcomes)
{
    /// <summary>Gets whether any store changed anything; <see langword="false"/> when the lead was erased before or unknown.</summary>
    public bool ChangedAnything => Outcomes.Any(static o => o.Status == ErasureStatus.Erased);
}
