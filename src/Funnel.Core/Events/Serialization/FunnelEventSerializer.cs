using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Events;

/// <summary>Writes events as versioned JSON and reads them back, for the types of a <see cref="FunnelEventTypes"/>.</summary>
/// <remarks>
/// <para>
/// The JSON is one object: the envelope <c>"type"</c> (the stable name), <c>"v"</c> (the shape version),
/// <c>"id"</c> and <c>"occurredAt"</c>, then the event's fields in camelCase. Instants are ISO-8601 UTC strings
/// (<c>"2026-12-04T15:52:00Z"</c>, with fractional seconds only when present); money is
/// <c>{"amount":4900,"currency":"USD"}</c> in minor units; ids and email addresses are strings; enums are snake_case
/// strings (<c>"marketing_qualified"</c>). Null fields, an empty attribution and empty properties are left out.
/// </para>
/// <para>
/// The reader is tolerant: unknown fields are ignored and a missing optional field takes its default, so events
/// written by a later version that only added fields still read. A type name that is not registered, or a version
/// newer than the registered one, reads as an <see cref="UnknownEvent"/> that keeps the raw JSON; an older version is
/// brought up to date by the registered upcasters. Text that is not JSON, a missing envelope or required field, or a
/// value of the wrong shape throws a <see cref="FunnelEventFormatException"/> naming the event type and the field.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FunnelEventSerializer
{
    private const string TypeField = "type";
    private const string VersionField = "v";
    private const string IdField = "id";
    private const string OccurredAtField = "occurredAt";

    private static readonly JsonDocumentOptions NoDuplicates = new() { AllowDuplicateProperties = false };

    private readonly FunnelEventTypes _types;
    private readonly JsonSerializerOptions _options;

    /// <summary>Initializes a serializer for the types of a registry.</summary>
    /// <param name="types">The registered event types.</param>
    /// <exception cref="ArgumentNullException"><paramref name="types"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">A registered type has a field named <c>type</c> or <c>v</c>, which the envelope uses.</exception>
    public FunnelEventSerializer(FunnelEventTypes types)
    {
        ArgumentNullException.ThrowIfNull(types);
        _types = types;
        _options = CreateOptions();
        foreach (FunnelEventTypeInfo type in types.All)
        {
            JsonTypeInfo info = _options.GetTypeInfo(type.Type);
            if (info.Properties.FirstOrDefault(p => p.Name is TypeField or VersionField) is { } clash)
            {
                throw new InvalidOperationException(
                    $"The event type '{type.Type.FullName}' has a field '{clash.Name}', which the event envelope reserves.");
            }
        }
    }

    /// <summary>Writes an event as JSON.</summary>
    /// <param name="event">The event; an <see cref="UnknownEvent"/> is written back as its stored JSON.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The event's type is not registered.</exception>
    public string Serialize(FunnelEvent @event) =>
        @event is UnknownEvent unknown ? unknown.Json : Encoding.UTF8.GetString(Write(@event).WrittenSpan);

    /// <summary>Writes an event as UTF-8 JSON.</summary>
    /// <param name="event">The event; an <see cref="UnknownEvent"/> is written back as its stored JSON.</param>
    /// <returns>The UTF-8 bytes of the JSON.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The event's type is not registered.</exception>
    public byte[] SerializeToUtf8Bytes(FunnelEvent @event) =>
        @event is UnknownEvent unknown ? Encoding.UTF8.GetBytes(unknown.Json) : Write(@event).WrittenSpan.ToArray();

    /// <summary>Reads an event from JSON.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The event: an instance of its registered type, or an <see cref="UnknownEvent"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="FunnelEventFormatException">The text is not an event's JSON; the message names the type and field.</exception>
    public FunnelEvent Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return TryReadCurrent(json) ?? ReadThroughDocument(json);
    }

    /// <summary>Reads an event through a JSON document: the general path, which upcasts and names the field in errors.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The event.</returns>
    internal FunnelEvent ReadThroughDocument(string json) => Read(Parse(json, static text => JsonNode.Parse(text, documentOptions: NoDuplicates)), json);

    /// <summary>Reads an event from UTF-8 JSON.</summary>
    /// <param name="utf8Json">The UTF-8 bytes of the JSON, with or without a byte order mark.</param>
    /// <returns>The event: an instance of its registered type, or an <see cref="UnknownEvent"/>.</returns>
    /// <exception cref="FunnelEventFormatException">The bytes are not an event's JSON; the message names the type and field.</exception>
    public FunnelEvent Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        string json;
        try
        {
            json = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(
                utf8Json.StartsWith("\uFEFF"u8) ? utf8Json[3..] : utf8Json);
        }
        catch (DecoderFallbackException ex)
        {
            throw new FunnelEventFormatException("The event JSON is not valid UTF-8.", ex);
        }

        return Deserialize(json);
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            IgnoreReadOnlyProperties = true,
            RespectNullableAnnotations = true,
            AllowDuplicateProperties = false,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { ShapeEvents } },
        };
        foreach (JsonConverter converter in EventJsonConverters.All)
        {
            options.Converters.Add(converter);
        }

        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Puts the envelope fields first and leaves out an empty attribution and empty properties.</summary>
    private static void ShapeEvents(JsonTypeInfo info)
    {
        if (!typeof(FunnelEvent).IsAssignableFrom(info.Type))
        {
            return;
        }

        foreach (JsonPropertyInfo property in info.Properties)
        {
            switch (property.Name)
            {
                case IdField:
                    property.Order = -3;
                    break;
                case OccurredAtField:
                    property.Order = -2;
                    break;
                case "leadId":
                    property.Order = -1;
                    break;
                case "attribution":
                    property.ShouldSerialize = static (_, value) => value is Attribution a && a != Attribution.None;
                    break;
                case "properties":
                    property.ShouldSerialize = static (_, value) => value is ImmutableDictionary<string, string> { Count: > 0 };
                    break;
            }
        }
    }

    private ArrayBufferWriter<byte> Write(FunnelEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (!_types.TryFind(@event.GetType(), out FunnelEventTypeInfo? type))
        {
            throw new ArgumentException(
                $"The event type '{@event.GetType().FullName}' is not registered; add its assembly with "
                + "AddFunnelEventTypes or FunnelEventTypesBuilder.AddAssembly.", nameof(@event));
        }

        JsonElement fields = JsonSerializer.SerializeToElement(@event, type.Type, _options);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(TypeField, type.Name);
            writer.WriteNumber(VersionField, type.Version);
            foreach (JsonProperty field in fields.EnumerateObject())
            {
                field.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer;
    }

    /// <summary>
    /// Reads an event of a registered type written at its current version straight into its type, without the JSON
    /// document the general path builds; returns <see langword="null"/> for anything else (an unknown type, an older
    /// version to upcast, a missing or malformed envelope, a field of the wrong shape), which the general path then
    /// reads or rejects with its message naming the field.
    /// </summary>
    private FunnelEvent? TryReadCurrent(string json)
    {
        int max = Encoding.UTF8.GetMaxByteCount(json.Length);
        byte[]? rented = max > 1024 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[1024];
        try
        {
            ReadOnlySpan<byte> utf8 = buffer[..Encoding.UTF8.GetBytes(json, buffer)];
            if (!TryReadEnvelope(utf8, out string? type, out int version)
                || !_types.TryFind(type, out FunnelEventTypeInfo? registered)
                || version != registered.Version)
            {
                return null;
            }

            return JsonSerializer.Deserialize(utf8, registered.Type, _options) as FunnelEvent;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or FormatException or InvalidOperationException)
        {
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Reads the envelope's type and version, and checks that its id and time are present as strings.</summary>
    private static bool TryReadEnvelope(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out string? type, out int version)
    {
        type = null;
        version = 1;
        bool id = false, occurredAt = false;
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String || type is not null)
                {
                    return false;
                }

                type = reader.GetString();
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out version) || version < 1)
                {
                    return false;
                }
            }
            else
            {
                bool isId = reader.ValueTextEquals("id"u8);
                bool isOccurredAt = !isId && reader.ValueTextEquals("occurredAt"u8);
                if (!reader.Read() || ((isId || isOccurredAt) && reader.TokenType != JsonTokenType.String))
                {
                    return false;
                }

                id |= isId;
                occurredAt |= isOccurredAt;
                reader.Skip();
            }
        }

        return type is not null && id && occurredAt;
    }

    private static JsonNode? Parse(string json, Func<string, JsonNode?> parse)
    {
        try
        {
            return parse(json);
        }
        catch (JsonException ex)
        {
            throw new FunnelEventFormatException("The event JSON is malformed: " + ex.Message, ex);
        }
    }

    private FunnelEvent Read(JsonNode? node, string json)
    {
        if (node is not JsonObject root)
        {
            throw new FunnelEventFormatException("The event JSON is not a JSON object.");
        }

        string type = RequiredString(root, TypeField, null);
        int version = 1;
        if (root[VersionField] is { } v)
        {
            version = v.GetValueKind() == JsonValueKind.Number && v.AsValue().TryGetValue(out int number) && number >= 1
                ? number
                : throw Error(type, VersionField, "'v' must be a whole number of at least 1.");
        }

        string idText = RequiredString(root, IdField, type);
        EventId id = Guid.TryParseExact(idText, "D", out Guid guid)
            ? new EventId(guid)
            : throw Error(type, IdField, $"'{idText}' is not an event id (a GUID).");
        string occurredText = RequiredString(root, OccurredAtField, type);
        ParseResult<Instant> occurred = InstantPattern.ExtendedIso.Parse(occurredText);
        if (!occurred.Success)
        {
            throw Error(type, OccurredAtField, $"'{occurredText}' is not an ISO-8601 UTC instant such as 2026-12-04T15:52:00Z.");
        }

        if (!_types.TryFind(type, out FunnelEventTypeInfo? registered) || version > registered.Version)
        {
            return new UnknownEvent { Type = type, Version = version, Id = id, OccurredAt = occurred.Value, Json = json };
        }

        for (; version < registered.Version; version++)
        {
            if (!_types.Upcasters.TryGetValue((type, version), out Func<JsonObject, JsonObject>? upcast))
            {
                throw Error(type, VersionField, string.Create(CultureInfo.InvariantCulture,
                    $"Version {version} cannot be read: no upcaster from version {version} to {version + 1} is registered."));
            }

            root = upcast(root);
        }

        foreach (JsonPropertyInfo property in _options.GetTypeInfo(registered.Type).Properties)
        {
            if (property.IsRequired && !root.ContainsKey(property.Name))
            {
                throw Error(type, property.Name, "The required field is missing.");
            }
        }

        try
        {
            return (FunnelEvent)root.Deserialize(registered.Type, _options)!;
        }
        catch (JsonException ex)
        {
            string? field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            throw Error(type, field, ex.Message, ex);
        }
        catch (ArgumentException ex)
        {
            string? field = ex.ParamName is { Length: > 0 } name ? JsonNamingPolicy.CamelCase.ConvertName(name) : null;
            throw Error(type, field, ex.Message, ex);
        }
    }

    private static string RequiredString(JsonObject root, string field, string? type)
    {
        JsonNode? node = root[field];
        if (node is null)
        {
            throw Error(type, field, "The required field is missing.");
        }

        return node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() is { Length: > 0 } text
            ? text
            : throw Error(type, field, "The field must be a non-empty string.");
    }

    private static FunnelEventFormatException Error(string? type, string? field, string problem, Exception? inner = null)
    {
        string where = (type, field) switch
        {
            (null, null) => "The event",
            (null, _) => $"Field '{field}' of the event",
            (_, null) => $"The event '{type}'",
            _ => $"Field '{field}' of event '{type}'",
        };
        return new FunnelEventFormatException($"{where} cannot be read: {problem}", inner) { EventType = type, Field = field };
    }
}
