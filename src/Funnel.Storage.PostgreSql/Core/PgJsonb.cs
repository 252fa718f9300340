using Npgsql;
using NpgsqlTypes;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>Positional <c>jsonb</c> parameters for the hand-written statements of the core stores.</summary>
internal static class PgJsonb
{
    /// <summary>Adds a JSON text as a positional <c>jsonb</c> parameter.</summary>
    public static NpgsqlCommand WithJsonb(this NpgsqlCommand command, string json)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
        return command;
    }
}
