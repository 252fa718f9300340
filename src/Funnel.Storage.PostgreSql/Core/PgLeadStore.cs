using System.Collections.Immutable;
using Funnel.Leads;
using Funnel.Storage.PostgreSql.Internal;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>The <see cref="ILeadStore"/> in table <c>leads</c>: a row per normalised email, the profile as <c>jsonb</c>.</summary>
/// <remarks>
/// <para>
/// The profile document is the one SQLite stores (<see cref="LeadProfileDocument"/>, shape 1). Insert-if-absent is one
/// <c>INSERT … ON CONFLICT DO NOTHING</c>, which waits for a concurrent insert of the same email or id to commit, so of
/// several instances adding one address exactly one wins. Only when it inserts nothing does a second statement (with a
/// fresh snapshot, so it sees the winner) look at why: email taken gives <see langword="false"/>; the id taken by
/// another email throws. Replace-if-version is <c>UPDATE … WHERE id AND email AND version</c>.
/// </para>
/// </remarks>
/// <threadsafety>Safe to call from many threads and app instances at once.</threadsafety>
internal sealed class PgLeadStore : ILeadStore
{
    private readonly PgDatabase _database;
    private readonly string _insert;
    private readonly string _why;
    private readonly string _update;
    private readonly string _byId;
    private readonly string _byEmail;
    private readonly string _byIds;

    public PgLeadStore(PgDatabase database)
    {
        _database = database;
        string leads = database.Table("leads");
        _insert = $"INSERT INTO {leads} (id, email, version, profile) VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING";
        _why = $"SELECT (SELECT email FROM {leads} WHERE id = $1), EXISTS (SELECT 1 FROM {leads} WHERE email = $2)";
        _update = $"UPDATE {leads} SET version = version + 1, profile = $4 WHERE id = $1 AND email = $2 AND version = $3";
        _byId = $"SELECT version, profile FROM {leads} WHERE id = $1";
        _byEmail = $"SELECT version, profile FROM {leads} WHERE email = $1";
        _byIds = $"SELECT version, profile FROM {leads} WHERE id = ANY($1)";
    }

    public async Task<LeadProfile?> FindAsync(LeadId id, CancellationToken cancellationToken = default) =>
        (await QueryAsync(_byId, id.Value, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public async Task<LeadProfile?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default)
    {
        if (email.Value is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        return (await QueryAsync(_byEmail, email.Value, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
    }

    public async Task<ImmutableArray<LeadProfile>> FindManyAsync(IEnumerable<LeadId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        LeadId[] distinct = [.. ids.Distinct()];
        if (distinct.Length == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        // One query for the whole set: the ids go in as one uuid[] parameter.
        Guid[] values = [.. distinct.Select(static i => i.Value)];
        List<LeadProfile> rows = await QueryAsync(_byIds, values, cancellationToken).ConfigureAwait(false);
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
        return _database.ReadAsync(
            async connection =>
            {
                await using (NpgsqlCommand insert = PgDatabase.Command(connection, _insert).With(id).With(email).WithJsonb(json))
                {
                    if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
                    {
                        return true;
                    }
                }

                // ON CONFLICT waited for the conflicting insert to commit; this statement's snapshot sees it.
                await using NpgsqlCommand why = PgDatabase.Command(connection, _why).With(id).With(email);
                await using NpgsqlDataReader reader = await why.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (reader.GetBoolean(1))
                {
                    return false;
                }

                throw new InvalidOperationException($"Lead {profile.Id} already has the email '{reader.GetNullableString(0)}'.");
            },
            cancellationToken);
    }

    public Task<bool> TryUpdateAsync(LeadProfile current, LeadProfile replacement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(replacement);
        if (replacement.Id != current.Id || replacement.Email != current.Email)
        {
            throw new ArgumentException($"The replacement of lead {current.Id} must keep its id and email address.", nameof(replacement));
        }

        if (current.Email.Value is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(false);
        }

        string json = LeadProfileDocument.Write(replacement);
        return _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand update = PgDatabase.Command(connection, _update)
                    .With(current.Id.Value).With(current.Email.Value).With(current.Version).WithJsonb(json);
                return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    private Task<List<LeadProfile>> QueryAsync<TKey>(string sql, TKey key, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using NpgsqlCommand command = PgDatabase.Command(connection, sql).With(key);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                List<LeadProfile> found = [];
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add(LeadProfileDocument.Read(reader.GetString(1), reader.GetInt64(0)));
                }

                return found;
            },
            cancellationToken);
}
