using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Funnel.Leads;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Events;

/// <summary>The converters of the event JSON contract: NodaTime values as ISO strings, money, currencies and ids.</summary>
internal static class EventJsonConverters
{
    public static IEnumerable<JsonConverter> All { get; } =
    [
        new PatternConverter<Instant>(InstantPattern.ExtendedIso),
        new PatternConverter<LocalDate>(LocalDatePattern.Iso),
        new PatternConverter<LocalTime>(LocalTimePattern.ExtendedIso),
        new PatternConverter<LocalDateTime>(LocalDateTimePattern.ExtendedIso),
        new PatternConverter<Duration>(DurationPattern.Roundtrip),
        new CurrencyConverter(),
        new MoneyConverter(),
        new EmailAddressConverter(),
        new IdConverterFactory(),
    ];

    private static string ReadString(ref Utf8JsonReader reader, string what) =>
        reader.TokenType == JsonTokenType.String
            ? reader.GetString()!
            : throw new JsonException($"Expected {what} as a JSON string, found {reader.TokenType}.");

    /// <summary>A NodaTime value as a string in one invariant pattern.</summary>
    private sealed class PatternConverter<T>(IPattern<T> pattern) : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            ParseResult<T> result = pattern.Parse(ReadString(ref reader, "a " + typeof(T).Name));
            return result.Success ? result.Value : throw new JsonException(result.Exception.Message);
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(pattern.Format(value));
    }

    /// <summary>A currency as its ISO 4217 code, such as <c>"USD"</c>.</summary>
    private sealed class CurrencyConverter : JsonConverter<Currency>
    {
        public override Currency Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            string code = ReadString(ref reader, "a currency code");
            return Currency.TryFromCode(code, out Currency currency)
                ? currency
                : throw new JsonException($"'{code}' is not a known ISO 4217 currency code.");
        }

        public override void Write(Utf8JsonWriter writer, Currency value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Code);
    }

    /// <summary>Money as <c>{"amount":1234,"currency":"USD"}</c>, the amount in minor units.</summary>
    private sealed class MoneyConverter : JsonConverter<Money>
    {
        public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"Expected money as an object with 'amount' and 'currency', found {reader.TokenType}.");
            }

            long? amount = null;
            Currency? currency = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                if (name == "amount")
                {
                    amount = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long minor)
                        ? minor
                        : throw new JsonException("Expected 'amount' as a whole number of minor units.");
                }
                else if (name == "currency")
                {
                    string code = ReadString(ref reader, "'currency'");
                    currency = Currency.TryFromCode(code, out Currency parsed)
                        ? parsed
                        : throw new JsonException($"'{code}' is not a known ISO 4217 currency code.");
                }
                else
                {
                    reader.Skip();
                }
            }

            return amount is null || currency is null
                ? throw new JsonException("Money needs both 'amount' and 'currency'.")
                : new Money(amount.Value, currency.Value);
        }

        public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteNumber("amount", value.MinorUnits);
            writer.WriteString("currency", value.Currency.Code);
            writer.WriteEndObject();
        }
    }

    /// <summary>An email address as its canonical string.</summary>
    private sealed class EmailAddressConverter : JsonConverter<EmailAddress>
    {
        public override EmailAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            string text = ReadString(ref reader, "an email address");
            return EmailAddress.TryParse(text, out EmailAddress email, out string? error) ? email : throw new JsonException(error);
        }

        public override void Write(Utf8JsonWriter writer, EmailAddress value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Value);
    }

    /// <summary>
    /// An id (a value type with one public <c>Value</c> property of type <see cref="Guid"/> or <see cref="string"/> and a
    /// public constructor taking it, such as <see cref="LeadId"/> or <see cref="OfferId"/>) as a string.
    /// </summary>
    private sealed class IdConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => ValueOf(typeToConvert) is not null;

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        {
            PropertyInfo value = ValueOf(typeToConvert)!;
            Type converter = value.PropertyType == typeof(Guid) ? typeof(GuidIdConverter<>) : typeof(StringIdConverter<>);
            return (JsonConverter)Activator.CreateInstance(converter.MakeGenericType(typeToConvert))!;
        }

        private static PropertyInfo? ValueOf(Type type)
        {
            if (!type.IsValueType || type.IsEnum || type.IsPrimitive || Nullable.GetUnderlyingType(type) is not null)
            {
                return null;
            }

            PropertyInfo[] properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            return properties is [{ Name: "Value" } value]
                && (value.PropertyType == typeof(Guid) || value.PropertyType == typeof(string))
                && type.GetConstructor([value.PropertyType]) is not null
                ? value
                : null;
        }
    }

    private sealed class GuidIdConverter<T> : JsonConverter<T>
        where T : struct
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out Guid guid))
            {
                return IdAccess<T, Guid>.Create(guid);
            }

            string text = ReadString(ref reader, "a " + typeof(T).Name);
            throw new JsonException($"'{text}' is not a {typeof(T).Name} (a GUID such as 0194a7c2-5e1b-7c3d-9f00-1a2b3c4d5e6f).");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(IdAccess<T, Guid>.Get(value));
    }

    private sealed class StringIdConverter<T> : JsonConverter<T>
        where T : struct
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            IdAccess<T, string>.Create(ReadString(ref reader, "a " + typeof(T).Name));

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(IdAccess<T, string?>.Get(value) ?? string.Empty);
    }

    /// <summary>An id type's constructor and <c>Value</c> getter, compiled once per type instead of reflected per value.</summary>
    private static class IdAccess<T, TValue>
        where T : struct
    {
        public static readonly Func<TValue, T> Create = BuildCreate();

        public static readonly Func<T, TValue> Get = BuildGet();

        private static Func<TValue, T> BuildCreate()
        {
            ParameterExpression value = Expression.Parameter(typeof(TValue), "value");
            ConstructorInfo constructor = typeof(T).GetConstructor([typeof(TValue)])!;
            return Expression.Lambda<Func<TValue, T>>(Expression.New(constructor, value), value).Compile();
        }

        private static Func<T, TValue> BuildGet()
        {
            ParameterExpression id = Expression.Parameter(typeof(T), "id");
            return Expression.Lambda<Func<T, TValue>>(Expression.Property(id, "Value"), id).Compile();
        }
    }
}
