using System.Collections.Immutable;
using System.Globalization;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Funnel.Storage.Sqlite.Sequences;

/// <summary>The <see cref="IEnrolmentStore"/> on SQLite: tables <c>enrolments</c> and <c>send_days</c>.</summary>
/// <remarks>
/// <para>
/// An enrolment is a row with the columns its key, the re-entry check and the per-lead listing need (id, lead,
/// sequence, status, the policy it was added under, version) plus a versioned JSON document with the rest (instants
/// and template fields). <see cref="TryAddAsync"/> is one <c>INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO
/// NOTHING</c> in one write, so the re-entry check and the insert are atomic; the partial unique index
/// <c>enrolments_one_open</c> also forbids two not-ended enrolments of one lead and sequence among those added under
/// <see cref="ReEntryPolicy.Never"/> or <see cref="ReEntryPolicy.AfterEnded"/> (an update that would reopen a second
/// one throws, as that breaks the policy).
/// </para>
/// <para>
/// Every call that changes something is one write work item (one transaction, shared with other writes by group
/// commit); the batch members run their statement once per item inside that one work item.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
internal sealed class SqliteEnrolmentStore(SqliteDatabase database) : IEnrolmentStore
{
    private const string Columns = "id, lead_id, sequence, status, version, document";

    private const string InsertSql =
        "INSERT INTO enrolments (id, lead_id, sequence, status, re_entry, version, document) "
        + "SELECT $id, $lead, $sequence, $status, $reEntry, 0, $document "
        + "WHERE NOT EXISTS (SELECT 1 FROM enrolments WHERE $reEntry <> 2 AND lead_id = $lead AND sequence = $sequence "
        + "AND ($reEntry = 0 OR status IN (0, 3))) "
        + "ON CONFLICT DO NOTHING";

    private const string UpdateSql =
        "UPDATE enrolments SET sequence = $sequence, status = $status, version = version + 1, document = $document "
        + "WHERE id = $id AND version = $version";

    private const string ReserveSql =
        "INSERT INTO send_days (lead_id, day, key) VALUES ($lead, $day, $key) ON CONFLICT (lead_id, day) DO NOTHING";

    private const string HolderSql = "SELECT key FROM send_days WHERE lead_id = $lead AND day = $day";

