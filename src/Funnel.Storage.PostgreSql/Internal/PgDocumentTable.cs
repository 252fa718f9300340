using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Funnel.Storage.PostgreSql.Internal;

/// <summary>
/// One table of JSON documents with the store convention: insert-if-absent, replace-if-version, keyed finds and
/// bounded lists, each one statement.
/// </summary>
/// <remarks>
/// <para>
/// The table has the <see cref="DocumentColumn{T}"/> columns, <c>document jsonb</c> (the record in
/// <see cref="FunnelJson"/>, without its <c>version</c> property and with <c>"v":1</c>, the format version) and, for a
/// versioned document, <c>version bigint</c>. An insert is <c>ON CONFLICT DO NOTHING</c>, so every unique constraint
/// of the table is checked in the same atomic statement; a replacement is an <c>UPDATE … WHERE version = @version</c>
/// that bumps the version. Readers ignore JSON properties they do not know. The document keeps instants to the
/// nanosecond; the derived <c>timestamptz</c> columns keep microseconds and serve queries only.
/// </para>
/// <para>
/// Queries passed to <see cref="QueryFirstAsync"/> and <see cref="ListAsync"/> select <c>document</c> and, for a
/// versioned table, <c>version</c>, in that order; their parameters are named (<c>@lead</c>).
/// </para>
/// </remarks>
/// <typeparam name="T">The stored document.</typeparam>
/// <threadsafety>All members are thread-safe; each is atomic.</threadsafety>
internal sealed class PgDocumentTable<T>
    where T : class
{
    /// <summary>The format version written as <c>"v"</c> into each document; raise it when a stored shape changes.</summary>
    public const int FormatVersion = 1;

    private const string VersionProperty = "version";

    private readonly PgDatabase _database;
    private readonly ImmutableArray<DocumentColumn<T>> _columns;
    private readonly DocumentVersioning<T>? _versioning;
    private readonly JsonSerializerOptions _json;
    private readonly string[] _keyParameters;
    private readonly string _findSql;
    private readonly string _insertSql;
    private readonly string? _updateSql;

    /// <summary>Initializes the table's statements.</summary>
    /// <param name="database">The database.</param>
    /// <param name="table">The table name, without the schema.</param>
    /// <param name="columns">The columns besides <c>document</c> and <c>version</c>; <see cref="FindAsync"/> takes the key values in their order.</param>
    /// <param name="versioning">How the document carries its version; <see langword="null"/> for a document that is never replaced.</param>
    /// <param name="json">The JSON options; <see langword="null"/> for <see cref="FunnelJson.Options"/>.</param>
    public PgDocumentTable(
        PgDatabase database,
        string table,
        ImmutableArray<DocumentColumn<T>> columns,
        DocumentVersioning<T>? versioning,
        JsonSerializerOptions? json = null)
    {
        _database = database;
        _columns = columns;
        _versioning = versioning;
        _json = json ?? FunnelJson.Options;
        Name = database.Table(table);
        _keyParameters = [.. columns.Where(static c => c.Role == DocumentColumnRole.PrimaryKey).Select(static c => c.Name)];
        string selected = versioning is null ? "document" : "document, version";
        _findSql = $"SELECT {selected} FROM {Name} WHERE {Match(DocumentColumnRole.PrimaryKey)}";
        string names = string.Join(", ", columns.Select(static c => c.Name));
        string values = string.Join(", ", columns.Select(static c => "@" + c.Name));
        _insertSql = versioning is null
            ? $"INSERT INTO {Name} ({names}, document) VALUES ({values}, @document) ON CONFLICT DO NOTHING"
            : $"INSERT INTO {Name} ({names}, version, document) VALUES ({values}, 0, @document) ON CONFLICT DO NOTHING";
        if (versioning is not null)
        {
            string derived = string.Concat(columns.Where(static c => c.Role == DocumentColumnRole.Derived).Select(static c => $"{c.Name} = @{c.Name}, "));
            _updateSql = $"UPDATE {Name} SET {derived}version = version + 1, document = @document " +
                $"WHERE {Match(DocumentColumnRole.PrimaryKey)} AND version = @version";
        }
    }

    /// <summary>Gets the table's qualified name, for queries.</summary>
    public string Name { get; }

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
    /// <param name="args">The query's named parameters (without <c>@</c>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<T?> QueryFirstAsync(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken)
    {
        ImmutableArray<T> found = await QueryAsync(sql, args, cancellationToken).ConfigureAwait(false);
        return found.IsEmpty ? null : found[0];
    }

    /// <summary>Returns the documents a query selects; the query limits itself with <c>LIMIT @max</c>.</summary>
    /// <param name="sql">The query, selecting <c>document</c> (and <c>version</c>) and ending with <c>LIMIT @max</c>.</param>
    /// <param name="args">The query's parameters besides <c>max</c>.</param>
    /// <param name="max">The most documents to return; positive.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public Task<ImmutableArray<T>> ListAsync(string sql, (string Name, object? Value)[] args, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return QueryAsync(sql, [.. args, ("max", max)], cancellationToken);
    }

    /// <summary>Adds a document with version 0 unless its key or another unique column is taken.</summary>
    /// <param name="document">The document.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when added.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="document"/> is <see langword="null"/>.</exception>
    public Task<bool> TryAddAsync(T document, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        (string Name, object? Value)[] args = [.. _columns.Select(c => (c.Name, c.ValueOf(document))), ("document", Serialize(document))];
        return ExecuteAsync(_insertSql, args, cancellationToken);
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
                args.Add((column.Name, value));
            }
        }

        args.Add(("version", versioning.Of(current)));
        args.Add(("document", Serialize(replacement)));
        return ExecuteAsync(sql, [.. args], cancellationToken);
    }

    /// <summary>Returns the document JSON as stored: <c>"v"</c> first, no <c>version</c>.</summary>
    public string Serialize(T document)
    {
        JsonObject json = JsonSerializer.SerializeToNode(document, _json)!.AsObject();
        json.Remove(VersionProperty);
        json.Insert(0, "v", FormatVersion);
        return json.ToJsonString(_json);
    }

    /// <summary>Reads a row selected as <c>document</c> (and <c>version</c>).</summary>
    public T Read(NpgsqlDataReader reader)
    {
        T document = JsonSerializer.Deserialize<T>(reader.GetString(0), _json)
            ?? throw new JsonException($"A stored {typeof(T).Name} document is null.");
        return _versioning is null ? document : _versioning.With(document, reader.GetInt64(1));
    }

    /// <summary>Creates a command with named parameters; a parameter called <c>document</c> is sent as <c>jsonb</c>.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, (string Name, object? Value)[] args, NpgsqlTransaction? transaction = null)
    {
        NpgsqlCommand command = new(sql, connection, transaction);
        foreach ((string name, object? value) in args)
        {
            NpgsqlParameter parameter = new(name, PgValues.ToDb(value));
            if (name == "document")
            {
                parameter.NpgsqlDbType = NpgsqlDbType.Jsonb;
            }

            command.Parameters.Add(parameter);
        }

        return command;
    }

    private Task<bool> ExecuteAsync(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = Command(connection, sql, args);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken);

    private Task<ImmutableArray<T>> QueryAsync(string sql, (string Name, object? Value)[] args, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = Command(connection, sql, args);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                ImmutableArray<T>.Builder documents = ImmutableArray.CreateBuilder<T>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    documents.Add(Read(reader));
                }

                return documents.ToImmutable();
            },
            cancellationToken);

    private string Match(DocumentColumnRole role) =>
        string.Join(" AND ", _columns.Where(c => c.Role == role).Select(static c => $"{c.Name} = @{c.Name}"));
}
