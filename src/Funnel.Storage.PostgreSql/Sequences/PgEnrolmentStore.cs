using System.Collections.Immutable;
using Funnel.Sequences;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;
using NodaTime;

namespace Funnel.Storage.PostgreSql.Sequences;

/// <summary>The <see cref="IEnrolmentStore"/> on PostgreSQL: tables <c>enrolments</c> and <c>send_days</c>.</summary>
/// <remarks>
/// <para>
/// An enrolment is a row with the columns its key, the re-entry check and the per-lead listing need (id, lead,
/// sequence, status, the policy it was added under, version) plus a versioned JSON document with the rest (instants to
/// the nanosecond and template fields), the same document as the SQLite store's. <see cref="TryAddAsync"/> is one
/// <c>INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING</c>: the re-entry check and the insert are one
/// statement, and of racing adds the partial unique index <c>enrolments_one_open</c> (one not-ended enrolment per lead
/// and sequence among those added under <see cref="ReEntryPolicy.Never"/> or <see cref="ReEntryPolicy.AfterEnded"/>)
/// lets one through; an update that would reopen a second one throws, as that breaks the policy.
/// </para>
/// <para>
/// The batch members are one statement each: updates are a compare-and-set on <c>version</c> over <c>unnest</c>
/// arrays (each row wins or loses on its own; a constraint violation fails the whole batch), and the day reservations
/// of a batch are one round trip (an <c>INSERT … ON CONFLICT DO NOTHING</c> and a read of the holders, in one batch).
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe and safe to call from several processes on one database.</threadsafety>
internal sealed class PgEnrolmentStore(PgDatabase database) : IEnrolmentStore
{
    private const string Columns = "id, lead_id, sequence, status, version, document::text";

    private readonly string _insertSql =
        $"INSERT INTO {database.Table("enrolments")} (id, lead_id, sequence, status, re_entry, version, document) "
        + "SELECT $1, $2, $3, $4, $5, 0, $6::jsonb "
        + $"WHERE NOT EXISTS (SELECT 1 FROM {database.Table("enrolments")} WHERE $5 <> 2 AND lead_id = $2 AND sequence = $3 "
        + "AND ($5 = 0 OR status IN (0, 3))) "
        + "ON CONFLICT DO NOTHING";

    private readonly string _findSql = $"SELECT {Columns} FROM {database.Table("enrolments")} WHERE id = $1";

    // The leads are matched with `= ANY (ARRAY(SELECT unnest(…)))`: the planner cannot see the array's contents, so it looks
    // each one up in the index; `= ANY` of the parameter let it scan the whole table per batch, which grows with the table.
    private readonly string _listSql =
        $"SELECT {Columns} FROM {database.Table("enrolments")} WHERE lead_id = ANY (ARRAY(SELECT unnest($1::uuid[]))) ORDER BY seq";

    private readonly string _updateSql =
        $"UPDATE {database.Table("enrolments")} e SET sequence = u.sequence, status = u.status, version = e.version + 1, "
        + "document = u.document::jsonb "
        + "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::int[], $5::text[]) AS u(id, version, sequence, status, document) "
        + "WHERE e.id = u.id AND e.version = u.version RETURNING e.id";

    private readonly string _reserveSql =
        $"INSERT INTO {database.Table("send_days")} (lead_id, day, key) "
        + "SELECT lead_id, day, key FROM unnest($1::uuid[], $2::date[], $3::text[]) WITH ORDINALITY AS r(lead_id, day, key, n) "
        + "ORDER BY n ON CONFLICT (lead_id, day) DO NOTHING";

    // A statement of its own, so it sees the holders that racing batches committed while the insert waited for them.
    private readonly string _holdersSql =
        $"SELECT r.key FROM unnest($1::uuid[], $2::date[], $3::text[]) AS r(lead_id, day, key) "
        + $"JOIN {database.Table("send_days")} d ON d.lead_id = r.lead_id AND d.day = r.day AND d.key = r.key";