    /// <inheritdoc/>
    public Task<bool> TryAddAsync(Enrolment enrolment, ReEntryPolicy reEntry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(enrolment);
        cancellationToken.ThrowIfCancellationRequested();
        string document = Document(enrolment);
        return database.WriteAsync(
            session => session.Execute(
                InsertSql,
                ("$id", enrolment.Id.Value),
                ("$lead", enrolment.LeadId.Value),
                ("$sequence", enrolment.Sequence),
                ("$status", enrolment.Status),
                ("$reEntry", reEntry),
                ("$document", document)) == 1,
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<Enrolment?> FindAsync(EnrolmentId id, CancellationToken cancellationToken = default) =>
        database.ReadAsync(
            session => session.QueryFirst("SELECT " + Columns + " FROM enrolments WHERE id = $id", Read, ("$id", id.Value)),
            cancellationToken);

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadAsync(LeadId lead, CancellationToken cancellationToken = default) =>
        database.ReadAsync(
            session => session.Query("SELECT " + Columns + " FROM enrolments WHERE lead_id = $lead ORDER BY seq", Read, ("$lead", lead.Value)).ToImmutableArray(),
            cancellationToken);

    /// <inheritdoc/>
    public Task<ImmutableArray<Enrolment>> ListForLeadsAsync(IEnumerable<LeadId> leads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leads);
        cancellationToken.ThrowIfCancellationRequested();
        List<LeadId> distinct = [.. leads.Distinct()];
        if (distinct.Count == 0)
        {
            return Task.FromResult(ImmutableArray<Enrolment>.Empty);
        }

        string json = IdList.Json(distinct);
        return database.ReadAsync(
            session =>
            {
                // One statement, so one snapshot of every lead; then lead by lead in the order given, each oldest first.
                List<Enrolment> rows = session.Query(
                    "SELECT " + Columns + " FROM enrolments WHERE lead_id IN (SELECT value FROM json_each($leads)) ORDER BY seq",
                    Read,
                    ("$leads", json));
                ILookup<LeadId, Enrolment> byLead = rows.ToLookup(static e => e.LeadId);
                ImmutableArray<Enrolment>.Builder found = ImmutableArray.CreateBuilder<Enrolment>(rows.Count);
                foreach (LeadId lead in distinct)
                {
                    found.AddRange(byLead[lead]);
                }

                return found.DrainToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> TryUpdateAsync(Enrolment current, Enrolment replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        cancellationToken.ThrowIfCancellationRequested();
        PendingUpdate update = new(current.Id, current.Version, replacement, Document(replacement));
        return database.WriteAsync(session => Apply(session, update), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<EnrolmentId>> TryUpdateManyAsync(IReadOnlyList<(Enrolment Current, Enrolment Replacement)> updates, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(updates, static u => u.Current.Id, nameof(updates));
        cancellationToken.ThrowIfCancellationRequested();
        if (updates.Count == 0)
        {
            return Task.FromResult(ImmutableArray<EnrolmentId>.Empty);
        }

        PendingUpdate[] batch = new PendingUpdate[updates.Count];
        for (int i = 0; i < batch.Length; i++)
        {
            (Enrolment current, Enrolment replacement) = updates[i];
            ArgumentNullException.ThrowIfNull(replacement, nameof(updates));
            batch[i] = new PendingUpdate(current.Id, current.Version, replacement, Document(replacement));
        }

        return database.WriteAsync(
            session =>
            {
                ImmutableArray<EnrolmentId>.Builder won = ImmutableArray.CreateBuilder<EnrolmentId>(batch.Length);
                foreach (PendingUpdate update in batch)
                {
                    if (Apply(session, update))
                    {
                        won.Add(update.Id);
                    }
                }

                return won.DrainToImmutable();
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> TryReserveDayAsync(LeadId lead, LocalDate day, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        return database.WriteAsync(session => Reserve(session, lead, day, key), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<string>> TryReserveDaysAsync(IReadOnlyList<(LeadId Lead, LocalDate Day, string Key)> reservations, CancellationToken cancellationToken = default)
    {
        StoreBatches.CheckDistinct(reservations, static r => r.Key, nameof(reservations));
        cancellationToken.ThrowIfCancellationRequested();
        if (reservations.Count == 0)
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        (LeadId Lead, LocalDate Day, string Key)[] batch = [.. reservations];
        return database.WriteAsync(
            session =>
            {
                ImmutableArray<string>.Builder won = ImmutableArray.CreateBuilder<string>(batch.Length);
                foreach ((LeadId lead, LocalDate day, string key) in batch)
                {
                    if (Reserve(session, lead, day, key))
                    {
                        won.Add(key);
                    }
                }

                return won.DrainToImmutable();
            },
            cancellationToken);
    }

    private static bool Reserve(SqliteSession session, LeadId lead, LocalDate day, string key)
    {
        if (session.Execute(ReserveSql, ("$lead", lead.Value), ("$day", day), ("$key", key)) == 1)
        {
            return true;
        }

        return string.Equals((string?)session.Scalar(HolderSql, ("$lead", lead.Value), ("$day", day)), key, StringComparison.Ordinal);
    }

    private static bool Apply(SqliteSession session, PendingUpdate update) => session.Execute(
        UpdateSql,
        ("$id", update.Id.Value),
        ("$version", update.Version),
        ("$sequence", update.Replacement.Sequence),
        ("$status", update.Replacement.Status),
        ("$document", update.Document)) == 1;

    private static string Document(Enrolment enrolment) => EnrolmentDocument.Write(enrolment);

    private static Enrolment Read(SqliteDataReader r) => EnrolmentDocument.Read(
        new EnrolmentId(Guid.Parse(r.GetString(0), CultureInfo.InvariantCulture)),
        new LeadId(Guid.Parse(r.GetString(1), CultureInfo.InvariantCulture)),
        r.GetString(2),
        (EnrolmentStatus)r.GetInt32(3),
        r.GetInt64(4),
        r.GetString(5));

    private readonly record struct PendingUpdate(EnrolmentId Id, long Version, Enrolment Replacement, string Document);
}
