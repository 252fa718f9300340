using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using NodaTime;

namespace Funnel.Webinars;

/// <summary>A webinar and its schedule: live sessions at fixed instants and/or evergreen sessions in each registrant's time zone.</summary>
/// <remarks>
/// <para>Evergreen sessions come in two kinds. <see cref="DailyTimes"/> are local times in the registrant's zone
/// ("tomorrow at 7 pm your time"): a time skipped by a daylight-saving change is moved forward by the length of
/// the gap, and an ambiguous time takes its earlier occurrence (NodaTime's lenient resolver). <see cref="Every"/>
/// starts a session at every multiple of an interval since the Unix epoch ("next session in 15 minutes").</para>
/// <para>The next session is the earliest of all these that starts at least <see cref="MinimumNotice"/> from now.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Webinar
{
    /// <summary>Gets the webinar key, such as <c>ebook-masterclass-live</c>; the subject of its events.</summary>
    public required string Key { get; init; }

    /// <summary>Gets how long a session lasts; positive.</summary>
    public required Duration Length { get; init; }

    /// <summary>Gets the live sessions' start instants.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<Instant> LiveSessions { get; init; } = [];

    /// <summary>Gets the evergreen daily start times in the registrant's time zone, such as 19:00.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<LocalTime> DailyTimes { get; init; } = [];

    /// <summary>Gets the interval of just-in-time evergreen sessions, such as 15 minutes, or <see langword="null"/> for none.</summary>
    public Duration? Every { get; init; }

    /// <summary>Gets how soon a session may start after registration; sooner sessions are skipped.</summary>
    /// <value>Defaults to zero.</value>
    public Duration MinimumNotice { get; init; } = Duration.Zero;

    /// <summary>Gets how long after a session ends its replay stays available.</summary>
    /// <value>Defaults to 48 hours.</value>
    public Duration ReplayFor { get; init; } = Duration.FromHours(48);
}

/// <summary>Validates a <see cref="Webinar"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class WebinarValidator : AbstractValidator<Webinar>
{
    /// <summary>Initializes the validator.</summary>
    public WebinarValidator()
    {
        RuleFor(w => w.Key).Must(Funnel.Key.IsValid).WithMessage("'Key' must be a valid key.");
        RuleFor(w => w.Length).Must(d => d > Duration.Zero).WithMessage("'Length' must be positive.");
        RuleFor(w => w.Every).Must(d => d is null || (d > Duration.Zero && d <= Duration.FromDays(1))).WithMessage("'Every' must be positive and at most one day.");
        RuleFor(w => w.MinimumNotice).Must(d => d >= Duration.Zero).WithMessage("'MinimumNotice' must not be negative.");
        RuleFor(w => w.ReplayFor).Must(d => d >= Duration.Zero).WithMessage("'ReplayFor' must not be negative.");
        RuleFor(w => w).Must(w => !w.LiveSessions.IsDefaultOrEmpty || !w.DailyTimes.IsDefaultOrEmpty || w.Every is not null)
            .WithName("Schedule").WithMessage("A webinar needs 'LiveSessions', 'DailyTimes' or 'Every'.");
        RuleFor(w => w.DailyTimes).Must(t => t.IsDefault || t.Distinct().Count() == t.Length).WithMessage("'DailyTimes' must not repeat a time.");
    }
}

/// <summary>Whether a session is live or evergreen.</summary>
public enum SessionKind
{
    /// <summary>A live session at a fixed instant.</summary>
    Live = 0,

    /// <summary>An evergreen (recorded, scheduled) session.</summary>
    Evergreen = 1,
}

/// <summary>One session of a webinar, as a registrant sees it.</summary>
/// <param name="Webinar">The webinar key.</param>
/// <param name="Kind">Live or evergreen.</param>
/// <param name="StartsAt">The start instant.</param>
/// <param name="EndsAt">The end instant.</param>
/// <param name="LocalStart">The start in the registrant's zone.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record WebinarSession(string Webinar, SessionKind Kind, Instant StartsAt, Instant EndsAt, ZonedDateTime LocalStart);

/// <summary>Finds the next session of a webinar for a registrant and describes it in their time.</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class WebinarScheduler
{
    /// <summary>Returns the next session that starts at least the webinar's minimum notice after <paramref name="now"/>.</summary>
    /// <param name="webinar">The webinar.</param>
    /// <param name="now">The current instant.</param>
    /// <param name="zone">The registrant's time zone.</param>
    /// <returns>The session, or <see langword="null"/> when there is none (only past live sessions).</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static WebinarSession? NextSession(Webinar webinar, Instant now, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(webinar);
        ArgumentNullException.ThrowIfNull(zone);
        Instant earliest = now + webinar.MinimumNotice;
        Instant? best = null;
        SessionKind kind = SessionKind.Live;

        foreach (Instant live in webinar.LiveSessions.IsDefault ? [] : webinar.LiveSessions)
        {
            if (live >= earliest && (best is null || live < best))
            {
                best = live;
                kind = SessionKind.Live;
            }
        }

        if (!webinar.DailyTimes.IsDefaultOrEmpty)
        {
            // The candidate on the local date of "earliest" may be before it; two more days always hold the next one.
            LocalDate date = earliest.InZone(zone).Date.PlusDays(-1);
            for (int day = 0; day < 4; day++, date = date.PlusDays(1))
            {
                foreach (LocalTime time in webinar.DailyTimes)
                {
                    Instant start = zone.AtLeniently(date + time).ToInstant();
                    if (start >= earliest && (best is null || start < best))
                    {
                        best = start;
                        kind = SessionKind.Evergreen;
                    }
                }
            }
        }

        if (webinar.Every is { } every)
        {
            long ticks = every.BclCompatibleTicks;
            long since = (earliest - NodaConstants.UnixEpoch).BclCompatibleTicks;
            long steps = since >= 0 ? (since + ticks - 1) / ticks : since / ticks;
            Instant start = NodaConstants.UnixEpoch + Duration.FromTicks(steps * ticks);
            if (best is null || start < best)
            {
                best = start;
                kind = SessionKind.Evergreen;
            }
        }

        return best is { } at ? new WebinarSession(webinar.Key, kind, at, at + webinar.Length, at.InZone(zone)) : null;
    }

    /// <summary>Describes when a session starts, in English, in the registrant's time: "in 15 minutes", "today at 7:00 PM", "tomorrow at 7:00 PM" or "on Friday, 27 November at 7:00 PM".</summary>
    /// <param name="session">The session.</param>
    /// <param name="now">The current instant.</param>
    /// <returns>The description; "now" once the session has started.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is <see langword="null"/>.</exception>
    public static string Describe(WebinarSession session, Instant now)
    {
        ArgumentNullException.ThrowIfNull(session);
        Duration until = session.StartsAt - now;
        if (until <= Duration.Zero)
        {
            return "now";
        }

        if (until < Duration.FromHours(1))
        {
            long minutes = (long)Math.Ceiling(until.TotalMinutes);
            return minutes == 1 ? "in 1 minute" : string.Create(CultureInfo.InvariantCulture, $"in {minutes} minutes");
        }

        LocalDate today = now.InZone(session.LocalStart.Zone).Date;
        LocalDate day = session.LocalStart.Date;
        string time = session.LocalStart.TimeOfDay.ToString("h:mm tt", CultureInfo.InvariantCulture);
        return Period.Between(today, day, PeriodUnits.Days).Days switch
        {
            0 => "today at " + time,
            1 => "tomorrow at " + time,
            _ => day.ToString("'on' dddd, d MMMM", CultureInfo.InvariantCulture) + " at " + time,
        };
    }
}
