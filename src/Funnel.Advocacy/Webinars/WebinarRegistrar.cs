using System.Collections.Immutable;
using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Segments;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Webinars;

/// <summary>A lead's registration for a webinar session.</summary>
/// <param name="Lead">The registrant.</param>
/// <param name="Session">The session, with its start in the registrant's zone.</param>
/// <param name="RegisteredAt">When they registered.</param>
/// <param name="Attended">Whether they attended.</param>
/// <remarks>The stored document of <see cref="IWebinarRegistrationStore"/>, keyed by the session's webinar and the lead.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebinarRegistration(LeadId Lead, WebinarSession Session, Instant RegisteredAt, bool Attended)
{
    /// <summary>Gets whether <c>webinar_missed</c> was emitted for this registration.</summary>
    public bool NoShowRecorded { get; init; }

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}

/// <summary>The result of a registration: the registration and the events to record.</summary>
/// <param name="Registration">The registration.</param>
/// <param name="Events">The events this call recorded (already in the log; do not append them again): <c>webinar_registered</c> (empty when the lead was already registered for an upcoming session).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebinarRegistrationResult(WebinarRegistration Registration, ImmutableArray<FunnelEvent> Events);

/// <summary>A registrant did not attend their webinar session; emitted once the session has ended.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.WebinarMissed)]
public sealed record WebinarMissed : LeadEvent
{
    /// <summary>Gets the key of the webinar.</summary>
    public required string Webinar { get; init; }

    /// <summary>Gets when the missed session started.</summary>
    public required Instant SessionStartedAt { get; init; }

    /// <summary>Gets when the session's replay stops being available (exclusive): the session's end plus <see cref="Webinars.Webinar.ReplayFor"/>.</summary>
    /// <remarks>Use it as the anchor of a replay sequence such as <c>GuideSequences.WebinarReplay</c> (Funnel.Sequences).</remarks>
    /// <value><see langword="null"/> on events recorded before the replay deadline was carried.</value>
    public Instant? ReplayEndsAt { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.WebinarMissed;

    /// <inheritdoc/>
    /// <value>The <see cref="Webinar"/> key.</value>
    public override string? Subject => Webinar;
}

/// <summary>Registers leads for webinar sessions, records attendance and no-shows, and answers replay availability.</summary>
/// <remarks>
/// <para>Registration picks the next session in the registrant's zone (<see cref="WebinarScheduler.NextSession"/>)
/// and emits <c>webinar_registered</c> (subject = webinar key) with the session start in
/// <see cref="WebinarRegistered.StartsAt"/>, the anchor of reminder sequences such as
/// <c>GuideSequences.WebinarReminders</c> (Funnel.Sequences) (24 h, 1 h, starting now; reminders already past at
/// registration are skipped), and also as <c>session_starts_at</c> (ISO-8601 instant) in <see cref="FunnelEvent.Properties"/>.
/// A lead registered for a session that has not ended keeps it; after it ended, registering again books the next one.</para>
/// <para>Joining at any time before the session ends counts as attending (<c>webinar_attended</c>).
/// <see cref="RecordNoShowsAsync"/> emits <c>webinar_missed</c> once per ended, unattended registration. The replay is
/// available from the session's end until <see cref="Webinar.ReplayFor"/> after it. Registrations live in an <see cref="IWebinarRegistrationStore"/>; the registrar keeps no state of its own. Each call appends its events to the <see cref="IFunnelEventLog"/> itself, right after the store change.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe when the store is; changes are replace-if-version, retried when a concurrent change wins.</threadsafety>
public sealed class WebinarRegistrar
{
    /// <summary>The property of <c>webinar_registered</c> that holds the session start, as an ISO-8601 instant.</summary>
    public const string SessionStartsAtProperty = "session_starts_at";

    private const int NoShowPage = 100;

    private readonly ImmutableDictionary<string, Webinar> _webinars;
    private readonly IWebinarRegistrationStore _store;
    private readonly IClock _clock;
    private readonly IFunnelEventLog _log;

    /// <summary>Initializes the registrar.</summary>
    /// <param name="webinars">The webinars; each is validated.</param>
    /// <param name="store">The store of registrations.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <param name="log">The event log the registrar records its events in.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">A webinar is invalid.</exception>
    /// <exception cref="ArgumentException">Two webinars share a key.</exception>
    public WebinarRegistrar(IEnumerable<Webinar> webinars, IWebinarRegistrationStore store, IClock clock, IFunnelEventLog log)
    {
        ArgumentNullException.ThrowIfNull(webinars);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        var validator = new WebinarValidator();
        var builder = ImmutableDictionary.CreateBuilder<string, Webinar>(StringComparer.Ordinal);
        foreach (Webinar webinar in webinars)
        {
            validator.ValidateAndThrow(webinar);
            if (!builder.TryAdd(webinar.Key, webinar))
            {
                throw new ArgumentException($"Two webinars have the key '{webinar.Key}'.", nameof(webinars));
            }
        }

        _webinars = builder.ToImmutable();
        _store = store;
        _clock = clock;
        _log = log;
    }

