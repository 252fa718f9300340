using System.Collections.Immutable;
using Funnel.Leads;
using Funnel.Privacy;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The <see cref="IPersonalDataStore"/> of the PostgreSQL schema: finds a lead's rows in every table of the Funnel schema.</summary>
/// <remarks>
/// <para>
/// The tables and their <c>text</c>, <c>varchar</c>, <c>json</c>, <c>jsonb</c> and <c>uuid</c> columns come from
/// <c>information_schema.columns</c> of the Funnel schema at each call, not from a list kept here, so a table a later
/// migration adds is searched too. A row belongs to the lead when one of those columns, as text, contains the lead id
/// or its email address.
/// </para>
/// <para>
/// Erasure runs in one transaction: the <c>leads</c> row is locked and gets the redacted profile
/// (<see cref="PersonalDataRedaction.RedactProfile"/>) and the tombstone address, then every matching row is locked
/// (<c>FOR UPDATE</c>) and each column goes through <see cref="PersonalDataScrubber"/>. Each call scans every table,
/// which suits the rare export or erasure request.
/// </para>
/// </remarks>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgPersonalDataStore(PgDatabase database) : IPersonalDataStore
{
    public string Name => "postgresql";

    public Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return database.ReadAsync<IReadOnlyList<PersonalRecord>>(
            async connection =>
            {
                List<PersonalRecord> records = [];
                foreach (Table table in await TablesAsync(connection, null, cancellationToken).ConfigureAwait(false))
                {
                    foreach (Row row in await RowsAsync(connection, null, table, subject, forUpdate: false, cancellationToken).ConfigureAwait(false))
                    {
                        records.Add(new PersonalRecord(Name, table.Name, row.Id, row.Fields));
                    }
                }

                return records;
            },
            cancellationToken);
    }

    public Task<ErasureOutcome> EraseAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return database.WriteAsync(
            async (connection, transaction) =>
            {
                int changed = 0;
                bool erasedBefore = false;
                string leads = database.Table("leads");
                LeadProfile? profile = null;
                await using (NpgsqlCommand find = PgDatabase.Command(connection, $"SELECT version, profile::text FROM {leads} WHERE id = $1 FOR UPDATE", transaction))
                {
                    find.Parameters.Add(new NpgsqlParameter { Value = subject.LeadId.Value });
                    await using NpgsqlDataReader reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        profile = LeadProfileDocument.Read(reader.GetString(1), reader.GetInt64(0));
                    }
                }

                if (profile is not null)
                {
                    erasedBefore = profile.ErasedAt is not null;
                    if (!erasedBefore)
                    {
                        LeadProfile erased = PersonalDataRedaction.RedactProfile(profile, subject);
                        await using NpgsqlCommand update = PgDatabase.Command(
                            connection,
                            $"UPDATE {leads} SET email = $1, profile = $2::jsonb, version = version + 1 WHERE id = $3",
                            transaction);
                        update.Parameters.Add(new NpgsqlParameter { Value = erased.Email.Value });
                        update.Parameters.Add(new NpgsqlParameter { Value = LeadProfileDocument.Write(erased) });
                        update.Parameters.Add(new NpgsqlParameter { Value = subject.LeadId.Value });
                        changed += await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                foreach (Table table in await TablesAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
                {
                    foreach (Row row in await RowsAsync(connection, transaction, table, subject, forUpdate: true, cancellationToken).ConfigureAwait(false))
                    {
                        changed += await ScrubAsync(connection, transaction, table, row, subject, cancellationToken).ConfigureAwait(false);
                    }
                }

                ErasureStatus status = changed > 0 ? ErasureStatus.Erased
                    : erasedBefore ? ErasureStatus.AlreadyErased
                    : ErasureStatus.NothingFound;
                return new ErasureOutcome(Name, status, changed);
            },
            cancellationToken);
    }

    private async Task<List<Table>> TablesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        const string Columns =
            "SELECT c.table_name, c.column_name, c.udt_name FROM information_schema.columns c "
            + "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            + "WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position";
        const string Keys =
            "SELECT tc.table_name, k.column_name FROM information_schema.table_constraints tc "
            + "JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name "
            + "WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' ORDER BY tc.table_name, k.ordinal_position";
        Dictionary<string, List<(string Name, string Type)>> columns = new(StringComparer.Ordinal);
        Dictionary<string, List<string>> keys = new(StringComparer.Ordinal);
        await using (NpgsqlCommand command = PgDatabase.Command(connection, Columns, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = database.Schema });
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string table = reader.GetString(0);
                if (!columns.TryGetValue(table, out List<(string, string)>? list))
                {
                    columns[table] = list = [];
                }

                list.Add((reader.GetString(1), reader.GetString(2)));
            }
        }

        await using (NpgsqlCommand command = PgDatabase.Command(connection, Keys, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = database.Schema });
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string table = reader.GetString(0);
                if (!keys.TryGetValue(table, out List<string>? list))
                {
                    keys[table] = list = [];
                }

                list.Add(reader.GetString(1));
            }
        }

        List<Table> tables = [];
        foreach ((string name, List<(string Name, string Type)> all) in columns)
        {
            (string Name, string Type)[] text = [.. all.Where(static c => IsText(c.Type))];
            if (text.Length > 0)
            {
                tables.Add(new Table(name, [.. all.Select(static c => c.Name)], text, keys.TryGetValue(name, out List<string>? key) ? [.. key] : ["ctid"]));
            }
        }

        return tables;
    }

    private static bool IsText(string udt) => udt is "text" or "varchar" or "bpchar" or "json" or "jsonb" or "uuid" or "citext";

    private async Task<List<Row>> RowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Table table, PersonalDataSubject subject, bool forUpdate, CancellationToken cancellationToken)
    {
        string needle = (subject.Email?.Value ?? subject.Tombstone.Value).ToLowerInvariant();
        string where = string.Join(" OR ", table.TextColumns.Select(static c =>
            $"strpos(lower({Quote(c.Name)}::text), $1) > 0 OR strpos(lower({Quote(c.Name)}::text), $2) > 0"));
        string keys = string.Join(", ", table.Key.Select(static k => $"{(k == "ctid" ? "ctid" : Quote(k))}::text"));
        string columns = string.Join(", ", table.Columns.Select(static c => $"{Quote(c)}::text"));
        string sql = $"SELECT {keys}, {columns} FROM {database.Table(Quote(table.Name))} WHERE {where}{(forUpdate ? " FOR UPDATE" : "")}";
        await using NpgsqlCommand command = PgDatabase.Command(connection, sql, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = subject.LeadId.ToString() });
        command.Parameters.Add(new NpgsqlParameter { Value = needle });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<Row> rows = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            string?[] key = new string?[table.Key.Length];
            for (int i = 0; i < key.Length; i++)
            {
                key[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
            }

            ImmutableSortedDictionary<string, string?>.Builder fields = ImmutableSortedDictionary.CreateBuilder<string, string?>(StringComparer.Ordinal);
            for (int i = 0; i < table.Columns.Length; i++)
            {
                int ordinal = table.Key.Length + i;
                fields[table.Columns[i]] = reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
            }

            rows.Add(new Row(string.Join("/", key), key, fields.ToImmutable()));
        }

        return rows;
    }

    private async Task<int> ScrubAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Table table, Row row, PersonalDataSubject subject, CancellationToken cancellationToken)
    {
        (string Name, string Type, string Value)[] changes = [.. table.TextColumns
            .Select(c => (c.Name, c.Type, Value: PersonalDataScrubber.Scrub(row.Fields[c.Name], subject)))
            .Where(static c => c.Value is not null)
            .Select(static c => (c.Name, c.Type, c.Value!))];
        if (changes.Length == 0)
        {
            return 0;
        }

        string assignments = string.Join(", ", changes.Select(static (c, i) => $"{Quote(c.Name)} = CAST(${i + 1} AS {c.Type})"));
        string where = string.Join(" AND ", table.Key.Select((k, i) => $"{(k == "ctid" ? "ctid" : Quote(k))}::text = ${changes.Length + i + 1}"));
        await using NpgsqlCommand command = PgDatabase.Command(
            connection, $"UPDATE {database.Table(Quote(table.Name))} SET {assignments} WHERE {where}", transaction);
        foreach ((string _, string _, string value) in changes)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        foreach (string? key in row.Key)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)key ?? DBNull.Value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed record Table(string Name, string[] Columns, (string Name, string Type)[] TextColumns, string[] Key);

    private sealed record Row(string Id, string?[] Key, ImmutableSortedDictionary<string, string?> Fields);
}
