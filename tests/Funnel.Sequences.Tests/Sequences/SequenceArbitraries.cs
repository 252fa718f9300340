using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

/// <summary>Generators for send-time properties: any TZDB zone, instants from 1990 on, send times, days, quiet hours.</summary>
internal static class SequenceArbitraries
{
    private static readonly string[] ZoneIds = [.. DateTimeZoneProviders.Tzdb.Ids];

    public static Gen<DateTimeZone> Zone { get; } = Gen.Elements(ZoneIds).Select(id => DateTimeZoneProviders.Tzdb[id]);

    /// <summary>Instants from 1990 to about 2085, at any second (so they land in gaps and overlaps too).</summary>
    public static Gen<Instant> Instant { get; } =
        from seconds in Gen.Choose(0, int.MaxValue)
        from extra in Gen.Choose(0, 1)
        select NodaTime.Instant.FromUtc(1990, 1, 1, 0, 0) + Duration.FromSeconds(seconds + (extra * 900_000_000L));

    public static Gen<LocalTime> Time { get; } =
        from minutes in Gen.Choose(0, (24 * 60) - 1)
        select LocalTime.Midnight.PlusMinutes(minutes);

    public static Gen<ImmutableArray<IsoDayOfWeek>> Days { get; } =
        from mask in Gen.Choose(0, 127)
        select ImmutableArray.CreateRange(Enumerable.Range(1, 7).Where(d => (mask & (1 << (d - 1))) != 0).Select(d => (IsoDayOfWeek)d));

    public static Gen<QuietHours?> Quiet { get; } = Gen.OneOf(
        Gen.Constant<QuietHours?>(null),
        from start in Time
        from length in Gen.Choose(1, 12 * 60)
        select (QuietHours?)new QuietHours(start, start.PlusMinutes(length)));

    public static Gen<Period> Delay { get; } = Gen.OneOf(
        Gen.Choose(0, 30).Select(d => Period.FromDays(d)),
        Gen.Choose(0, 72 * 60).Select(m => Period.FromMinutes(m)));
}
