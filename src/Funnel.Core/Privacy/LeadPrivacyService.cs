using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using Funnel.Leads;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Privacy;

/// <summary>Exports and erases everything held about a lead, across every <see cref="IPersonalDataStore"/>, and recognises erased email addresses.</summary>
/// <remarks>
/// <para>
/// <see cref="ExportAsync"/> asks every store for the lead's records and adds the consent history of the profile.
/// <see cref="EraseAsync"/> reads the profile once, collects its personal values (see
/// <see cref="PersonalDataRedaction.PersonalValuesOf"/>) and asks every store to redact them; stores that keep lead
/// profiles run last, so an interrupted erasure can simply be run again. Erasure is idempotent.
/// </para>
/// <para>
/// After erasure the lead's email address is a tombstone, <c>erased-&lt;HMAC&gt;@erased.invalid</c>, keyed with
/// <see cref="PrivacyOptions.SuppressionKey"/>. <see cref="IsSuppressedAsync"/> recognises the erased address from
/// it: imports skip such an address, while a new opt-in through a form (a new, explicit consent) creates a new lead.
/// </para>
/// <para>This service has no HTTP endpoint: the application decides who may ask for an export or an erasure.</para>
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once when the stores are.</threadsafety>
public sealed class LeadPrivacyService
{
    private const string TombstoneDomain = "erased.invalid";
    private readonly ILeadStore _leads;
    private readonly ImmutableArray<IPersonalDataStore> _stores;
    private readonly IClock _clock;
    private readonly byte[] _key;

    /// <summary>Initializes the service.</summary>
    /// <param name="leads">The lead store, where profiles are found by id and tombstones by address.</param>
    /// <param name="stores">The stores to export from and erase in; stores that are also <see cref="ILeadStore"/>s run last.</param>
    /// <param name="options">The options, with the suppression key.</param>
    /// <param name="clock">The source of "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The options are not valid; the message names <c>SuppressionKey</c>.</exception>
    public LeadPrivacyService(ILeadStore leads, IEnumerable<IPersonalDataStore> stores, IOptions<PrivacyOptions> options, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        PrivacyOptions value = options.Value;
        new PrivacyOptionsValidator().ValidateAndThrow(value);
        _leads = leads;
        _stores = [.. stores.Distinct().OrderBy(static s => s is ILeadStore ? 1 : 0)];
        _clock = clock;
        _key = Encoding.UTF8.GetBytes(value.SuppressionKey!);
    }

    /// <summary>Gets the stores, in the order they run.</summary>
    public ImmutableArray<IPersonalDataStore> Stores => _stores;

    /// <summary>Returns everything the stores hold about a lead.</summary>
    /// <param name="leadId">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The export; its records are empty when no store knows the lead.</returns>
    public async Task<LeadDataExport> ExportAsync(LeadId leadId, CancellationToken cancellationToken = default)
    {
        (PersonalDataSubject subject, LeadProfile? profile) = await SubjectAsync(leadId, cancellationToken).ConfigureAwait(false);
        ImmutableArray<PersonalRecord>.Builder records = ImmutableArray.CreateBuilder<PersonalRecord>();
        foreach (IPersonalDataStore store in _stores)
        {
            records.AddRange(await store.ExportAsync(subject, cancellationToken).ConfigureAwait(false));
        }

        return new LeadDataExport
        {
            LeadId = leadId,
            ExportedAt = subject.At,
            Email = profile?.Email,
            ConsentHistory = profile is null || profile.ConsentHistory.IsDefault ? [] : profile.ConsentHistory,
            Records = records.DrainToImmutable(),
        };
    }

