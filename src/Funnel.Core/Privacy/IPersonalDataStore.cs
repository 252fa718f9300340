namespace Funnel.Privacy;

/// <summary>A store that holds personal data of leads and can export and erase it, for <see cref="LeadPrivacyService"/>.</summary>
/// <remarks>
/// <para>
/// Erasure is by redaction: the store replaces the personal values of the subject (the email address, custom field
/// values such as a name, IP addresses, user agents, referrers and confirmation links) and keeps the rest, so events,
/// orders and counts still add up in reports. The email address becomes the subject's
/// <see cref="PersonalDataSubject.Tombstone"/>, other values <see cref="PersonalDataSubject.Redacted"/>.
/// </para>
/// <para>
/// Both calls must be idempotent: erasing an erased subject again changes nothing and reports
/// <see cref="ErasureStatus.AlreadyErased"/> or <see cref="ErasureStatus.NothingFound"/>. A store that also keeps
/// lead profiles erases the profile last in its own call, and <see cref="LeadPrivacyService"/> calls such a store
/// after the others, so an erasure interrupted by a crash can be run again with the original values.
/// </para>
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IPersonalDataStore
{
    /// <summary>Gets the store's name, such as <c>leads</c> or <c>sqlite</c>, used in exports and outcomes.</summary>
    string Name { get; }

    /// <summary>Returns every record the store holds about the subject.</summary>
    /// <param name="subject">The lead, with its email address and personal values.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The records, in a stable order; empty when the store holds none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default);

    /// <summary>Redacts every personal value of the subject the store holds.</summary>
    /// <param name="subject">The lead, with its email address, personal values and tombstone.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What the store did.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    Task<ErasureOutcome> EraseAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default);
}
