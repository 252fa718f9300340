using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>The overview's date range: whole days, both ends included, in the business time zone.</summary>
/// <param name="From">The first day.</param>
/// <param name="To">The last day.</param>
internal readonly record struct OverviewRange(LocalDate From, LocalDate To)
{
    /// <summary>The length of the default range, ending today.</summary>
    public const int DefaultDays = 30;

    /// <summary>The longest range the overview accepts.</summary>
    public const int MaxDays = 366;

    /// <summary>Ranges longer than this are shown in weekly rather than daily periods.</summary>
    public const int MaxDailyDays = 92;

    private static readonly LocalDate Earliest = new(1900, 1, 1);
    private static readonly LocalDate Latest = new(2999, 12, 31);

    /// <summary>Gets the number of days in the range.</summary>
    public int Days => Period.DaysBetween(From, To) + 1;

    /// <summary>Gets the first instant of the range in the zone.</summary>
    public Instant Start(DateTimeZone zone) => From.AtStartOfDayInZone(zone).ToInstant();

    /// <summary>Gets the first instant after the range in the zone.</summary>
    public Instant End(DateTimeZone zone) => To.PlusDays(1).AtStartOfDayInZone(zone).ToInstant();

    /// <summary>Returns the range's text, such as "2026-11-02 to 2026-12-01".</summary>
    public override string ToString() => $"{Iso(From)} to {Iso(To)}";

    /// <summary>Formats a date as yyyy-MM-dd.</summary>
    public static string Iso(LocalDate date) => LocalDatePattern.Iso.Format(date);

    /// <summary>Reads the range from the query's <c>from</c> and <c>to</c>; a missing or empty value takes its default.</summary>
    /// <param name="from">The first day, yyyy-MM-dd; defaults to 29 days before <c>to</c>.</param>
    /// <param name="to">The last day, yyyy-MM-dd; defaults to <paramref name="today"/>.</param>
    /// <param name="today">Today in the business time zone.</param>
    /// <param name="range">The range, when the values are valid.</param>
    /// <returns><see langword="null"/> when the values are valid, or a message naming the field and its problem.</returns>
    public static string? TryParse(string? from, string? to, LocalDate today, out OverviewRange range)
    {
        range = default;
        if (Read("to", to, out LocalDate? last) is { } toError)
        {
            return toError;
        }

        if (Read("from", from, out LocalDate? first) is { } fromError)
        {
            return fromError;
        }

        LocalDate end = last ?? today;
        LocalDate start = first ?? end.PlusDays(-(DefaultDays - 1));
        if (start > end)
        {
            return $"The field \"from\" ({Iso(start)}) is after \"to\" ({Iso(end)}): choose a first day on or before the last day.";
        }

        int days = Period.DaysBetween(start, end) + 1;
        if (days > MaxDays)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"The range from \"from\" ({Iso(start)}) to \"to\" ({Iso(end)}) is {days} days long: choose at most {MaxDays} days.");
        }

        range = new OverviewRange(start, end);
        return null;
    }

    private static string? Read(string field, string? value, out LocalDate? date)
    {
        date = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        ParseResult<LocalDate> parsed = LocalDatePattern.Iso.Parse(value.Trim());
        if (!parsed.Success)
        {
            return $"The field \"{field}\" is not a date: \"{Shorten(value)}\". Use the form yyyy-mm-dd, for example 2026-12-01.";
        }

        if (parsed.Value < Earliest || parsed.Value > Latest)
        {
            return $"The field \"{field}\" ({Iso(parsed.Value)}) is out of range: choose a day between {Iso(Earliest)} and {Iso(Latest)}.";
        }

        date = parsed.Value;
        return null;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
