using System.Collections.Immutable;
using Funnel.Leads;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite.Core;

/// <summary>The <see cref="ILeadStore"/> in table <c>leads</c>: a row per normalised email, profile as JSON.</summary>
/// <remarks>
/// Insert-if-absent is one <c>INSERT … ON CONFLICT DO NOTHING</c> in one write; only when it inserts nothing does the
/// same write look at why (email taken: <see langword="false"/>; id taken by another email: throw). Replace-if-version
/// is <c>UPDATE … WHERE id AND email AND version</c>. Reads run on the pooled readers and see committed rows.
/// </remarks>
/// <threadsafety>Safe to call from many threads at once.</threadsafety>
internal sealed class SqliteLeadStore(SqliteDatabase database) : ILeadStore
{
    private const string Insert =
        "INSERT INTO leads (id, email, version, profile) VALUES ($id, $email, 0, $profile) ON CONFLICT DO NOTHING";

    private const string Update =
        "UPDATE leads SET version = version + 1, profile = $profile "
        + "WHERE id = $id AND email = $email AND version = $version";

    public Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default) =>
        database.ReadAsync(
            s => s.QueryFirst("SELECT version, profile FROM leads WHERE id = $id", Map, ("$id", id.Value)),
            cancellationToken);

    public Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default)
    {
        if (email.Value is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult<LeadProfile?>(null);
        }

        return database.ReadAsync(
            s => s.QueryFirst("SELECT version, profile FROM leads WHERE email = $email", Map, ("$email", email.Value)),
            cancellationToken);
    }

    public async Task<ImmutableArray<LeadProfile>> FindManyAsync(
        IEnumerable<LeadId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        LeadId[] distinct = [.. ids.Distinct()];
        if (distinct.Length == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        // One query for the whole set: the ids go in as one JSON array parameter, so the SQL text is constant.
        string list = IdList.Json(distinct);
        List<LeadProfile> rows = await database.ReadAsync(
            s => s.Query(
                "SELECT version, profile FROM leads WHERE id IN (SELECT value FROM json_each($ids))",
                Map,
                ("$ids", list)),
            cancellationToken).ConfigureAwait(false);
        Dictionary<LeadId, LeadProfile> byId = rows.ToDictionary(static p => p.Id);
        ImmutableArray<LeadProfile>.Builder found = ImmutableArray.CreateBuilder<LeadProfile>(rows.Count);
        foreach (LeadId id in distinct)
        {
            if (byId.TryGetValue(id, out LeadProfile? profile))
            {
                found.Add(profile);
            }
        }

        return found.MoveToImmutable();
    }

    public Task<bool> TryAddAsync(LeadProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.Email.Value is null)
        {
            throw new ArgumentException("The email address is required.", nameof(profile));
        }

        string json = LeadProfileDocument.Write(profile);
        Guid id = profile.Id.Value;
        string email = profile.Email.Value;
        return database.WriteAsync(
            s =>
            {
                if (s.Execute(Insert, ("$id", id), ("$email", email), ("$profile", json)) == 1)
                {
                    return true;
                }

                if (s.Scalar("SELECT 1 FROM leads WHERE email = $email", ("$email", email)) is not null)
                {
                    return false;
                }

                object? holder = s.Scalar("SELECT email FROM leads WHERE id = $id", ("$id", id));
                throw new InvalidOperationException($"Lead {profile.Id} already has the email '{holder}'.");
            },
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(
        LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (replacement.Id != current.Id || replacement.Email != current.Email)
        {
            throw new ArgumentException(
                $"The replacement of lead {current.Id} must keep its id and email address.", nameof(replacement));
        }

        if (current.Email.Value is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(false);
        }

        string json = LeadProfileDocument.Write(replacement);
        Guid id = current.Id.Value;
        string email = current.Email.Value;
        long version = current.Version;
        return database.WriteAsync(
            s => s.Execute(Update, ("$id", id), ("$email", email), ("$version", version), ("$profile", json)) == 1,
            cancellationToken);
    }

    private static LeadProfile Map(SqliteDataReader row) => LeadProfileDocument.Read(row.GetString(1), row.GetInt64(0));
}
