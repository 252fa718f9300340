using System.Collections.Immutable;
using NodaTime;
using NodaTime.TimeZones;

namespace Funnel.Sequences;

/// <summary>Computes the exact send instant of a step in a lead's time zone, across daylight-saving changes.</summary>
/// <remarks>
/// <para>The policy, applied from the earliest allowed instant forward:</para>
/// <list type="number">
/// <item>With a send time, the first local date-time at that time not before the earliest instant's local time.</item>
/// <item>
/// A local time that does not exist (a spring-forward gap) is shifted forward by the length of the gap (02:30 in a
/// one-hour gap becomes 03:30); a local time that exists twice (a fall-back overlap) is the earlier instant, unless
/// that is before the earliest instant, then the later one.
/// </item>
/// <item>A send on a day that is not allowed rolls forward to the next allowed day (at the send time, or midnight).</item>
/// <item>A send inside quiet hours moves to the end of the quiet hours (at the send time, when one is set, on or after it).</item>
/// </list>
/// <para>The result is never earlier than the earliest instant.</para>
/// <para>
/// Calendar-day steps (<see cref="StepTiming.OnDay"/>) first map their day and time with
/// <see cref="CalendarDayResolver"/>, then apply the same days and quiet hours.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public static class SendTimes
{
    /// <summary>Gets the resolver that maps the local day and time of a calendar-day step to an instant.</summary>
    /// <remarks>
    /// A local time in a spring-forward gap resolves to the first instant after the gap
    /// (<see cref="Resolvers.ReturnStartOfIntervalAfter"/>: 09:00 in a gap from 08:30 to 09:30 is 09:30); a local
    /// time that occurs twice in a fall-back overlap resolves to the earlier instant (<see cref="Resolvers.ReturnEarlier"/>).
    /// </remarks>
    public static ZoneLocalMappingResolver CalendarDayResolver { get; } =
        Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnStartOfIntervalAfter);

    /// <summary>Gets the earliest instant <see cref="Next"/> accepts: 0001-01-01T00:00Z.</summary>
    public static Instant MinEarliest { get; } = Instant.FromUtc(1, 1, 1, 0, 0);

    /// <summary>Gets the latest instant <see cref="Next"/> accepts: 9998-01-01T00:00Z, which leaves room for the days it may roll forward.</summary>
    public static Instant MaxEarliest { get; } = Instant.FromUtc(9998, 1, 1, 0, 0);

    /// <summary>Returns the first instant at or after <paramref name="earliest"/> that the send rules allow.</summary>
    /// <param name="earliest">The earliest allowed instant (the event that caused the send plus its delay).</param>
    /// <param name="zone">The lead's time zone.</param>
    /// <param name="sendAt">The local time of day to send at, or <see langword="null"/>.</param>
    /// <param name="days">The allowed local days; empty for every day.</param>
    /// <param name="quietHours">The quiet hours, or <see langword="null"/>.</param>
    /// <returns>The send instant, never before <paramref name="earliest"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="zone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="earliest"/> is outside <see cref="MinEarliest"/> to <see cref="MaxEarliest"/>, or
    /// <paramref name="days"/> holds a value that is not Monday to Sunday.
    /// </exception>
    /// <exception cref="ArgumentException">The rules allow no instant: <paramref name="sendAt"/> is inside <paramref name="quietHours"/>.</exception>
    /// <exception cref="InvalidOperationException">The rules allow no instant within 64 candidate days and quiet-hour ends.</exception>
    public static Instant Next(Instant earliest, DateTimeZone zone, LocalTime? sendAt = null, ImmutableArray<IsoDayOfWeek> days = default, QuietHours? quietHours = null)
    {
        ArgumentNullException.ThrowIfNull(zone);
        CheckEarliest(earliest, nameof(earliest));
        if (!days.IsDefault && days.Any(d => d is < IsoDayOfWeek.Monday or > IsoDayOfWeek.Sunday))
        {
            throw new ArgumentOutOfRangeException(nameof(days), string.Join(",", days), "Every day must be Monday to Sunday.");
        }

        if (sendAt is { } at && quietHours is not null && quietHours.Contains(at))
        {
            throw new ArgumentException($"The send time {at:HH:mm} is inside the quiet hours.", nameof(sendAt));
        }

        bool anyDay = days.IsDefaultOrEmpty;
        LocalDateTime from = earliest.InZone(zone).LocalDateTime;
        for (int i = 0; i < 64; i++)
        {
            LocalDateTime candidate = from;
            if (sendAt is { } time)
            {
                candidate = from.Date + time;
                if (candidate < from)
                {
                    candidate = from.Date.PlusDays(1) + time;
                }
            }

            Instant? resolved = Resolve(candidate, zone, earliest);
            if (resolved is not { } instant)
            {
                from = candidate.Date.PlusDays(1).AtMidnight();
                continue;
            }

            LocalDateTime local = instant.InZone(zone).LocalDateTime;
            if (!anyDay && !days.Contains(local.DayOfWeek))
            {
                from = local.Date.PlusDays(1).AtMidnight();
                continue;
            }

            if (quietHours is not null && quietHours.Contains(local.TimeOfDay))
            {
                LocalDate endDate = quietHours.Start <= quietHours.End || local.TimeOfDay < quietHours.End ? local.Date : local.Date.PlusDays(1);
                from = endDate + quietHours.End;
                continue;
            }

            return instant;
        }

        throw new InvalidOperationException("No send instant found within 64 attempts; the rules allow none.");
    }

    /// <summary>Returns the send instant of a calendar-day step: <paramref name="at"/> on <paramref name="date"/>, or the next allowed instant.</summary>
    /// <remarks>
    /// The local date-time is mapped with <see cref="CalendarDayResolver"/>. When that instant is before
    /// <paramref name="notBefore"/> the step goes out at the first <paramref name="at"/> after it; a day that is not
    /// allowed rolls forward to the next allowed day at <paramref name="at"/>, and quiet hours move it to their end.
    /// </remarks>
    internal static Instant OnDay(LocalDate date, LocalTime at, DateTimeZone zone, Instant notBefore, ImmutableArray<IsoDayOfWeek> days, QuietHours? quietHours)
    {
        Instant target = zone.ResolveLocal(date + at, CalendarDayResolver).ToInstant();
        if (target < notBefore)
        {
            return Next(notBefore, zone, at, days, quietHours);
        }

        LocalDateTime local = target.InZone(zone).LocalDateTime;
        if (!days.IsDefaultOrEmpty && !days.Contains(local.DayOfWeek))
        {
            return Next(target, zone, at, days, quietHours);
        }

        // The send time itself is never quiet (the validator sees to it), but the end of a gap can be: then the end of
        // the quiet hours, as for any other send.
        return quietHours is not null && quietHours.Contains(local.TimeOfDay) ? Next(target, zone, null, days, quietHours) : target;
    }

    /// <summary>Rejects an instant so near the ends of time that the local arithmetic would overflow inside NodaTime.</summary>
    internal static void CheckEarliest(Instant earliest, string paramName)
    {
        if (earliest < MinEarliest || earliest > MaxEarliest)
        {
            throw new ArgumentOutOfRangeException(paramName, earliest, $"The instant must be between {MinEarliest} and {MaxEarliest}.");
        }
    }

    /// <summary>Maps a local date-time to an instant by the gap/overlap policy; <see langword="null"/> when every mapping is before <paramref name="earliest"/>.</summary>
    private static Instant? Resolve(LocalDateTime local, DateTimeZone zone, Instant earliest)
    {
        ZoneLocalMapping mapping = zone.MapLocal(local);
        switch (mapping.Count)
        {
            case 0:
                // The gap: shift forward by its length (NodaTime's lenient resolver does exactly this).
                Instant shifted = zone.AtLeniently(local).ToInstant();
                return shifted < earliest ? earliest : shifted;
            case 1:
                Instant only = mapping.Single().ToInstant();
                return only < earliest ? null : only;
            default:
                Instant first = mapping.First().ToInstant();
                if (first >= earliest)
                {
                    return first;
                }

                Instant last = mapping.Last().ToInstant();
                return last < earliest ? null : last;
        }
    }
}