    /// <summary>Registers a lead for the next session of a webinar in their time zone.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="zone">The lead's time zone.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The registration and the events this call recorded (already in the log; do not append them again): <c>webinar_registered</c>, preceded by <c>webinar_missed</c> when it replaces an ended, unattended registration whose no-show <see cref="RecordNoShowsAsync"/> has not reported yet.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="zone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    /// <exception cref="InvalidOperationException">The webinar has no upcoming session, or concurrent changes to the registration kept winning.</exception>
    public async Task<WebinarRegistrationResult> RegisterAsync(
        string webinar, LeadId lead, DateTimeZone zone, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(zone);
        Webinar definition = Find(webinar);
        WebinarRegistrationResult result = await OptimisticConcurrency.RetryAsync<WebinarRegistrationResult>(
            async ct =>
            {
                Instant now = _clock.GetCurrentInstant();
                WebinarRegistration? existing = await _store.FindAsync(webinar, lead, ct).ConfigureAwait(false);
                if (existing is not null && existing.Session.EndsAt > now)
                {
                    return (true, new WebinarRegistrationResult(existing, []));
                }

                WebinarSession session = WebinarScheduler.NextSession(definition, now, zone)
                    ?? throw new InvalidOperationException($"Webinar '{webinar}' has no upcoming session.");
                var registration = new WebinarRegistration(lead, session, now, false);
                bool stored = existing is null
                    ? await _store.TryAddAsync(registration, ct).ConfigureAwait(false)
                    : await _store.TryUpdateAsync(existing, registration, ct).ConfigureAwait(false);
                if (!stored)
                {
                    return (false, null!);
                }

                // The new registration replaces the ended one: report its no-show now, or it would be lost.
                ImmutableArray<FunnelEvent> missed = existing is not null && IsUnrecordedNoShow(existing, now) ? [Missed(existing, now)] : [];
                return (true, new WebinarRegistrationResult(registration with { Version = existing is null ? 0 : existing.Version + 1 }, [.. missed, new WebinarRegistered
                {
                    LeadId = lead,
                    OccurredAt = now,
                    Webinar = webinar,
                    StartsAt = session.StartsAt,
                    Properties = ImmutableDictionary<string, string>.Empty.Add(SessionStartsAtProperty, InstantPattern.ExtendedIso.Format(session.StartsAt)),
                }]));
            },
            $"the registration of {lead} for '{webinar}'",
            cancellationToken).ConfigureAwait(false);
        return result with { Events = await _log.RecordAsync(result.Events, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>Records that a registrant joined their session.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The <c>webinar_attended</c> event this call recorded (already in the log; do not append it again), or nothing when the lead is not registered, the session has ended, or attendance was already recorded.</returns>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the registration kept winning.</exception>
    public async Task<ImmutableArray<FunnelEvent>> RecordAttendanceAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default)
    {
        Find(webinar);
        ImmutableArray<FunnelEvent> events = await OptimisticConcurrency.RetryAsync<ImmutableArray<FunnelEvent>>(
            async ct =>
            {
                Instant now = _clock.GetCurrentInstant();
                WebinarRegistration? entry = await _store.FindAsync(webinar, lead, ct).ConfigureAwait(false);
                if (entry is null || entry.Attended || now >= entry.Session.EndsAt)
                {
                    return (true, []);
                }

                bool won = await _store.TryUpdateAsync(entry, entry with { Attended = true }, ct).ConfigureAwait(false);
                return (won, won ? [new WebinarAttended { LeadId = lead, OccurredAt = now, Webinar = webinar }] : []);
            },
            $"the registration of {lead} for '{webinar}'",
            cancellationToken).ConfigureAwait(false);
        return await _log.RecordAsync(events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Emits <c>webinar_missed</c> for every registration whose session has ended without the lead attending, once each.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events this call recorded (already in the log; do not append them again).</returns>
    /// <remarks>The <c>webinar-no-shows</c> job of <c>AddFunnelAdvocacy</c> calls this every minute in a host that runs
    /// <c>AddFunnelHosting()</c>. Each no-show is marked recorded with a replace-if-version, so of two concurrent calls only one reports it. Registrations for webinars no longer configured are skipped.</remarks>
    public async Task<ImmutableArray<FunnelEvent>> RecordNoShowsAsync(CancellationToken cancellationToken = default)
    {
        Instant now = _clock.GetCurrentInstant();
        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        var skipped = new HashSet<(string, LeadId)>();
        while (true)
        {
            ImmutableArray<WebinarRegistration> page =
                await _store.ListUnrecordedNoShowsAsync(now, NoShowPage + skipped.Count, cancellationToken).ConfigureAwait(false);
            int progress = 0;
            foreach (WebinarRegistration entry in page)
            {
                if (skipped.Contains((entry.Session.Webinar, entry.Lead)))
                {
                    continue;
                }

                if (!_webinars.ContainsKey(entry.Session.Webinar))
                {
                    skipped.Add((entry.Session.Webinar, entry.Lead));
                    continue;
                }

                progress++;
                if (await _store.TryUpdateAsync(entry, entry with { NoShowRecorded = true }, cancellationToken).ConfigureAwait(false))
                {
                    events.AddRange(await _log.RecordAsync([Missed(entry, now)], cancellationToken).ConfigureAwait(false));
                }
            }

            if (page.Length < NoShowPage + skipped.Count || progress == 0)
            {
                return events.ToImmutable();
            }
        }
    }

    /// <summary>Returns a lead's registration for a webinar.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The registration, or <see langword="null"/> when not registered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="webinar"/> is <see langword="null"/>.</exception>
    public Task<WebinarRegistration?> FindAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        return _store.FindAsync(webinar, lead, cancellationToken);
    }

    /// <summary>Returns until when a registrant can watch the replay, if it is available now.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The replay deadline (exclusive), or <see langword="null"/> when not registered, before the session ended, or after the deadline.</returns>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    public async Task<Instant?> ReplayAvailableUntilAsync(string webinar, LeadId lead, CancellationToken cancellationToken = default)
    {
        Webinar definition = Find(webinar);
        WebinarRegistration? entry = await _store.FindAsync(webinar, lead, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }

        Instant now = _clock.GetCurrentInstant();
        Instant ends = entry.Session.EndsAt;
        Instant deadline = ends + definition.ReplayFor;
        return now >= ends && now < deadline ? deadline : null;
    }

    private static bool IsUnrecordedNoShow(WebinarRegistration entry, Instant now) =>
        !entry.Attended && !entry.NoShowRecorded && entry.Session.EndsAt <= now;

    private WebinarMissed Missed(WebinarRegistration entry, Instant now) => new()
    {
        LeadId = entry.Lead,
        OccurredAt = now,
        Webinar = entry.Session.Webinar,
        SessionStartedAt = entry.Session.StartsAt,
        ReplayEndsAt = entry.Session.EndsAt + _webinars[entry.Session.Webinar].ReplayFor,
    };

    private Webinar Find(string webinar)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        return _webinars.TryGetValue(webinar, out Webinar? found) ? found : throw new ArgumentException($"Unknown webinar '{webinar}'.", nameof(webinar));
    }
}

/// <summary>Ready-made segments for webinar follow-up: attended, did not attend, attended and did not buy.</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class WebinarSegments
{
    /// <summary>Attended the webinar.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <returns>The segment <c>webinar-attended</c>: <c>webinar_attended</c> for the webinar.</returns>
    /// <exception cref="ArgumentException"><paramref name="webinar"/> is blank.</exception>
    public static SegmentDefinition Attended(string webinar)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(webinar);
        return new("webinar-attended", Rule(EventTypes.WebinarAttended, webinar));
    }

    /// <summary>Registered for the webinar but did not attend: send them the replay.</summary>
    /// <remarks>A lead enters once <see cref="WebinarRegistrar.RecordNoShowsAsync"/> has emitted <c>webinar_missed</c> for them, so registrants whose session has not yet ended are not in it.</remarks>
    /// <param name="webinar">The webinar key.</param>
    /// <returns>The segment <c>webinar-missed</c>: <c>webinar_missed</c> and not <c>webinar_attended</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="webinar"/> is blank.</exception>
    public static SegmentDefinition DidNotAttend(string webinar)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(webinar);
        return new("webinar-missed", new AllRule([Rule(AdvocacyEventTypes.WebinarMissed, webinar), new NotRule(Rule(EventTypes.WebinarAttended, webinar))]));
    }

    /// <summary>Attended the webinar but placed no order (for the offer, when given): follow up with the offer.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="offer">The pitched offer, or <see langword="null"/> for any order.</param>
    /// <returns>The segment <c>webinar-attended-not-bought</c>: <c>webinar_attended</c> and not <c>order_placed</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="webinar"/> is blank.</exception>
    public static SegmentDefinition AttendedDidNotBuy(string webinar, OfferId? offer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(webinar);
        return new("webinar-attended-not-bought", new AllRule([Rule(EventTypes.WebinarAttended, webinar), new NotRule(Rule(EventTypes.OrderPlaced, offer?.Value))]));
    }

    private static EventRule Rule(string type, string? subject) => new() { EventType = type, Subject = subject };
}
