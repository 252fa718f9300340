using System.Collections.Immutable;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Commerce;

/// <summary>One-statement commands of the commerce stores, with positional parameters (<c>$1</c>, <c>$2</c>, …).</summary>
internal static class CommerceCommands
{
    /// <summary>Runs one statement (autocommit) and returns whether it affected exactly one row.</summary>
    public static Task<bool> ExecuteAsync(this PgDatabase database, string sql, object?[] args, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = Create(connection, null, sql, args);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken);

    /// <summary>Runs one query (autocommit) and maps each row.</summary>
    public static Task<ImmutableArray<T>> QueryAsync<T>(
        this PgDatabase database, string sql, object?[] args, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => QueryAsync(connection, null, sql, args, map, cancellationToken), cancellationToken);

    /// <summary>Runs one query (autocommit) and maps its first row, or returns <see langword="null"/>.</summary>
    public static async Task<T?> QueryFirstAsync<T>(
        this PgDatabase database, string sql, object?[] args, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
        where T : class =>
        (await database.QueryAsync(sql, args, map, cancellationToken).ConfigureAwait(false)) is [T first, ..] ? first : null;

    /// <summary>Runs one query on an open connection (and transaction) and maps each row.</summary>
    public static async Task<ImmutableArray<T>> QueryAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, object?[] args, Func<NpgsqlDataReader, T> map,
        CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = Create(connection, transaction, sql, args);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        ImmutableArray<T>.Builder rows = ImmutableArray.CreateBuilder<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(map(reader));
        }

        return rows.ToImmutable();
    }

    /// <summary>Creates a command with positional parameters converted by <see cref="PgValues.ToDb"/>.</summary>
    public static NpgsqlCommand Create(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, object?[] args)
    {
        NpgsqlCommand command = PgDatabase.Command(connection, sql, transaction);
        foreach (object? arg in args)
        {
            command.With(arg);
        }

        return command;
    }

    /// <summary>Creates a batch command with positional parameters, for an <see cref="NpgsqlBatch"/>.</summary>
    public static NpgsqlBatchCommand BatchCommand(string sql, params object?[] args)
    {
        NpgsqlBatchCommand command = new(sql);
        foreach (object? arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = PgValues.ToDb(arg) });
        }

        return command;
    }
}