    /// <summary>Gets the statement that lists the enrolments of leads (<c>$1</c> the lead ids), for plan tests.</summary>
    internal string ListSql => _listSql;

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(enrolment);
        cancellationToken.ThrowIfCancellationRequested();
        string document = EnrolmentDocument.Write(enrolment);
        return database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _insertSql)
                    .Add(enrolment.Id.Value).Add(enrolment.LeadId.Value).Add(enrolment.Sequence).Add((int)enrolment.Status)
                    .Add((int)reEntry).Add(document);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default) =>
        database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _findSql).Add(id.Value);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
            },
            cancellationToken);

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        ListForLeadsAsync([lead], cancellationToken);

    /// <inheritdoc/>
    public async Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leads);
        cancellationToken.ThrowIfCancellationRequested();
        List<LeadId> distinct = [.. leads.Distinct()];
        if (distinct.Count == 0)
        {
            return [];
        }

        // One statement, so one snapshot of every lead; then lead by lead in the order given, each oldest first.
        List<Enrolment> rows = await database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _listSql).Add(distinct.ConvertAll(static l => l.Value).ToArray());
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                List<Enrolment> read = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    read.Add(Read(reader));
                }

                return read;
            },
            cancellationToken).ConfigureAwait(false);
        if (distinct.Count == 1)
        {
            return [.. rows];
        }

        ILookup<LeadId, Enrolment> byLead = rows.ToLookup(static e => e.LeadId);
        return [.. distinct.SelectMany(lead => byLead[lead])];
    }

    /// <inheritdoc/>
    public async Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        return !(await TryUpdateManyAsync([(current, replacement)], cancellationToken).ConfigureAwait(false)).IsEmpty;
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Id, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        if (updates.Count == 0)
        {
            return [];
        }

        int n = updates.Count;
        Guid[] ids = new Guid[n];
        long[] versions = new long[n];
        string[] sequences = new string[n];
        int[] statuses = new int[n];
        string[] documents = new string[n];
        for (int i = 0; i < n; i++)
        {
            (Enrolment current, Enrolment replacement) = updates[i];
            ArgumentNullException.ThrowIfNull(replacement, nameof(updates));
            ids[i] = current.Id.Value;
            versions[i] = current.Version;
            sequences[i] = replacement.Sequence;
            statuses[i] = (int)replacement.Status;
            documents[i] = EnrolmentDocument.Write(replacement);
        }

        HashSet<Guid> won = await database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, _updateSql)
                    .Add(ids).Add(versions).Add(sequences).Add(statuses).Add(documents);
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                HashSet<Guid> stored = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    stored.Add(reader.GetGuid(0));
                }

                return stored;
            },
            cancellationToken).ConfigureAwait(false);
        return [.. ids.Where(won.Contains).Select(static id => new EnrolmentId(id))];
    }

    /// <inheritdoc/>
    public async Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return !(await TryReserveDaysAsync([(lead, day, key)], cancellationToken).ConfigureAwait(false)).IsEmpty;
    }

    /// <inheritdoc/>
    public async Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(reservations, static r => r.Key, nameof(reservations));
        cancellationToken.ThrowIfCancellationRequested();
        if (reservations.Count == 0)
        {
            return [];
        }

        Guid[] leads = [.. reservations.Select(static r => r.Lead.Value)];
        DateOnly[] days = [.. reservations.Select(static r => r.Day.ToDateOnly())];
        string[] keys = [.. reservations.Select(static r => r.Key)];
        HashSet<string> held = await database.ReadAsync(
            async connection =>
            {
                // One round trip; read committed gives the second statement a snapshot taken after the first.
                await using NpgsqlBatch batch = new(connection);
                batch.BatchCommands.Add(Reservation(_reserveSql, leads, days, keys));
                batch.BatchCommands.Add(Reservation(_holdersSql, leads, days, keys));
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                // The insert returns no rows (the reader skips it): every row read is a holder.
                HashSet<string> holders = new(StringComparer.Ordinal);
                do
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        holders.Add(reader.GetString(0));
                    }
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

                return holders;
            },
            cancellationToken).ConfigureAwait(false);
        return [.. keys.Where(held.Contains)];
    }

    private static NpgsqlBatchCommand Reservation(string sql, Guid[] leads, DateOnly[] days, string[] keys)
    {
        NpgsqlBatchCommand command = new(sql);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = leads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<DateOnly[]> { TypedValue = days, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return command;
    }

    private static Enrolment Read(NpgsqlDataReader r) => EnrolmentDocument.Read(
        new EnrolmentId(r.GetGuid(0)), new LeadId(r.GetGuid(1)), r.GetString(2), (EnrolmentStatus)r.GetInt16(3), r.GetInt64(4), r.GetString(5));
}
