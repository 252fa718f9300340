using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Storage;

/// <summary>A <see cref="ZonedDateTime"/> as its local time with offset, a space and its zone id, such as <c>"2026-10-05T16:00:00+02 Europe/Berlin"</c>.</summary>
/// <remarks>
/// The format of NodaTime.Serialization's zoned converter. <see cref="FunnelJson"/> has no converter for
/// <see cref="ZonedDateTime"/> (no record of Funnel.Core holds one); a webinar session's local start does. Reading
/// keeps the instant: the zone comes from <paramref name="zones"/>, or, when it no longer knows the id, is the fixed
/// offset that was stored.
/// </remarks>
/// <param name="zones">The time zones, as the app resolves them.</param>
internal sealed class ZonedDateTimeJsonConverter(IDateTimeZoneProvider zones) : JsonConverter<ZonedDateTime>
{
    public override ZonedDateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string text = reader.TokenType == JsonTokenType.String
            ? reader.GetString()!
            : throw new JsonException($"Expected a zoned date and time as a JSON string, found {reader.TokenType}.");
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        ParseResult<OffsetDateTime> local = OffsetDateTimePattern.ExtendedIso.Parse(space < 0 ? text : text[..space]);
        if (space < 0 || !local.Success)
        {
            throw new JsonException($"'{text}' is not a zoned date and time such as 2026-10-05T16:00:00+02 Europe/Berlin.");
        }

        DateTimeZone zone = zones.GetZoneOrNull(text[(space + 1)..]) ?? DateTimeZone.ForOffset(local.Value.Offset);
        return local.Value.InZone(zone);
    }

    public override void Write(Utf8JsonWriter writer, ZonedDateTime value, JsonSerializerOptions options) =>
        writer.WriteStringValue(OffsetDateTimePattern.ExtendedIso.Format(value.ToOffsetDateTime()) + " " + value.Zone.Id);
}
