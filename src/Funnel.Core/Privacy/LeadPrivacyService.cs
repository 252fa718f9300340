using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
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
/// <para>
/// Given the event log, both also cover the anonymous visitor ids linked to the lead (<see cref="IdentityLinked"/>, read
/// from the lead's events): their events are exported with the lead's, and erased first with the lead's personal values,
/// so a page view recorded before the opt-in keeps no referrer or property that names the person.
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
    private readonly IFunnelEventLog? _events;
    private readonly byte[] _key;

    /// <summary>Initializes the service.</summary>
    /// <param name="leads">The lead store, where profiles are found by id and tombstones by address.</param>
    /// <param name="stores">The stores to export from and erase in; stores that are also <see cref="ILeadStore"/>s run last.</param>
    /// <param name="options">The options, with the suppression key.</param>
    /// <param name="clock">The source of "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The options are not valid; the message names <c>SuppressionKey</c>.</exception>
    public LeadPrivacyService(ILeadStore leads, IEnumerable<IPersonalDataStore> stores, IOptions<PrivacyOptions> options, IClock clock)
        : this(leads, stores, options, clock, events: null)
    {
    }

    /// <summary>Initializes the service with the event log, so exports and erasures also cover the visitor ids linked to a lead.</summary>
    /// <param name="leads">The lead store, where profiles are found by id and tombstones by address.</param>
    /// <param name="stores">The stores to export from and erase in; stores that are also <see cref="ILeadStore"/>s run last.</param>
    /// <param name="options">The options, with the suppression key.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="events">The event log, read for the lead's <see cref="IdentityLinked"/> events; <see langword="null"/> to cover the lead's own id only.</param>
    /// <exception cref="ArgumentNullException"><paramref name="leads"/>, <paramref name="stores"/>, <paramref name="options"/> or <paramref name="clock"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The options are not valid; the message names <c>SuppressionKey</c>.</exception>
    public LeadPrivacyService(ILeadStore leads, IEnumerable<IPersonalDataStore> stores, IOptions<PrivacyOptions> options, IClock clock, IFunnelEventLog? events)
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
        _events = events;
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
        foreach (PersonalDataSubject one in (PersonalDataSubject[])[subject, .. await VisitorsAsync(subject, cancellationToken).ConfigureAwait(false)])
        {
            foreach (IPersonalDataStore store in _stores)
            {
                records.AddRange(await store.ExportAsync(one, cancellationToken).ConfigureAwait(false));
            }
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
        // The linked visitor ids first, while the lead's profile still holds the values to look for: an interrupted
        // erasure runs again with them.
        PersonalDataSubject[] visitors = await VisitorsAsync(subject, cancellationToken).ConfigureAwait(false);
        foreach (IPersonalDataStore store in _stores)
        {
            ErasureOutcome outcome = new(store.Name, ErasureStatus.NothingFound, 0);
            foreach (PersonalDataSubject visitor in visitors)
            {
                outcome = Merge(outcome, await store.EraseAsync(visitor, cancellationToken).ConfigureAwait(false));
            }

            outcomes.Add(outcome);
        }

        for (int i = 0; i < _stores.Length; i++)
        {
            outcomes[i] = Merge(outcomes[i], await _stores[i].EraseAsync(subject, cancellationToken).ConfigureAwait(false));
        }

        return new LeadErasure(leadId, subject.At, subject.Tombstone, outcomes.MoveToImmutable());
    }

    /// <summary>Returns a subject per visitor id linked to the lead, with the lead's personal values.</summary>
    /// <remarks>
    /// A visitor's subject has no email address and a tombstone of its own that occurs nowhere: a store that finds rows
    /// by address (or tombstone) as well as by id then finds only the visitor's rows, never the lead's, which the lead's
    /// own subject erases with the profile's redaction. The address is one of the personal values, so it is still
    /// redacted wherever it appears in the visitor's rows, inside other text too.
    /// </remarks>
    private async Task<PersonalDataSubject[]> VisitorsAsync(PersonalDataSubject subject, CancellationToken cancellationToken)
    {
        if (_events is null)
        {
            return [];
        }

        IReadOnlyList<LoggedEvent> own = await _events.ReadLeadAsync(subject.LeadId, MaxLinkHistory, cancellationToken).ConfigureAwait(false);
        return [.. own.Select(static e => e.Event).OfType<IdentityLinked>()
            .Select(static l => l.VisitorId).Where(v => v != subject.LeadId).Distinct()
            .Select(v => subject with { LeadId = v, Email = null, Tombstone = EmailAddress.Parse($"erased-visitor-{v.Value:N}@{TombstoneDomain}") })];
    }

    /// <summary>Combines what a store did for the visitor ids and the lead: erased when it erased anything, records summed.</summary>
    private static ErasureOutcome Merge(ErasureOutcome a, ErasureOutcome b) => new(
        b.Store,
        a.Status == ErasureStatus.Erased || b.Status == ErasureStatus.Erased ? ErasureStatus.Erased
            : a.Status == ErasureStatus.AlreadyErased || b.Status == ErasureStatus.AlreadyErased ? ErasureStatus.AlreadyErased
            : ErasureStatus.NothingFound,
        a.RecordsChanged + b.RecordsChanged);

    /// <summary>The most of a lead's events read for its identity links (the oldest first), as for scoring.</summary>
    private const int MaxLinkHistory = 10_000;

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
