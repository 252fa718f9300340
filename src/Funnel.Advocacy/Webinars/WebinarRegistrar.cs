using System.Collections.Immutable;
using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Segments;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Webinars;

/// <summary>A lead's registration for a webinar session.</summary>
/// <param name="Lead">The registrant.</param>
/// <param name="Session">The session, with its start in the registrant's zone.</param>
/// <param name="RegisteredAt">When they registered.</param>
/// <param name="Attended">Whether they attended.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebinarRegistration(LeadId Lead, WebinarSession Session, Instant RegisteredAt, bool Attended);

/// <summary>The result of a registration: the registration and the events to record.</summary>
/// <param name="Registration">The registration.</param>
/// <param name="Events">The <c>webinar_registered</c> event (empty when the lead was already registered for an upcoming session).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebinarRegistrationResult(WebinarRegistration Registration, ImmutableArray<FunnelEvent> Events);

/// <summary>A registrant did not attend their webinar session; emitted once the session has ended.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
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
/// <see cref="RecordNoShows"/> emits <c>webinar_missed</c> once per ended, unattended registration. The replay is
/// available from the session's end until <see cref="Webinar.ReplayFor"/> after it. State is kept in memory.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe (one lock serialises changes).</threadsafety>
public sealed class WebinarRegistrar
{
    /// <summary>The property of <c>webinar_registered</c> that holds the session start, as an ISO-8601 instant.</summary>
    public const string SessionStartsAtProperty = "session_starts_at";

    private readonly object gate = new();
    private readonly ImmutableDictionary<string, Webinar> webinars;
    private readonly IClock clock;
    private readonly Dictionary<(string Webinar, LeadId Lead), Entry> registrations = [];

    /// <summary>Initializes the registrar.</summary>
    /// <param name="webinars">The webinars; each is validated.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">A webinar is invalid.</exception>
    /// <exception cref="ArgumentException">Two webinars share a key.</exception>
    public WebinarRegistrar(IEnumerable<Webinar> webinars, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(webinars);
        ArgumentNullException.ThrowIfNull(clock);
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

        this.webinars = builder.ToImmutable();
        this.clock = clock;
    }

    /// <summary>Registers a lead for the next session of a webinar in their time zone.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="zone">The lead's time zone.</param>
    /// <returns>The registration and its <c>webinar_registered</c> event, preceded by <c>webinar_missed</c> when it replaces an ended, unattended registration whose no-show <see cref="RecordNoShows"/> has not reported yet.</returns>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    /// <exception cref="InvalidOperationException">The webinar has no upcoming session.</exception>
    public WebinarRegistrationResult Register(string webinar, LeadId lead, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        Webinar definition = Find(webinar);
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            if (registrations.TryGetValue((webinar, lead), out Entry? existing) && existing.Registration.Session.EndsAt > now)
            {
                return new WebinarRegistrationResult(existing.Registration, []);
            }

            WebinarSession session = WebinarScheduler.NextSession(definition, now, zone)
                ?? throw new InvalidOperationException($"Webinar '{webinar}' has no upcoming session.");

            // The new registration replaces the ended one: report its no-show now, or it would be lost.
            ImmutableArray<FunnelEvent> missed = existing is not null && IsUnrecordedNoShow(existing, now) ? [Missed(webinar, lead, existing, now)] : [];
            var registration = new WebinarRegistration(lead, session, now, false);
            registrations[(webinar, lead)] = new Entry(registration);
            return new WebinarRegistrationResult(registration, [.. missed, new WebinarRegistered
            {
                LeadId = lead,
                OccurredAt = now,
                Webinar = webinar,
                StartsAt = session.StartsAt,
                Properties = ImmutableDictionary<string, string>.Empty.Add(SessionStartsAtProperty, InstantPattern.ExtendedIso.Format(session.StartsAt)),
            }]);
        }
    }

    /// <summary>Records that a registrant joined their session.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <returns>The <c>webinar_attended</c> event, or nothing when the lead is not registered, the session has ended, or attendance was already recorded.</returns>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    public ImmutableArray<FunnelEvent> RecordAttendance(string webinar, LeadId lead)
    {
        Find(webinar);
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            if (!registrations.TryGetValue((webinar, lead), out Entry? entry) || entry.Registration.Attended || now >= entry.Registration.Session.EndsAt)
            {
                return [];
            }

            entry.Registration = entry.Registration with { Attended = true };
            return [new WebinarAttended { LeadId = lead, OccurredAt = now, Webinar = webinar }];
        }
    }

    /// <summary>Emits <c>webinar_missed</c> for every registration whose session has ended without the lead attending, once each.</summary>
    /// <returns>The events.</returns>
    public ImmutableArray<FunnelEvent> RecordNoShows()
    {
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            var events = ImmutableArray.CreateBuilder<FunnelEvent>();
            foreach (var ((webinar, lead), entry) in registrations)
            {
                if (IsUnrecordedNoShow(entry, now))
                {
                    events.Add(Missed(webinar, lead, entry, now));
                }
            }

            return events.ToImmutable();
        }
    }

    /// <summary>Returns a lead's registration for a webinar.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <returns>The registration, or <see langword="null"/> when not registered.</returns>
    public WebinarRegistration? Find(string webinar, LeadId lead)
    {
        lock (gate)
        {
            return registrations.TryGetValue((webinar, lead), out Entry? entry) ? entry.Registration : null;
        }
    }

    /// <summary>Returns until when a registrant can watch the replay, if it is available now.</summary>
    /// <param name="webinar">The webinar key.</param>
    /// <param name="lead">The lead.</param>
    /// <returns>The replay deadline (exclusive), or <see langword="null"/> when not registered, before the session ended, or after the deadline.</returns>
    /// <exception cref="ArgumentException">The webinar is unknown.</exception>
    public Instant? ReplayAvailableUntil(string webinar, LeadId lead)
    {
        Webinar definition = Find(webinar);
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            if (!registrations.TryGetValue((webinar, lead), out Entry? entry))
            {
                return null;
            }

            Instant ends = entry.Registration.Session.EndsAt;
            Instant deadline = ends + definition.ReplayFor;
            return now >= ends && now < deadline ? deadline : null;
        }
    }

    private static bool IsUnrecordedNoShow(Entry entry, Instant now) =>
        !entry.Registration.Attended && !entry.MissedRecorded && entry.Registration.Session.EndsAt <= now;

    private WebinarMissed Missed(string webinar, LeadId lead, Entry entry, Instant now)
    {
        entry.MissedRecorded = true;
        return new WebinarMissed
        {
            LeadId = lead,
            OccurredAt = now,
            Webinar = webinar,
            SessionStartedAt = entry.Registration.Session.StartsAt,
            ReplayEndsAt = entry.Registration.Session.EndsAt + webinars[webinar].ReplayFor,
        };
    }

    private Webinar Find(string webinar)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        return webinars.TryGetValue(webinar, out Webinar? found) ? found : throw new ArgumentException($"Unknown webinar '{webinar}'.", nameof(webinar));
    }

    private sealed class Entry(WebinarRegistration registration)
    {
        public WebinarRegistration Registration { get; set; } = registration;

        public bool MissedRecorded { get; set; }
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
    /// <remarks>A lead enters once <see cref="WebinarRegistrar.RecordNoShows"/> has emitted <c>webinar_missed</c> for them, so registrants whose session has not yet ended are not in it.</remarks>
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
