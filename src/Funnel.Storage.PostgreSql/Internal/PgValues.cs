using Npgsql;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Internal;

/// <summary>Conversions between Funnel's values and PostgreSQL parameters and columns.</summary>
/// <remarks>
/// Instants are <c>timestamptz</c>, written as UTC <see cref="DateTime"/>s: no NodaTime plugin is registered, because
/// a plugin changes the type mapping of the whole data source, which may be the app's own. PostgreSQL keeps
/// microseconds, so an instant is truncated to the microsecond when written; instants beyond what
/// <see cref="DateTime"/> can hold (before year 1, after 9999) are written as <c>-infinity</c> and <c>infinity</c>.
/// </remarks>
internal static class PgValues
{
    private static readonly Instant DateTimeMin = Instant.FromDateTimeUtc(DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc));
    private static readonly Instant DateTimeMax = Instant.FromDateTimeUtc(DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc));

    /// <summary>Converts a value for a parameter: instants to UTC <see cref="DateTime"/>, enums to their number, null to <see cref="DBNull"/>.</summary>
    public static object ToDb(object? value) => value switch
    {
        null => DBNull.Value,
        Instant instant => ToDateTime(instant),
        LocalDate date => date.ToDateOnly(),
        Duration duration => duration.ToTimeSpan(),
        Enum e => Convert.ToInt32(e, System.Globalization.CultureInfo.InvariantCulture),
        _ => value,
    };

    /// <summary>Returns an instant as a UTC <see cref="DateTime"/>, truncated to the microsecond; out-of-range instants become <c>-infinity</c>/<c>infinity</c>.</summary>
    public static DateTime ToDateTime(Instant instant)
    {
        if (instant <= DateTimeMin)
        {
            return DateTime.MinValue;
        }

        if (instant >= DateTimeMax)
        {
            return DateTime.MaxValue;
        }

        DateTime utc = instant.ToDateTimeUtc();
        return new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
    }

    /// <summary>Truncates an instant to what PostgreSQL stores (the microsecond).</summary>
    public static Instant Truncate(Instant instant) => FromDateTime(ToDateTime(instant));

    /// <summary>Converts a <c>timestamptz</c> read as <see cref="DateTime"/> to an instant (<c>±infinity</c> to <see cref="Instant.MinValue"/>/<see cref="Instant.MaxValue"/>).</summary>
    public static Instant FromDateTime(DateTime value) =>
        value == DateTime.MinValue ? Instant.MinValue
        : value == DateTime.MaxValue ? Instant.MaxValue
        : Instant.FromDateTimeUtc(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    /// <summary>Reads a <c>timestamptz</c> column as an instant.</summary>
    public static Instant GetInstant(this NpgsqlDataReader reader, int ordinal) => FromDateTime(reader.GetDateTime(ordinal));

    /// <summary>Reads a nullable <c>timestamptz</c> column.</summary>
    public static Instant? GetNullableInstant(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInstant(ordinal);

    /// <summary>Reads nullable text.</summary>
    public static string? GetNullableString(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Reads a <c>date</c> column as a local date.</summary>
    public static LocalDate GetLocalDate(this NpgsqlDataReader reader, int ordinal) =>
        LocalDate.FromDateOnly(reader.GetFieldValue<DateOnly>(ordinal));

    /// <summary>Adds a positional parameter (<c>$1</c>, <c>$2</c>, … in order) converted by <see cref="ToDb"/>.</summary>
    public static NpgsqlCommand With(this NpgsqlCommand command, object? value)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = ToDb(value) });
        return command;
    }

    /// <summary>Adds a typed positional parameter, such as an array for <c>unnest</c>.</summary>
    public static NpgsqlCommand With<T>(this NpgsqlCommand command, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return command;
    }
}
