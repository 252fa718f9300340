using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Events;

namespace Funnel;

/// <summary>The JSON shape Funnel stores its documents in (lead profiles, orders, enrolments and the other records of the stores).</summary>
/// <remarks>
/// The same conventions as the event JSON of <see cref="FunnelEventSerializer"/>: properties in camelCase, null
/// properties left out, instants and other NodaTime values as ISO strings, money as
/// <c>{"amount":4900,"currency":"USD"}</c> in minor units, ids and email addresses as strings and enums as snake_case
/// strings. Unknown properties are ignored when reading, so a document written by a later version that only added
/// properties still reads. Storage adapters use it for the JSON column of each record; use it to write Funnel's
/// records in your own APIs the same way.
/// </remarks>
public static class FunnelJson
{
    /// <summary>Gets the read-only serializer options of Funnel's stored JSON.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            IgnoreReadOnlyProperties = true,
            RespectNullableAnnotations = true,
        };
        foreach (JsonConverter converter in EventJsonConverters.All)
        {
            options.Converters.Add(converter);
        }

        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
