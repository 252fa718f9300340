using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Sequences;

/// <summary>Positional parameters (<c>$1</c>, <c>$2</c>, … in the order added) of the sequence stores' statements, each with an explicit type.</summary>
/// <remarks>
/// Explicit types keep an instant a <c>timestamptz</c> whatever its <see cref="DateTime.Kind"/> (a <c>timestamp</c> would be
/// converted with the session's time zone) and let an array be empty or hold nulls.
/// </remarks>
internal static class SequenceParameters
{
    /// <summary>Adds a parameter of a given type.</summary>
    public static NpgsqlCommand Add<T>(this NpgsqlCommand command, T value, NpgsqlDbType type)
    {
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value, NpgsqlDbType = type });
        return command;
    }

    /// <summary>Adds an instant as <c>timestamptz</c> (truncated to the microsecond).</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, Instant value) =>
        command.Add(PgValues.ToDateTime(value), NpgsqlDbType.TimestampTz);

    /// <summary>Adds an array of instants (as <see cref="DateTime"/>s, nullable or not) as <c>timestamptz[]</c>.</summary>
    public static NpgsqlCommand AddTimestamps<T>(this NpgsqlCommand command, T[] values) =>
        command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);

    /// <summary>Adds text.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, string value) => command.Add(value, NpgsqlDbType.Text);

    /// <summary>Adds an integer.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, int value) => command.Add(value, NpgsqlDbType.Integer);

    /// <summary>Adds a uuid.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, Guid value) => command.Add(value, NpgsqlDbType.Uuid);

    /// <summary>Adds a <c>text[]</c> (elements may be null).</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, string?[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Text);

    /// <summary>Adds a <c>uuid[]</c>.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, Guid[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Uuid);

    /// <summary>Adds an <c>int[]</c>.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, int[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Integer);

    /// <summary>Adds an <c>int[]</c> with nulls.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, int?[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Integer);

    /// <summary>Adds a <c>bigint[]</c>.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, long[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Bigint);

    /// <summary>Adds a <c>date[]</c>.</summary>
    public static NpgsqlCommand Add(this NpgsqlCommand command, DateOnly[] values) => command.Add(values, NpgsqlDbType.Array | NpgsqlDbType.Date);
}
