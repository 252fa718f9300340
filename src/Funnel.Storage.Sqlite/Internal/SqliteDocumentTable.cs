using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Internal;

/// <summary>
/// One table of JSON documents with the store convention: insert-if-absent, replace-if-version, keyed finds and
/// bounded lists, each one statement in one write or read.
/// </summary>
/// <remarks>
/// <para>
/// The table has the <see cref="DocumentColumn{T}"/> columns, <c>document</c> (the record in <see cref="FunnelJson"/>,
/// without its <c>version</c> property and with <c>"v":1</c>, the format version, first) and, for a versioned
/// document, <c>version</c>. An insert is <c>ON CONFLICT DO NOTHING</c>, so every unique constraint of the table
/// (the key, a code, a lead) is checked in the same atomic step; a replacement is an <c>UPDATE … WHERE version =
/// $version</c> that bumps the version. Readers ignore JSON properties they do not know.
/// </para>
/// <para>
/// Queries passed to <see cref="QueryFirstAsync"/> and <see cref="ListAsync"/> select <c>document</c> and, for a
/// versioned table, <c>version</c>, in that order.
/// </para>
/// </remarks>
/// <typeparam name="T">The stored document.</typeparam>
/// <threadsafety>All members are thread-safe; each is atomic.</threadsafety>
internal sealed class SqliteDocumentTable<T>
    where T : class
{
    /// <summary>The format version written as <c>"v"</c> into each document; raise it when a stored shape changes.</summary>
    public const int FormatVersion = 1;

    private const string VersionProperty = "version";

    private readonly SqliteDatabase _database;
    private readonly ImmutableArray<DocumentColumn<T>> _columns;
    private readonly DocumentVersioning<T>? _versioning;
    private readonly JsonSerializerOptions _json;
    private readonly string[] _keyParameters;
    private readonly string _findSql;
    private readonly string _insertSql;
    private readonly string? _updateSql;

    /// <summary>Initializes the table's statements.</summary>
    /// <param name="database">The database.</param>
    /// <param name="table">The table name.</param>
    /// <param name="columns">The columns besides <c>document</c> and <c>version</c>; <see cref="FindAsync"/> takes the key values in their order.</param>
    /// <param name="versioning">How the document carries its version; <see langword="null"/> for a document that is never replaced.</param>
    /// <param name="json">The JSON options; <see langword="null"/> for <see cref="FunnelJson.Options"/>.</param>
    public SqliteDocumentTable(
        SqliteDatabase database,
        string table,
        ImmutableArray<DocumentColumn<T>> columns,
        DocumentVersioning<T>? versioning,
        JsonSerializerOptions? json = null)
    {
        _database = database;
        _columns = columns;
        _versioning = versioning;
        _json = json ?? FunnelJson.Options;
        _keyParameters = [.. columns.Where(static c => c.Role == DocumentColumnRole.PrimaryKey).Select(static c => "$" + c.Name)];
        string selected = versioning is null ? "document" : "document, version";
        _findSql = $"SELECT {selected} FROM {table} WHERE {Match(DocumentColumnRole.PrimaryKey)}";
        string names = string.Join(", ", columns.Select(static c => c.Name));
        string values = string.Join(", ", columns.Select(static c => "$" + c.Name));
        _insertSql = versioning is null
            ? $"INSERT INTO {table} ({names}, document) VALUES ({values}, $document) ON CONFLICT DO NOTHING"
            : $"INSERT INTO {table} ({names}, version, document) VALUES ({values}, 0, $document) ON CONFLICT DO NOTHING";
        if (versioning is not null)
        {
            string derived = string.Concat(columns.Where(static c => c.Role == DocumentColumnRole.Derived).Select(static c => $"{c.Name} = ${c.Name}, "));
            _updateSql = $"UPDATE {table} SET {derived}version = version + 1, document = $document " +
                $"WHERE {Match(DocumentColumnRole.PrimaryKey)} AND version = $version";
        }
    }

    /// <summary>Returns the document with a key, or <see langword="null"/>.</summary>
    /// <param name="key">The key columns' values, in the order of the columns.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public Task<T?> FindAsync(object?[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        (string Name, object? Value)[] args = [.. _keyParameters.Zip(key)];
        return QueryFirstAsync(_findSql, args, cancellationToken);
    }

    /// <summary>Returns the first document a query selects, or <see langword="null"/>.</summary>
    /// <param name="sql">The query, selecting <c>document</c> (and <c>version</c>).</param>
    /// <param name="args">The query's parameters.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public Task<T?> QueryFirstAsync(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken) =>
        _database.ReadAsync(session => session.QueryFirst(sql, Read, args), cancellationToken);

    /// <summary>Returns the documents a query selects; the query limits itself with <c>LIMIT $max</c>.</summary>
    /// <param name="sql">The query, selecting <c>document</c> (and <c>version</c>) and ending with <c>LIMIT $max</c>.</param>
    /// <param name="args">The query's parameters besides <c>$max</c>.</param>
    /// <param name="max">The most documents to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<T>> ListAsync(string sql, (string Name, object? Value)[] args, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        (string Name, object? Value)[] all = [.. args, ("$max", max)];
        return _database.ReadAsync(session => session.Query(sql, Read, all).ToImmutableArray(), cancellationToken);
    }

    /// <summary>Adds a document with version 0 unless its key or another unique column is taken.</summary>
    /// <param name="document">The document.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="document"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(T document, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        (string Name, object? Value)[] args = [.. _columns.Select(c => ("$" + c.Name, c.ValueOf(document))), ("$document", Serialize(document))];
        return _database.WriteAsync(session => session.Execute(_insertSql, args) == 1, cancellationToken);
    }

    /// <summary>Replaces a document when its stored version is still <paramref name="current"/>'s, bumping the version.</summary>
    /// <param name="current">The document as read.</param>
    /// <param name="replacement">The new document, with the same key and kept columns.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when replaced; <see langword="false"/> when it is missing or changed since read.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The replacement changes a key or kept column.</exception>
    public Task<bool> TryUpdateAsync(T current, T replacement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (_versioning is not { } versioning || _updateSql is not { } sql)
        {
            throw new InvalidOperationException("The documents of this table are never replaced.");
        }

        List<(string Name, object? Value)> args = new(_columns.Length + 2);
        foreach (DocumentColumn<T> column in _columns)
        {
            object? value = column.ValueOf(replacement);
            if (column.Role != DocumentColumnRole.Derived && !Equals(column.ValueOf(current), value))
            {
                throw new ArgumentException($"The replacement must keep the {column.Name} of the current document.", nameof(replacement));
            }

            if (column.Role != DocumentColumnRole.Kept)
            {
                args.Add(("$" + column.Name, value));
            }
        }

        args.Add(("$version", versioning.Of(current)));
        args.Add(("$document", Serialize(replacement)));
        (string Name, object? Value)[] bound = [.. args];
        return _database.WriteAsync(session => session.Execute(sql, bound) == 1, cancellationToken);
    }

    /// <summary>Returns the document JSON as stored: <c>"v"</c> first, no <c>version</c>.</summary>
    private string Serialize(T document)
    {
        JsonObject json = JsonSerializer.SerializeToNode(document, _json)!.AsObject();
        json.Remove(VersionProperty);
        json.Insert(0, "v", FormatVersion);
        return json.ToJsonString(_json);
    }

    /// <summary>Reads a row selected as <c>document</c> (and <c>version</c>).</summary>
    private T Read(SqliteDataReader reader)
    {
        T document = JsonSerializer.Deserialize<T>(reader.GetString(0), _json)
            ?? throw new JsonException($"A stored {typeof(T).Name} document is null.");
        return _versioning is null ? document : _versioning.With(document, reader.GetInt64(1));
    }

    private string Match(DocumentColumnRole role) =>
        string.Join(" AND ", _columns.Where(c => c.Role == role).Select(static c => $"{c.Name} = ${c.Name}"));
}

