using System.Collections.Immutable;
using System.Globalization;
using Funnel.Leads;
using Funnel.Privacy;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="IPersonalDataStore"/> of the SQLite database: finds a lead's rows in every table the catalog lists.</summary>
/// <remarks>
/// <para>
/// The tables and their text columns come from <c>sqlite_master</c> and <c>pragma table_info</c> at each call, not
/// from a list kept here, so a table a later migration (or the application) adds is searched too. A row belongs to
/// the lead when one of its text columns contains the lead id (as stored, GUID "D") or its email address.
/// </para>
/// <para>
/// Erasure runs in one write transaction: the <c>leads</c> row first gets the redacted profile
/// (<see cref="PersonalDataRedaction.RedactProfile"/>) and the tombstone address, then every column of every matching
/// row goes through <see cref="PersonalDataScrubber"/>. Each call scans every table, which is fine for the rare
/// export or erasure request and is why it is not used on a hot path.
/// </para>
/// </remarks>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqlitePersonalDataStore(SqliteDatabase database) : IPersonalDataStore
{
    public string Name => "sqlite";

    public Task<IReadOnlyList<PersonalRecord>> ExportAsync(PersonalDataSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return database.ReadAsync<IReadOnlyList<PersonalRecord>>(
            s =>
            {
                List<PersonalRecord> records = [];
                foreach (Table table in Tables(s))
                {
                    foreach (Row row in Rows(s, table, subject))
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
            s =>
            {
                int changed = 0;
                bool erasedBefore = false;
                if (s.QueryFirst("SELECT version, profile FROM leads WHERE id = $id", Read, ("$id", subject.LeadId.Value)) is { } profile)
                {
                    erasedBefore = profile.ErasedAt is not null;
                    if (!erasedBefore)
                    {
                        LeadProfile erased = PersonalDataRedaction.RedactProfile(profile, subject);
                        changed += s.Execute(
                            "UPDATE leads SET email = $email, profile = $profile, version = version + 1 WHERE id = $id",
                            ("$email", erased.Email.Value),
                            ("$profile", LeadProfileDocument.Write(erased)),
                            ("$id", subject.LeadId.Value));
                    }
                }

                foreach (Table table in Tables(s))
                {
                    foreach (Row row in Rows(s, table, subject))
                    {
                        changed += Scrub(s, table, row, subject);
                    }
                }

                ErasureStatus status = changed > 0 ? ErasureStatus.Erased
                    : erasedBefore ? ErasureStatus.AlreadyErased
                    : ErasureStatus.NothingFound;
                return new ErasureOutcome(Name, status, changed);
            },
            cancellationToken);
    }

    private static LeadProfile Read(SqliteDataReader r) => LeadProfileDocument.Read(r.GetString(1), r.GetInt64(0));

    private static List<Table> Tables(SqliteSession s)
    {
        List<string> names = s.Query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            static r => r.GetString(0));
        List<Table> tables = [];
        foreach (string name in names)
        {
            List<(string Name, string Type, int Pk)> columns = s.Query(
                $"SELECT name, type, pk FROM pragma_table_info({Literal(name)})",
                static r => (r.GetString(0), r.GetString(1), r.GetInt32(2)));
            string[] text = [.. columns.Where(static c => IsText(c.Type)).Select(static c => c.Name)];
            string[] key = [.. columns.Where(static c => c.Pk > 0).OrderBy(static c => c.Pk).Select(static c => c.Name)];
            bool withoutRowId = s.Scalar($"SELECT 1 FROM sqlite_master WHERE name = {Literal(name)} AND sql LIKE '%WITHOUT ROWID%'") is not null;
            if (text.Length > 0)
            {
                tables.Add(new Table(name, [.. columns.Select(static c => c.Name)], text, key.Length > 0 && withoutRowId ? key : ["rowid"]));
            }
        }

        return tables;
    }

    private static bool IsText(string declared) =>
        declared.Length == 0
        || declared.Contains("TEXT", StringComparison.OrdinalIgnoreCase)
        || declared.Contains("CHAR", StringComparison.OrdinalIgnoreCase)
        || declared.Contains("CLOB", StringComparison.OrdinalIgnoreCase);

    private static List<Row> Rows(SqliteSession s, Table table, PersonalDataSubject subject)
    {
        List<(string Name, object? Value)> needles = [("$id", subject.LeadId.ToString())];
        if (subject.Email is { Value: { } email })
        {
            needles.Add(("$email", email.ToLowerInvariant()));
        }
        else if (subject.Tombstone.Value is { } tombstone)
        {
            needles.Add(("$email", tombstone.ToLowerInvariant()));
        }

        string where = string.Join(" OR ", table.TextColumns.SelectMany(c =>
            needles.Select(n => $"instr(lower(CAST({Quote(c)} AS TEXT)), {n.Name}) > 0")));
        string keys = string.Join(", ", table.Key.Select(static k => k == "rowid" ? "rowid" : Quote(k)));
        string columns = string.Join(", ", table.Columns.Select(Quote));
        string sql = $"SELECT {keys}, {columns} FROM {Quote(table.Name)} WHERE {where}";
        return s.Query(
            sql,
            r =>
            {
                object[] key = new object[table.Key.Length];
                for (int i = 0; i < key.Length; i++)
                {
                    key[i] = r.GetValue(i);
                }

                ImmutableSortedDictionary<string, string?>.Builder fields = ImmutableSortedDictionary.CreateBuilder<string, string?>(StringComparer.Ordinal);
                for (int i = 0; i < table.Columns.Length; i++)
                {
                    object value = r.GetValue(table.Key.Length + i);
                    fields[table.Columns[i]] = value is DBNull ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
                }

                string id = string.Join("/", key.Select(static k => Convert.ToString(k, CultureInfo.InvariantCulture)));
                return new Row(id, key, fields.ToImmutable());
            },
            [.. needles]);
    }

    private static int Scrub(SqliteSession s, Table table, Row row, PersonalDataSubject subject)
    {
        (string Column, string Value)[] changes = [.. table.TextColumns
            .Select(c => (Column: c, Value: PersonalDataScrubber.Scrub(row.Fields[c], subject)))
            .Where(static c => c.Value is not null)
            .Select(static c => (c.Column, c.Value!))];
        if (changes.Length == 0)
        {
            return 0;
        }

        string assignments = string.Join(", ", changes.Select((c, i) => $"{Quote(c.Column)} = $c{i}"));
        string where = string.Join(" AND ", table.Key.Select((k, i) => $"{(k == "rowid" ? "rowid" : Quote(k))} = $k{i}"));
        (string Name, object? Value)[] args =
        [
            .. changes.Select((c, i) => ($"$c{i}", (object?)c.Value)),
            .. row.Key.Select((k, i) => ($"$k{i}", (object?)k)),
        ];
        return s.Execute($"UPDATE {Quote(table.Name)} SET {assignments} WHERE {where}", args);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private sealed record Table(string Name, string[] Columns, string[] TextColumns, string[] Key);

    private sealed record Row(string Id, object[] Key, ImmutableSortedDictionary<string, string?> Fields);
}
