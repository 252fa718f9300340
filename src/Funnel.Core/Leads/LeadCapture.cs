using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Leads;

/// <summary>An opt-in form submission: who, for which lead magnet, from where.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OptInRequest
{
    /// <summary>Gets the email address as typed; it is normalised (see <see cref="EmailAddress"/>).</summary>
    public required string Email { get; init; }

    /// <summary>Gets the lead magnet opted in to.</summary>
    public required LeadMagnet Magnet { get; init; }

    /// <summary>Gets the anonymous visitor id (for example from a first-party cookie): the id of a new lead, or linked to an existing one.</summary>
    /// <remarks>
    /// For a new address it becomes the lead's id, so the visitor's earlier events are the lead's. When the address
    /// already belongs to a lead with another id (the person opted in before on another device), the visitor id is
    /// linked to that lead with an <see cref="IdentityLinked"/> event, so its events count as the lead's. When the
    /// visitor id is itself the id of a lead with another address (a shared computer), it is neither used nor linked:
    /// a new lead gets a new id.
    /// </remarks>
    /// <value><see langword="null"/> to create a new id.</value>
    public LeadId? VisitorId { get; init; }

    /// <summary>Gets the <c>utm_source</c>, <c>utm_medium</c>, <c>utm_campaign</c>, <c>utm_content</c> and <c>utm_term</c> parameters of the landing URL, and the referrer.</summary>
    /// <remarks>Each value is checked by <see cref="AttributionValidator"/>: at most <see cref="FieldLimits.AttributionValue"/> characters (the referrer <see cref="FieldLimits.Url"/>), no control characters.</remarks>
    /// <value>Defaults to <see cref="Attribution.None"/>. See <see cref="LeadCapture.AttributionFrom"/>.</value>
    public Attribution Attribution { get; init; } = Attribution.None;

    /// <summary>Gets the lead's IANA time zone id, such as <c>Europe/Berlin</c> (for example from the browser).</summary>
    /// <value><see langword="null"/> to keep the known one.</value>
    public string? TimeZoneId { get; init; }

    /// <summary>Gets tags to add, such as <c>from-webinar</c>.</summary>
    /// <remarks>At most <see cref="FieldLimits.TagsPerRequest"/>, each 1 to <see cref="FieldLimits.Tag"/> characters without control characters.</remarks>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Gets custom fields to set, such as <c>first_name</c>; they replace existing values of the same name.</summary>
    /// <remarks>
    /// At most <see cref="FieldLimits.CustomFieldsPerRequest"/>; names 1 to <see cref="FieldLimits.CustomFieldName"/>
    /// characters, values at most <see cref="FieldLimits.CustomFieldValue"/>; no control characters except line breaks and tabs in values.
    /// </remarks>
    /// <value>Defaults to none.</value>
    public ImmutableDictionary<string, string> CustomFields { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Gets the absolute URL of the confirmation link, with <c>{token}</c> where the double opt-in token goes.</summary>
    /// <remarks>
    /// When the magnet needs a confirmation, <see cref="LeadCapture.OptInAsync"/> records a
    /// <see cref="ConfirmationRequested"/> event with this URL (the token filled in), and the built-in confirmation
    /// sequence of Funnel.Sequences mails it through the send outbox. The opt-in endpoint of Funnel.AspNetCore sets it to
    /// its own confirm endpoint.
    /// </remarks>
    /// <value><see langword="null"/>: no confirmation email is requested; send the <see cref="OptInResult.ConfirmationToken"/> yourself.</value>
    public string? ConfirmationUrlTemplate { get; init; }

    /// <summary>Gets the IP address of the person who submitted the form, kept as proof of consent.</summary>
    /// <remarks>At most <see cref="FieldLimits.IpAddress"/> characters, without control characters. The opt-in endpoint of Funnel.AspNetCore sets it from the connection.</remarks>
    /// <value><see langword="null"/> when unknown.</value>
    public string? IpAddress { get; init; }

    /// <summary>Gets the user agent of the browser that submitted the form, kept as proof of consent.</summary>
    /// <remarks>Without control characters; longer values are cut to <see cref="FieldLimits.UserAgent"/> characters.</remarks>
    /// <value><see langword="null"/> when unknown.</value>
    public string? UserAgent { get; init; }
}

/// <summary>What an opt-in did: the stored lead, whether it is new, the events it recorded and the confirmation token.</summary>
/// <param name="Lead">The stored profile.</param>
/// <param name="IsNewLead"><see langword="true"/> when the email was not known before.</param>
/// <param name="Events">
/// The events this call recorded (already in the <see cref="IFunnelEventLog"/>; do not append them again):
/// <see cref="OptedIn"/>, <see cref="ConsentRecorded"/>, for a new lead <see cref="LifecycleStageChanged"/>, and
/// <see cref="IdentityLinked"/> when the <see cref="OptInRequest.VisitorId"/> is linked to an existing lead (the log
/// keeps it once: a repeat of the same link has the same id).
/// </param>
/// <param name="ConfirmationToken">The double opt-in token to put in the confirmation link, or <see langword="null"/> when none is needed.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OptInResult(LeadProfile Lead, bool IsNewLead, ImmutableArray<LeadEvent> Events, string? ConfirmationToken);

/// <summary>The outcome of confirming a double opt-in.</summary>
public enum ConfirmationStatus
{
    /// <summary>Confirmed: consent is now granted.</summary>
    Confirmed = 0,

    /// <summary>The token is malformed, unknown or already used.</summary>
    Invalid = 1,

    /// <summary>The token is right but expired; a new opt-in issues a new one.</summary>
    Expired = 2,
}

/// <summary>The result of <see cref="LeadCapture.ConfirmAsync(string, string, string, CancellationToken)"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Lead">The lead, when the token named a known one.</param>
/// <param name="Event">
/// The <see cref="OptInConfirmed"/> event this call recorded when confirmed (already in the
/// <see cref="IFunnelEventLog"/>; do not append it again).
/// </param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConfirmationResult(ConfirmationStatus Status, LeadProfile? Lead, OptInConfirmed? Event);

/// <summary>How <see cref="LeadCapture.LinkAsync"/> ended.</summary>
public enum IdentityLinkStatus
{
    /// <summary>The link was recorded now: an <see cref="IdentityLinked"/> event is in the event log.</summary>
    Linked = 0,

    /// <summary>The same link was recorded before; nothing was recorded again.</summary>
    AlreadyLinked = 1,

    /// <summary>The visitor id is the lead's own id; there is nothing to link.</summary>
    SameLead = 2,
}

/// <summary>Captures leads: normalises and deduplicates opt-ins, records consent and attribution, and confirms double opt-ins.</summary>
/// <remarks>
/// <para>
/// <see cref="OptInAsync"/> creates the lead for a new address or updates the existing one (the same person
/// opting in twice is one lead with two <see cref="OptedIn"/> events). First-touch attribution is set once,
/// last-touch on every opt-in. Consent is granted at once, or, when the magnet asks for double opt-in and the
/// lead has not granted it before, left pending with a confirmation token. Opting in again after unsubscribing
/// records new consent and clears <see cref="LeadProfile.UnsubscribedAt"/> once that consent is granted: at once for a
/// single opt-in, on confirmation for a double opt-in (so nobody else can undo an unsubscribe by posting the address);
/// bounces and complaints stay.
/// </para>
/// <para>
/// A person may browse on several devices, each with its own anonymous visitor id. An opt-in of a known address with
/// another visitor id, and <see cref="LinkAsync"/> at login, link the visitor id to the lead with an
/// <see cref="IdentityLinked"/> event, so reports count the visitor's events as the lead's (see <see cref="LeadAliases"/>).
/// </para>
/// <para>
/// The calls record their events in the <see cref="IFunnelEventLog"/> themselves, right after the lead is stored;
/// the results list them for information only.
/// </para>
/// <para>
/// Tokens are 48 random bytes from <see cref="RandomNumberGenerator"/> (16 name the lead, 32 are secret),
/// base64url-encoded. Only the SHA-256 of the secret is stored; a token expires after the configured lifetime
/// and works once.
/// </para>
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once when the store is.</threadsafety>
public sealed class LeadCapture
{
    private const int SecretBytes = 32;
    private readonly ILeadStore _store;
    private readonly IFunnelEventLog _log;
    private readonly IClock _clock;
    private readonly LeadLifecycle _lifecycle;
    private readonly IValidator<OptInRequest> _validator;
    private readonly Duration _tokenLifetime;
    private readonly ConfirmationPolicy _confirmation;

    /// <summary>Initializes lead capture.</summary>
    /// <param name="store">Where leads are kept.</param>
    /// <param name="eventLog">Where the events of opt-ins and confirmations are recorded.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="lifecycle">The lifecycle rules; <see langword="null"/> for <see cref="LeadLifecycle.Default"/>.</param>
    /// <param name="timeZones">Checks time zone ids; <see langword="null"/> for TZDB.</param>
    /// <param name="confirmationTokenLifetime">How long a double opt-in token works; <see langword="null"/> for 48 hours.</param>
    /// <param name="confirmation">Limits the confirmation emails per address; <see langword="null"/> for <see cref="ConfirmationPolicy.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="store"/>, <paramref name="eventLog"/> or <paramref name="clock"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="confirmationTokenLifetime"/> is not positive.</exception>
    /// <exception cref="ValidationException"><paramref name="confirmation"/> is not valid; the message names the field.</exception>
    public LeadCapture(
        ILeadStore store,
        IFunnelEventLog eventLog,
        IClock clock,
        LeadLifecycle? lifecycle = null,
        IDateTimeZoneProvider? timeZones = null,
        Duration? confirmationTokenLifetime = null,
        ConfirmationPolicy? confirmation = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(eventLog);
        ArgumentNullException.ThrowIfNull(clock);
        _store = store;
        _log = eventLog;
        _clock = clock;
        _lifecycle = lifecycle ?? LeadLifecycle.Default;
        _validator = new OptInRequestValidator(timeZones ?? DateTimeZoneProviders.Tzdb);
        _tokenLifetime = confirmationTokenLifetime ?? Duration.FromHours(48);
        if (_tokenLifetime <= Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(confirmationTokenLifetime), confirmationTokenLifetime, "The confirmation token lifetime must be positive.");
        }

        _confirmation = confirmation ?? ConfirmationPolicy.Default;
        new ConfirmationPolicyValidator().ValidateAndThrow(_confirmation);
    }

    /// <summary>Builds the attribution of an opt-in from the landing URL's UTM parameters and the referrer.</summary>
    /// <remarks>
    /// With a <c>utm_source</c> the channel is the lower-cased source (<see cref="Attribution.FromUtm"/>). Without
    /// one, the channel is the referrer's host without <c>www.</c> (such as <c>google.com</c>), or <c>direct</c> when
    /// there is no referrer either.
    /// </remarks>
    /// <param name="source">The <c>utm_source</c> value.</param>
    /// <param name="medium">The <c>utm_medium</c> value.</param>
    /// <param name="campaign">The <c>utm_campaign</c> value.</param>
    /// <param name="content">The <c>utm_content</c> value.</param>
    /// <param name="term">The <c>utm_term</c> value.</param>
    /// <param name="referrer">The HTTP referrer, when known.</param>
    /// <returns>The attribution.</returns>
    public static Attribution AttributionFrom(string? source, string? medium = null, string? campaign = null, string? content = null, string? term = null, string? referrer = null)
    {
        Attribution utm = Attribution.FromUtm(source, medium, campaign, content, term);
        string? cleanReferrer = string.IsNullOrWhiteSpace(referrer) ? null : referrer.Trim();
        string? channel = utm.Channel;
        if (channel is null)
        {
            channel = cleanReferrer is not null && Uri.TryCreate(cleanReferrer, UriKind.Absolute, out Uri? uri) && uri.Host.Length > 0
                ? (uri.Host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? uri.Host[4..] : uri.Host).ToLowerInvariant()
                : "direct";
        }

        return utm with { Channel = channel, Referrer = cleanReferrer };
    }

    /// <summary>Records an opt-in: creates or updates the lead and records its events in the event log.</summary>
    /// <param name="request">The form submission.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The lead, whether it is new, the events recorded and the confirmation token.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">
    /// The request is invalid; each error names the field, such as <c>Email</c> or <c>Attribution.Campaign</c>. This
    /// includes every value over its <see cref="FieldLimits"/> limit: nothing is stored then.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// A concurrent opt-in of another address made the <see cref="OptInRequest.VisitorId"/> the id of its new lead
    /// between this call's check and its write (thrown by the store); a retry starts a new lead.
    /// </exception>
    public async Task<OptInResult> OptInAsync(OptInRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _validator.ValidateAndThrowAsync(request, cancellationToken).ConfigureAwait(false);
        EmailAddress email = EmailAddress.Parse(request.Email);
        LeadMagnet magnet = request.Magnet;
        Instant now = _clock.GetCurrentInstant();

        // A visitor id that is already another address's lead (a shared computer) is not this person's: it neither
        // names the new lead nor is linked. Otherwise it names a new lead, or is linked to the existing one.
        LeadId? visitor = request.VisitorId;
        if (visitor is { } v
            && await _store.FindAsync(v, cancellationToken).ConfigureAwait(false) is { } owner
            && owner.Email != email)
        {
            visitor = null;
        }

        // The change below may run more than once (a concurrent opt-in of the same address wins the write), so it
        // must be pure: the token's secret is drawn once, here, and used only when the lead needs to confirm.
        byte[] fresh = RandomNumberGenerator.GetBytes(SecretBytes);
        OptimisticConcurrency.Update<LeadProfile> update = await UpsertAsync(email, current =>
        {
            LeadProfile profile = current ?? new LeadProfile
            {
                Id = visitor ?? LeadId.New(),
                Email = email,
                CreatedAt = now,
                Stage = LifecycleStage.Visitor,
                FirstTouch = request.Attribution,
            };
            bool needsConfirmation = NeedsConfirmation(magnet, current);
            OptedIn optedIn = new() { LeadId = profile.Id, OccurredAt = now, Attribution = request.Attribution, Magnet = magnet.Key };
            ConsentRecord? consent = profile.ConsentStatus == ConsentStatus.Granted && magnet.DoubleOptIn
                ? profile.Consent
                : new ConsentRecord
                {
                    Purpose = magnet.ConsentPurpose,
                    Status = needsConfirmation ? ConsentStatus.Pending : ConsentStatus.Granted,
                    Method = magnet.DoubleOptIn ? ConsentMethod.DoubleOptIn : ConsentMethod.SingleOptIn,
                    Source = magnet.Key,
                    RecordedAt = now,
                    Text = magnet.ConsentText,
                    IpAddress = Clip(request.IpAddress, FieldLimits.IpAddress),
                    UserAgent = Clip(request.UserAgent, FieldLimits.UserAgent),
                };
            LeadProfile recorded = ReferenceEquals(consent, profile.Consent)
                ? profile
                : profile.WithConsentChange(ConsentChange.Of(consent!, now));
            return recorded with
            {
                Stage = _lifecycle.Apply(profile.Stage, optedIn),
                LastTouch = request.Attribution,
                TimeZoneId = request.TimeZoneId ?? profile.TimeZoneId,
                Tags = profile.Tags.Union(request.Tags),
                CustomFields = profile.CustomFields.SetItems(request.CustomFields),
                Magnets = profile.Magnets.Contains(magnet.Key) ? profile.Magnets : profile.Magnets.Add(magnet.Key),
                Consent = consent,
                PendingConfirmation = needsConfirmation ? Issue(profile.PendingConfirmation, Hash(fresh), now) : profile.PendingConfirmation,
                // Only consent given now lifts an unsubscribe: a double opt-in lifts it on confirmation, so that
                // someone else posting the address cannot undo it.
                UnsubscribedAt = needsConfirmation ? profile.UnsubscribedAt : null,
            };
        }, cancellationToken).ConfigureAwait(false);
        LeadProfile stored = update.After!;
        bool isNew = update.Before is null;
        LifecycleStage before = update.Before?.Stage ?? LifecycleStage.Visitor;
        // A token was issued only when the stored pending confirmation is ours: over the per-address limit it is not.
        byte[]? secret = stored.PendingConfirmation?.TokenHash == Hash(fresh) ? fresh : null;

        ImmutableArray<LeadEvent>.Builder events = ImmutableArray.CreateBuilder<LeadEvent>(5);
        events.Add(new OptedIn { LeadId = stored.Id, OccurredAt = now, Attribution = request.Attribution, Magnet = magnet.Key });
        ConsentRecord consent = stored.Consent!;
        events.Add(new ConsentRecorded
        {
            LeadId = stored.Id,
            OccurredAt = now,
            Attribution = request.Attribution,
            Purpose = consent.Purpose,
            Status = consent.Status,
            Method = consent.Method,
            Source = consent.Source,
            IpAddress = consent.RecordedAt == now ? consent.IpAddress : null,
            UserAgent = consent.RecordedAt == now ? consent.UserAgent : null,
        });
        if (stored.Stage != before)
        {
            events.Add(new LifecycleStageChanged { LeadId = stored.Id, OccurredAt = now, Attribution = request.Attribution, From = before, To = stored.Stage });
        }

        string? token = secret is null ? null : Base64Url(stored.Id, secret);
        if (token is not null && request.ConfirmationUrlTemplate is { } template)
        {
            events.Add(new ConfirmationRequested
            {
                LeadId = stored.Id,
                OccurredAt = now,
                Attribution = request.Attribution,
                Magnet = magnet.Key,
                MagnetTitle = magnet.Title,
                ConfirmationUrl = template.Replace("{token}", Uri.EscapeDataString(token), StringComparison.Ordinal),
            });
        }

        if (visitor is { } linked && linked != stored.Id)
        {
            events.Add(Link(linked, stored.Id, now, request.Attribution));
        }

        ImmutableArray<LeadEvent> recorded = events.ToImmutable();
        await _log.AppendAsync(recorded, cancellationToken).ConfigureAwait(false);
        return new OptInResult(stored, isNew, recorded, token);
    }

    /// <summary>Links an anonymous visitor id to a known lead, for example at login, so the visitor's events count as the lead's.</summary>
    /// <remarks>
    /// <para>
    /// Records an <see cref="IdentityLinked"/> event whose id is derived from both ids: linking the same two ids again
    /// records nothing. Reports resolve the visitor's events to the lead through <see cref="LeadAliases"/>; a visitor
    /// id belongs to the lead it was first linked to.
    /// </para>
    /// <para>
    /// Only an anonymous visitor id is linked. An id that is itself a lead (with another address) is refused: that
    /// would merge two people, and the lead the id names stays a lead of its own. Funnel.AspNetCore's
    /// <c>LinkVisitorAsync</c> checks this before it links the visitor cookie.
    /// </para>
    /// <para>
    /// Once linked, record the visitor's further events under the lead's id (Funnel.AspNetCore sets the visitor cookie
    /// to it). Reports resolve a linked id to its lead for good, so a linked visitor id must not later become the id of
    /// another person's new lead.
    /// </para>
    /// </remarks>
    /// <param name="visitorId">The anonymous visitor id, such as the visitor cookie of the browser the lead logged in from.</param>
    /// <param name="leadId">The lead's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether the link was recorded now, was recorded before, or the ids are the same.</returns>
    /// <exception cref="ArgumentException"><paramref name="visitorId"/> or <paramref name="leadId"/> is the empty (default) id, or <paramref name="leadId"/> names no lead.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="visitorId"/> is the id of another lead, with another email address.</exception>
    public async Task<IdentityLinkStatus> LinkAsync(LeadId visitorId, LeadId leadId, CancellationToken cancellationToken = default)
    {
        if (visitorId.Value == Guid.Empty)
        {
            throw new ArgumentException("The visitor id is empty (default).", nameof(visitorId));
        }

        if (leadId.Value == Guid.Empty)
        {
            throw new ArgumentException("The lead id is empty (default).", nameof(leadId));
        }

        if (visitorId == leadId)
        {
            return IdentityLinkStatus.SameLead;
        }

        if (await _store.FindAsync(leadId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new ArgumentException($"No lead has the id {leadId}: a visitor id is linked to an existing lead.", nameof(leadId));
        }

        if (await _store.FindAsync(visitorId, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new InvalidOperationException(
                $"The visitor id {visitorId} is not anonymous: it is the id of another lead, with another email address. " +
                $"Linking it to lead {leadId} would count two people as one; only an anonymous visitor id is linked.");
        }

        int appended = await _log.AppendAsync([Link(visitorId, leadId, _clock.GetCurrentInstant(), Attribution.None)], cancellationToken)
            .ConfigureAwait(false);
        return appended == 0 ? IdentityLinkStatus.AlreadyLinked : IdentityLinkStatus.Linked;
    }

    private static IdentityLinked Link(LeadId visitorId, LeadId leadId, Instant now, Attribution attribution) => new()
    {
        Id = IdentityLinked.IdOf(visitorId, leadId),
        LeadId = leadId,
        VisitorId = visitorId,
        OccurredAt = now,
        Attribution = attribution,
    };

    /// <summary>Confirms a double opt-in with the token from the confirmation link.</summary>
    /// <param name="token">The token.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome; when confirmed, consent is granted, <see cref="OptInConfirmed"/> is in the event log and the token cannot be used again.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is <see langword="null"/>.</exception>
    public Task<ConfirmationResult> ConfirmAsync(string token, CancellationToken cancellationToken) =>
        ConfirmAsync(token, ipAddress: null, userAgent: null, cancellationToken);

    /// <summary>Confirms a double opt-in with the token from the confirmation link, recording where the click came from.</summary>
    /// <remarks>
    /// The IP address and user agent of the click are the proof that the owner of the address confirmed: they go into
    /// the <see cref="ConsentChange"/> appended to <see cref="LeadProfile.ConsentHistory"/> and the
    /// <see cref="OptInConfirmed"/> event. An IP address longer than <see cref="FieldLimits.IpAddress"/> characters or
    /// a value with control characters is dropped; a user agent is cut to <see cref="FieldLimits.UserAgent"/>.
    /// </remarks>
    /// <param name="token">The token.</param>
    /// <param name="ipAddress">The IP address of the click, when known.</param>
    /// <param name="userAgent">The user agent of the browser that clicked, when known.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome; when confirmed, consent is granted, <see cref="OptInConfirmed"/> is in the event log and the token cannot be used again.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is <see langword="null"/>.</exception>
    public async Task<ConfirmationResult> ConfirmAsync(
        string token, string? ipAddress = null, string? userAgent = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        string? ip = Evidence(ipAddress, FieldLimits.IpAddress, cutLonger: false);
        string? agent = Evidence(userAgent, FieldLimits.UserAgent, cutLonger: true);
        if (!TryDecode(token, out LeadId id, out byte[]? secret))
        {
            return new ConfirmationResult(ConfirmationStatus.Invalid, null, null);
        }

        LeadProfile? lead = await _store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (lead is null)
        {
            return new ConfirmationResult(ConfirmationStatus.Invalid, null, null);
        }

        Instant now = _clock.GetCurrentInstant();
        byte[] hash = Encoding.ASCII.GetBytes(Hash(secret));
        OptimisticConcurrency.Update<LeadProfile> update = await OptimisticConcurrency.UpdateAsync(
            c => _store.FindByEmailAsync(lead.Email, c),
            current => Confirm(current, id, hash, now, ip, agent).Next,
            tryAddAsync: null,
            _store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {id}",
            cancellationToken).ConfigureAwait(false);
        ConfirmationStatus status = Confirm(update.Before, id, hash, now, ip, agent).Status;
        LeadProfile stored = update.After!;

        if (status != ConfirmationStatus.Confirmed)
        {
            return new ConfirmationResult(status, stored, null);
        }

        OptInConfirmed confirmed = new()
        {
            LeadId = stored.Id,
            OccurredAt = now,
            Purpose = stored.Consent!.Purpose,
            IpAddress = ip,
            UserAgent = agent,
        };
        await _log.AppendAsync([confirmed], cancellationToken).ConfigureAwait(false);
        return new ConfirmationResult(status, stored, confirmed);
    }

    /// <summary>Adds a token to the outstanding ones, unless the address had its emails' worth in the window; keeps the earlier links valid.</summary>
    private PendingConfirmation? Issue(PendingConfirmation? pending, string hash, Instant now)
    {
        PendingConfirmation[] outstanding = pending is null
            ? []
            : [.. new[] { pending with { Earlier = [] } }.Concat(pending.Earlier).Where(p => p.ExpiresAt > now)];
        int recent = outstanding.Count(p => p.ExpiresAt - _tokenLifetime > now - _confirmation.EmailWindow);
        if (recent >= _confirmation.MaxEmailsPerWindow)
        {
            return pending;
        }

        return new PendingConfirmation(hash, now + _tokenLifetime) { Earlier = [.. outstanding.Take(_confirmation.MaxOutstandingLinks - 1)] };
    }

    private static bool NeedsConfirmation(LeadMagnet magnet, LeadProfile? current) =>
        magnet.DoubleOptIn && (current?.ConsentStatus ?? ConsentStatus.None) != ConsentStatus.Granted;

    /// <summary>Decides a confirmation against the stored profile: a pure function, re-run when a concurrent change wins.</summary>
    private static (ConfirmationStatus Status, LeadProfile? Next) Confirm(
        LeadProfile? current, LeadId id, byte[] hash, Instant now, string? ipAddress, string? userAgent)
    {
        if (current?.PendingConfirmation is not { } latest || current.Id != id)
        {
            return (ConfirmationStatus.Invalid, current);
        }

        // Any outstanding link works: a later opt-in must not spoil the one emailed first. Compare with every one.
        PendingConfirmation? pending = null;
        foreach (PendingConfirmation candidate in latest.Earlier.Prepend(latest))
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(candidate.TokenHash)))
            {
                pending = candidate;
            }
        }

        if (pending is null)
        {
            return (ConfirmationStatus.Invalid, current);
        }

        if (now >= pending.ExpiresAt)
        {
            return (ConfirmationStatus.Expired, current);
        }

        ConsentRecord granted = (current.Consent ?? new ConsentRecord
        {
            Purpose = "marketing-email",
            Status = ConsentStatus.Pending,
            Method = ConsentMethod.DoubleOptIn,
            Source = "confirmation",
            RecordedAt = now,
        }) with { Status = ConsentStatus.Granted, ConfirmedAt = now };
        ConsentChange change = ConsentChange.Of(granted, now) with { Source = "confirmation", IpAddress = ipAddress, UserAgent = userAgent };
        return (ConfirmationStatus.Confirmed, current.WithConsentChange(change) with
        {
            PendingConfirmation = null,
            UnsubscribedAt = null,
            Consent = granted,
        });
    }

    /// <summary>Creates or changes the lead with the address through the store's insert-if-absent and replace-if-version.</summary>
    private Task<OptimisticConcurrency.Update<LeadProfile>> UpsertAsync(EmailAddress email, Func<LeadProfile?, LeadProfile?> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.UpdateAsync(
            c => _store.FindByEmailAsync(email, c),
            change,
            _store.TryAddAsync,
            _store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead '{email}'",
            cancellationToken);

    private static string? Evidence(string? value, int max, bool cutLonger)
    {
        string? clipped = Clip(value, cutLonger ? max : int.MaxValue);
        return clipped is null || clipped.Length > max || TextRules.HasControl(clipped, allowLineBreaks: false) ? null : clipped;
    }

    private static string? Clip(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string trimmed = value.Trim();
        return trimmed.Length > max ? trimmed[..max] : trimmed;
    }

    private static string Hash(byte[] secret) => Convert.ToHexStringLower(SHA256.HashData(secret));

    private static string Base64Url(LeadId id, byte[] secret)
    {
        byte[] bytes = new byte[16 + SecretBytes];
        id.Value.TryWriteBytes(bytes);
        secret.CopyTo(bytes, 16);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static bool TryDecode(string token, out LeadId id, out byte[] secret)
    {
        id = default;
        secret = [];
        if (token.Length != 64)
        {
            return false;
        }

        try
        {
            byte[] bytes = Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/'));
            id = new LeadId(new Guid(bytes.AsSpan(0, 16)));
            secret = bytes[16..];
            return secret.Length == SecretBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>Validates an <see cref="OptInRequest"/>.</summary>
internal sealed class OptInRequestValidator : AbstractValidator<OptInRequest>
{
    public OptInRequestValidator(IDateTimeZoneProvider timeZones)
    {
        RuleFor(r => r.Email).Custom((email, context) =>
        {
            if (!EmailAddress.TryParse(email, out _, out string? error))
            {
                context.AddFailure(error);
            }
        });
        RuleFor(r => r.Magnet).NotNull().WithMessage("The lead magnet is required.").SetValidator(new LeadMagnetValidator()!);
        RuleFor(r => r.Attribution).NotNull().WithMessage("The attribution is required (use Attribution.None).")
            .SetValidator(new AttributionValidator()!);
        RuleFor(r => r.VisitorId).Must(id => id is null || id.Value.Value != Guid.Empty)
            .WithMessage("The visitor id must not be empty.");
        RuleFor(r => r.TimeZoneId)
            .Must(id => id is null || id.Length <= FieldLimits.TimeZoneId)
            .WithMessage($"The time zone id must be at most {FieldLimits.TimeZoneId} characters.")
            .DependentRules(() => RuleFor(r => r.TimeZoneId).Must(id => id is null || timeZones.GetZoneOrNull(id) is not null)
                .WithMessage(r => $"'{r.TimeZoneId}' is not a known IANA time zone id (for example Europe/Berlin)."));
        RuleFor(r => r.Tags).Must(t => !t.IsDefault).WithMessage("The tags must not be a default array; use [].")
            .Must(t => t.IsDefault || t.Length <= FieldLimits.TagsPerRequest)
            .WithMessage(r => $"At most {FieldLimits.TagsPerRequest} tags may be added at once, not {r.Tags.Length}.");
        RuleForEach(r => r.Tags).Must(t => !string.IsNullOrWhiteSpace(t) && t.Length <= FieldLimits.Tag && !TextRules.HasControl(t, allowLineBreaks: false))
            .WithMessage($"A tag must be 1-{FieldLimits.Tag} characters, not blank and without control characters.")
            .When(r => !r.Tags.IsDefault);
        RuleFor(r => r.CustomFields).NotNull().WithMessage("The custom fields must not be null; use an empty dictionary.")
            .Custom(CheckCustomFields!).When(r => r.CustomFields is not null);
        RuleFor(r => r.IpAddress)
            .Must(ip => ip is null || (ip.Trim().Length <= FieldLimits.IpAddress && !TextRules.HasControl(ip, allowLineBreaks: false)))
            .WithMessage($"The IP address must be at most {FieldLimits.IpAddress} characters, without control characters.");
        RuleFor(r => r.UserAgent).Must(ua => ua is null || !TextRules.HasControl(ua, allowLineBreaks: false))
            .WithMessage("The user agent must not contain control characters.");
        RuleFor(r => r.ConfirmationUrlTemplate).MaximumLength(FieldLimits.Url)
            .WithMessage($"The confirmation URL template must be at most {FieldLimits.Url} characters.");
    }

    private static void CheckCustomFields(ImmutableDictionary<string, string> fields, ValidationContext<OptInRequest> context)
    {
        if (fields.Count > FieldLimits.CustomFieldsPerRequest)
        {
            context.AddFailure(nameof(OptInRequest.CustomFields), $"At most {FieldLimits.CustomFieldsPerRequest} custom fields may be set at once, not {fields.Count}.");
            return;
        }

        foreach ((string name, string value) in fields)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > FieldLimits.CustomFieldName || TextRules.HasControl(name, allowLineBreaks: false))
            {
                context.AddFailure(nameof(OptInRequest.CustomFields), $"A custom field name must be 1-{FieldLimits.CustomFieldName} characters, not blank and without control characters.");
            }
            else if (value is null)
            {
                context.AddFailure($"{nameof(OptInRequest.CustomFields)}[{name}]", $"The custom field '{name}' needs a value.");
            }
            else if (value.Length > FieldLimits.CustomFieldValue || TextRules.HasControl(value, allowLineBreaks: true))
            {
                context.AddFailure($"{nameof(OptInRequest.CustomFields)}[{name}]", $"The custom field '{name}' must be at most {FieldLimits.CustomFieldValue} characters, without control characters other than line breaks and tabs.");
            }
        }
    }
}
