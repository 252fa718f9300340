using System.Data;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Internal;

/// <summary>One open connection with its prepared commands, used by one thread at a time.</summary>
/// <remarks>
/// Commands are cached by their SQL text, so a statement run again (a set is one statement run once per row inside
/// one transaction) is prepared once per connection. The writer's session runs inside the transaction the
/// <see cref="SqliteWriter"/> opened; a reader's session runs each statement in its own implicit transaction.
/// </remarks>
internal sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteSession(SqliteConnection connection) => Connection = connection;

    /// <summary>Gets the open connection.</summary>
    public SqliteConnection Connection { get; }

    /// <summary>Runs a statement (or several separated by semicolons) and returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<(string Name, object? Value)> args) => Prepare(sql, args).ExecuteNonQuery();

    /// <summary>Runs a query and returns the first column of the first row, or <see langword="null"/>.</summary>
    public object? Scalar(string sql, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        object? value = Prepare(sql, args).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>Runs a query and maps every row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        List<T> rows = [];
        using SqliteDataReader reader = Prepare(sql, args).ExecuteReader();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>Runs a query and maps its first row, or returns <see langword="default"/> when there is none.</summary>
    public T? QueryFirst<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        using SqliteDataReader reader = Prepare(sql, args).ExecuteReader(CommandBehavior.SingleRow);
        return reader.Read() ? map(reader) : default;
    }

    /// <summary>Returns the cached command for <paramref name="sql"/> with its parameters bound to <paramref name="args"/>.</summary>
    public SqliteCommand Prepare(string sql, ReadOnlySpan<(string Name, object? Value)> args)
    {
        if (!_commands.TryGetValue(sql, out SqliteCommand? command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        SqliteParameterCollection parameters = command.Parameters;
        if (parameters.Count != args.Length)
        {
            parameters.Clear();
        }

        foreach ((string name, object? value) in args)
        {
            object stored = SqliteValues.ToDb(value);
            int i = parameters.IndexOf(name);
            if (i < 0)
            {
                parameters.AddWithValue(name, stored);
            }
            else
            {
                parameters[i].Value = stored;
            }
        }

        return command;
    }

    public void Dispose()
    {
        foreach (SqliteCommand command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        Connection.Dispose();
    }
}

/// <summary>How values are stored: instants as Unix nanoseconds, ids as text, local dates as ISO text.</summary>
internal static class SqliteValues
{
    /// <summary>Converts a parameter value to what SQLite stores.</summary>
    public static object ToDb(object? value) => value switch
    {
        null => DBNull.Value,
        Instant instant => Nanoseconds(instant),
        Guid guid => guid.ToString("D"),
        LocalDate date => date.ToString("yyyy-MM-dd", null),
        Duration duration => duration.ToInt64Nanoseconds(),
        bool b => b ? 1L : 0L,
        Enum e => Convert.ToInt64(e, System.Globalization.CultureInfo.InvariantCulture),
        _ => value,
    };

    /// <summary>An instant as nanoseconds since the Unix epoch (1678 to 2262 fit).</summary>
    public static long Nanoseconds(Instant instant) => (instant - NodaConstants.UnixEpoch).ToInt64Nanoseconds();

    /// <summary>Reads an instant stored by <see cref="Nanoseconds"/>.</summary>
    public static Instant GetInstant(this SqliteDataReader reader, int ordinal) =>
        NodaConstants.UnixEpoch + Duration.FromNanoseconds(reader.GetInt64(ordinal));

    /// <summary>Reads an instant that may be null.</summary>
    public static Instant? GetNullableInstant(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInstant(ordinal);

    /// <summary>Reads text that may be null.</summary>
    public static string? GetNullableString(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Reads a local date stored as ISO text.</summary>
    public static LocalDate GetLocalDate(this SqliteDataReader reader, int ordinal) =>
        NodaTime.Text.LocalDatePattern.Iso.Parse(reader.GetString(ordinal)).Value;
}