    /// <summary>Erases a lead's personal data in every store, keeping what reports count.</summary>
    /// <remarks>See <see cref="PersonalDataRedaction"/> for what is kept. Running it again changes nothing.</remarks>
    /// <param name="leadId">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome of each store.</returns>
    public async Task<LeadErasure> EraseAsync(LeadId leadId, CancellationToken cancellationToken = default)
    {
        (PersonalDataSubject subject, _) = await SubjectAsync(leadId, cancellationToken).ConfigureAwait(false);
        ImmutableArray<ErasureOutcome>.Builder outcomes = ImmutableArray.CreateBuilder<ErasureOutcome>(_stores.Length);
        foreach (IPersonalDataStore store in _stores)
        {
            outcomes.Add(await store.EraseAsync(subject, cancellationToken).ConfigureAwait(false));
        }

        return new LeadErasure(leadId, subject.At, subject.Tombstone, outcomes.MoveToImmutable());
    }

    /// <summary>Returns whether an email address belongs to an erased lead.</summary>
    /// <remarks>
    /// Imports call it to skip an erased address: bringing it back needs the person's new, explicit opt-in. Once
    /// the person opts in again through a form, a new lead holds the address and it is no longer suppressed. An
    /// address that is not valid is not suppressed.
    /// </remarks>
    /// <param name="email">The address as typed.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when a lead with this address was erased and no lead holds it now.</returns>
    public async Task<bool> IsSuppressedAsync(string? email, CancellationToken cancellationToken = default)
    {
        if (!EmailAddress.TryParse(email, out EmailAddress address, out _))
        {
            return false;
        }

        return await _leads.FindByEmailAsync(TombstoneFor(address), cancellationToken).ConfigureAwait(false) is not null
            && await _leads.FindByEmailAsync(address, cancellationToken).ConfigureAwait(false) is null;
    }

    /// <summary>Returns the tombstone an erased address is replaced with.</summary>
    /// <param name="email">The normalised address.</param>
    /// <returns><c>erased-&lt;32 hex digits of HMAC-SHA256(key, address)&gt;@erased.invalid</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="email"/> is <c>default</c>.</exception>
    public EmailAddress TombstoneFor(EmailAddress email)
    {
        if (email.Value is null)
        {
            throw new ArgumentException("The email address is required.", nameof(email));
        }

        byte[] hash = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(email.Value));
        return EmailAddress.Parse($"erased-{Convert.ToHexStringLower(hash.AsSpan(0, 16))}@{TombstoneDomain}");
    }

    private async Task<(PersonalDataSubject Subject, LeadProfile? Profile)> SubjectAsync(LeadId leadId, CancellationToken cancellationToken)
    {
        Instant now = _clock.GetCurrentInstant();
        LeadProfile? profile = await _leads.FindAsync(leadId, cancellationToken).ConfigureAwait(false);
        EmailAddress? email = profile is { ErasedAt: null } ? profile.Email : null;
        EmailAddress tombstone = profile switch
        {
            null => PerLeadTombstone(leadId),
            { ErasedAt: not null } => profile.Email,
            _ => await FreeTombstoneAsync(profile, cancellationToken).ConfigureAwait(false),
        };
        PersonalDataSubject subject = new()
        {
            LeadId = leadId,
            Email = email,
            Tombstone = tombstone,
            PersonalValues = profile is null ? [] : PersonalDataRedaction.PersonalValuesOf(profile),
            At = now,
        };
        return (subject, profile);
    }

    /// <summary>Returns the address's tombstone, or a per-lead one when another erased lead holds it (the person came back and is erased again).</summary>
    private async Task<EmailAddress> FreeTombstoneAsync(LeadProfile profile, CancellationToken cancellationToken)
    {
        EmailAddress tombstone = TombstoneFor(profile.Email);
        LeadProfile? holder = await _leads.FindByEmailAsync(tombstone, cancellationToken).ConfigureAwait(false);
        return holder is null || holder.Id == profile.Id
            ? tombstone
            : EmailAddress.Parse($"{tombstone.Value.Split('@')[0]}.{profile.Id.Value.ToString("N")[16..]}@{TombstoneDomain}");
    }

    private static EmailAddress PerLeadTombstone(LeadId leadId) =>
        EmailAddress.Parse($"erased-{leadId.Value:N}@{TombstoneDomain}");
}