/// <summary>Instants as query bounds.</summary>
internal static class InstantBound
{
    private static readonly Duration Earliest = Duration.FromNanoseconds(long.MinValue);
    private static readonly Duration Latest = Duration.FromNanoseconds(long.MaxValue);

    /// <summary>Returns an instant as stored nanoseconds, clamped to what can be stored (1678 to 2262).</summary>
    /// <remarks>
    /// Every stored instant lies in that range, so a clamped bound compares with each of them as the instant would:
    /// <c>Instant.MinValue</c> as "since" lists everything instead of overflowing.
    /// </remarks>
    public static long Of(Instant instant)
    {
        Duration sinceEpoch = instant - NodaConstants.UnixEpoch;
        return sinceEpoch <= Earliest ? long.MinValue : sinceEpoch >= Latest ? long.MaxValue : sinceEpoch.ToInt64Nanoseconds();
    }
}

/// <summary>Sets of ids as one query parameter.</summary>
internal static class IdList
{
    /// <summary>Returns lead ids as a JSON array of their stored text (<c>"D"</c> format), for <c>IN (SELECT value FROM json_each($ids))</c>: one parameter, so the SQL text is the same whatever the set's size.</summary>
    public static string Json(IEnumerable<LeadId> leads) =>
        JsonSerializer.Serialize(leads.Select(static l => l.Value.ToString("D", CultureInfo.InvariantCulture)));
}
