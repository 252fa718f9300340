using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Funnel.Leads;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Segments;

/// <summary>Reads and writes segment rules as versioned JSON: <c>{"version":1,"rule":{"type":"all","rules":[…]}}</c>.</summary>
/// <remarks>
/// <para>
/// Version 1 nodes, each an object with a <c>"type"</c>:
/// <c>all</c>/<c>any</c> (<c>rules</c>), <c>not</c> (<c>rule</c>),
/// <c>event</c> (<c>event</c>, optional <c>subject</c>, <c>atLeast</c>, <c>within</c>, <c>properties</c>),
/// <c>email</c> (<c>email</c>, <c>action</c>: <c>opened</c>|<c>clicked</c>, optional <c>within</c>),
/// <c>page</c> (<c>page</c>, optional <c>within</c>), <c>tag</c> (<c>tag</c>),
/// <c>field</c> (<c>field</c>, <c>op</c>: <c>exists</c>|<c>eq</c>|<c>ne</c>|<c>contains</c>|<c>gt</c>|<c>gte</c>|<c>lt</c>|<c>lte</c>, <c>value</c>),
/// <c>stage</c> (<c>atLeast</c>, <c>atMost</c>: stage keys such as <c>marketing-qualified</c>),
/// <c>score</c> (<c>min</c>, <c>max</c>) and <c>consent</c> (<c>status</c>: <c>none</c>|<c>pending</c>|<c>granted</c>|<c>withdrawn</c>).
/// Windows are ISO 8601 durations in days and time, such as <c>P30D</c> or <c>PT12H</c>.
/// </para>
/// <para>
/// Reading is strict: malformed JSON, an unknown version, node type or property, a value of the wrong kind and
/// a rule that fails <see cref="SegmentRuleValidator"/> all throw <see cref="SegmentRuleException"/>, whose errors
/// name the path of the bad node, such as <c>rule.rules[2].within</c>. Writing produces the same format, so
/// any valid rule survives a round trip.
/// </para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class SegmentRuleJson
{
    /// <summary>The format version written and read.</summary>
    public const int Version = 1;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 4 * SegmentRuleValidator.MaxDepth };

    /// <summary>Writes a rule as a version 1 JSON document.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="indented">Whether to indent the output.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="SegmentRuleException">The rule is invalid.</exception>
    public static string Serialize(SegmentRule rule, bool indented = false)
    {
        SegmentRuleValidator.ThrowIfInvalid(rule);
        using MemoryStream stream = new();
        using (Utf8JsonWriter writer = new(stream, new JsonWriterOptions { Indented = indented }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WritePropertyName("rule");
            Write(writer, rule);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Reads a rule from a version 1 JSON document.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The rule, valid by <see cref="SegmentRuleValidator"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="SegmentRuleException">The JSON or the rule is invalid; the errors name the bad nodes.</exception>
    public static SegmentRule Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return TryDeserialize(json, out SegmentRule? rule, out ImmutableArray<SegmentRuleError> errors)
            ? rule
            : throw new SegmentRuleException(errors);
    }

    /// <summary>Reads a rule from a version 1 JSON document without throwing for bad input.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="rule">The rule, or <see langword="null"/> when invalid.</param>
    /// <param name="errors">The errors, each naming the bad node; empty on success.</param>
    /// <returns><see langword="true"/> when the document holds a valid rule.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    public static bool TryDeserialize(string json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SegmentRule? rule, out ImmutableArray<SegmentRuleError> errors)
    {
        ArgumentNullException.ThrowIfNull(json);
        rule = null;
        List<SegmentRuleError> found = [];
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, DocumentOptions);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                found.Add(new("$", $"expected a JSON object with \"version\" and \"rule\", found {Kind(root)}."));
            }
            else
            {
                Reader reader = new(found);
                reader.Known(root, "$", "version", "rule");
                if (!root.TryGetProperty("version", out JsonElement version))
                {
                    found.Add(new("version", $"the format version is required: add \"version\": {Version}."));
                }
                else if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v) || v != Version)
                {
                    found.Add(new("version", $"{version.GetRawText()} is not a supported version: this library reads version {Version}."));
                }

                if (!root.TryGetProperty("rule", out JsonElement ruleElement))
                {
                    found.Add(new("rule", "the rule is required."));
                }
                else
                {
                    rule = reader.Node(ruleElement, "rule", 1);
                }
            }
        }
        catch (JsonException ex)
        {
            found.Add(new("$", $"invalid JSON at line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}: {ex.Message}"));
        }

        if (found.Count == 0)
        {
            found.AddRange(SegmentRuleValidator.Check(rule));
        }

        errors = [.. found];
        if (found.Count > 0 || rule is null)
        {
            rule = null;
            return false;
        }

        return true;
    }

    internal static string FormatDuration(Duration duration)
    {
        int days = duration.Days;
        Duration rest = duration - Duration.FromDays(days);
        Period period = Period.FromDays(days) + Period.FromNanoseconds(rest.ToInt64Nanoseconds()).Normalize();
        return PeriodPattern.NormalizingIso.Format(period);
    }

    internal static string KeyOf(ConsentStatus status) => status switch
    {
        ConsentStatus.None => "none",
        ConsentStatus.Pending => "pending",
        ConsentStatus.Granted => "granted",
        _ => "withdrawn",
    };

    internal static string KeyOf(FieldOperator op) => op switch
    {
        FieldOperator.Exists => "exists",
        FieldOperator.Equal => "eq",
        FieldOperator.NotEqual => "ne",
        FieldOperator.Contains => "contains",
        FieldOperator.GreaterThan => "gt",
        FieldOperator.GreaterThanOrEqual => "gte",
        FieldOperator.LessThan => "lt",
        _ => "lte",
    };

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static void Write(Utf8JsonWriter writer, SegmentRule rule)
    {
        writer.WriteStartObject();
        switch (rule)
        {
            case AllRule all:
                writer.WriteString("type", "all");
                WriteRules(writer, all.Rules);
                break;
            case AnyRule any:
                writer.WriteString("type", "any");
                WriteRules(writer, any.Rules);
                break;
            case NotRule not:
                writer.WriteString("type", "not");
                writer.WritePropertyName("rule");
                Write(writer, not.Rule);
                break;
            case EventRule e:
                writer.WriteString("type", "event");
                writer.WriteString("event", e.EventType);
                if (e.Subject is not null)
                {
                    writer.WriteString("subject", e.Subject);
                }

                if (e.AtLeast != 1)
                {
                    writer.WriteNumber("atLeast", e.AtLeast);
                }

                WriteWithin(writer, e.Within);
                if (e.Properties.Count > 0)
                {
                    writer.WriteStartObject("properties");
                    foreach (KeyValuePair<string, string> p in e.Properties)
                    {
                        writer.WriteString(p.Key, p.Value);
                    }

                    writer.WriteEndObject();
                }

                break;
            case EmailRule email:
                writer.WriteString("type", "email");
                writer.WriteString("email", email.Email);
                writer.WriteString("action", email.Action == EmailAction.Opened ? "opened" : "clicked");
                WriteWithin(writer, email.Within);
                break;
            case PageRule page:
                writer.WriteString("type", "page");
                writer.WriteString("page", page.Page);
                WriteWithin(writer, page.Within);
                break;
            case TagRule tag:
                writer.WriteString("type", "tag");
                writer.WriteString("tag", tag.Tag);
                break;
            case FieldRule field:
                writer.WriteString("type", "field");
                writer.WriteString("field", field.Field);
                writer.WriteString("op", KeyOf(field.Operator));
                if (field.Value is not null)
                {
                    writer.WriteString("value", field.Value);
                }

                break;
            case StageRule stage:
                writer.WriteString("type", "stage");
                if (stage.AtLeast is { } least)
                {
                    writer.WriteString("atLeast", least.ToKey());
                }

                if (stage.AtMost is { } most)
                {
                    writer.WriteString("atMost", most.ToKey());
                }

                break;
            case ScoreRule score:
                writer.WriteString("type", "score");
                if (score.Min is { } min)
                {
                    writer.WriteNumber("min", min);
                }

                if (score.Max is { } max)
                {
                    writer.WriteNumber("max", max);
                }

                break;
            case ConsentRule consent:
                writer.WriteString("type", "consent");
                writer.WriteString("status", KeyOf(consent.Status));
                break;
        }

        writer.WriteEndObject();
    }

    private static void WriteRules(Utf8JsonWriter writer, ImmutableArray<SegmentRule> rules)
    {
        writer.WriteStartArray("rules");
        foreach (SegmentRule child in rules)
        {
            Write(writer, child);
        }

        writer.WriteEndArray();
    }

    private static void WriteWithin(Utf8JsonWriter writer, Duration? within)
    {
        if (within is { } w)
        {
            writer.WriteString("within", FormatDuration(w));
        }
    }

    private sealed class Reader(List<SegmentRuleError> errors)
    {
        private static readonly string[] Stages = [.. Enum.GetValues<LifecycleStage>().Select(LifecycleStageExtensions.ToKey)];

        public SegmentRule? Node(JsonElement element, string path, int depth)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                Error(path, $"expected a rule object, found {Kind(element)}.");
                return null;
            }

            if (depth > SegmentRuleValidator.MaxDepth)
            {
                Error(path, $"rules are nested deeper than {SegmentRuleValidator.MaxDepth} levels.");
                return null;
            }

            string? type = String(element, path, "type", required: true);
            switch (type)
            {
                case null:
                    return null;
                case "all":
                case "any":
                    Known(element, path, "type", "rules");
                    ImmutableArray<SegmentRule>? rules = Rules(element, path, depth);
                    return rules is null ? null : type == "all" ? new AllRule(rules.Value) : new AnyRule(rules.Value);
                case "not":
                    Known(element, path, "type", "rule");
                    if (!element.TryGetProperty("rule", out JsonElement inner))
                    {
                        Error(path + ".rule", "the rule to negate is required.");
                        return null;
                    }

                    SegmentRule? negated = Node(inner, path + ".rule", depth + 1);
                    return negated is null ? null : new NotRule(negated);
                case "event":
                    Known(element, path, "type", "event", "subject", "atLeast", "within", "properties");
                    string? eventType = String(element, path, "event", required: true);
                    string? subject = String(element, path, "subject", required: false);
                    int atLeast = Int(element, path, "atLeast") ?? 1;
                    Duration? eventWithin = Within(element, path);
                    ImmutableSortedDictionary<string, string> properties = Properties(element, path);
                    return eventType is null ? null : new EventRule { EventType = eventType, Subject = subject, AtLeast = atLeast, Within = eventWithin, Properties = properties };
                case "email":
                    Known(element, path, "type", "email", "action", "within");
                    string? email = String(element, path, "email", required: true);
                    string? action = String(element, path, "action", required: true);
                    EmailAction? parsedAction = action switch { "opened" => EmailAction.Opened, "clicked" => EmailAction.Clicked, _ => null };
                    if (action is not null && parsedAction is null)
                    {
                        Error(path + ".action", $"'{action}' is not an email action: use opened or clicked.");
                    }

                    Duration? emailWithin = Within(element, path);
                    return email is null || parsedAction is null ? null : new EmailRule(email, parsedAction.Value, emailWithin);
                case "page":
                    Known(element, path, "type", "page", "within");
                    string? page = String(element, path, "page", required: true);
                    Duration? pageWithin = Within(element, path);
                    return page is null ? null : new PageRule(page, pageWithin);
                case "tag":
                    Known(element, path, "type", "tag");
                    string? tag = String(element, path, "tag", required: true);
                    return tag is null ? null : new TagRule(tag);
                case "field":
                    Known(element, path, "type", "field", "op", "value");
                    string? field = String(element, path, "field", required: true);
                    string? op = String(element, path, "op", required: true);
                    FieldOperator? parsedOp = Enum.GetValues<FieldOperator>().Cast<FieldOperator?>().FirstOrDefault(o => KeyOf(o!.Value) == op);
                    if (op is not null && parsedOp is null)
                    {
                        Error(path + ".op", $"'{op}' is not a field operator: use exists, eq, ne, contains, gt, gte, lt or lte.");
                    }

                    string? value = String(element, path, "value", required: false);
                    return field is null || parsedOp is null ? null : new FieldRule(field, parsedOp.Value, value);
                case "stage":
                    Known(element, path, "type", "atLeast", "atMost");
                    return new StageRule(Stage(element, path, "atLeast"), Stage(element, path, "atMost"));
                case "score":
                    Known(element, path, "type", "min", "max");
                    return new ScoreRule(Number(element, path, "min"), Number(element, path, "max"));
                case "consent":
                    Known(element, path, "type", "status");
                    string? status = String(element, path, "status", required: true);
                    ConsentStatus? parsedStatus = Enum.GetValues<ConsentStatus>().Cast<ConsentStatus?>().FirstOrDefault(s => KeyOf(s!.Value) == status);
                    if (status is not null && parsedStatus is null)
                    {
                        Error(path + ".status", $"'{status}' is not a consent status: use none, pending, granted or withdrawn.");
                    }

                    return parsedStatus is null ? null : new ConsentRule(parsedStatus.Value);
                default:
                    Error(path + ".type", $"'{type}' is not a rule type: use all, any, not, event, email, page, tag, field, stage, score or consent.");
                    return null;
            }
        }

        public void Known(JsonElement element, string path, params string[] names)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (!names.Contains(property.Name, StringComparer.Ordinal))
                {
                    Error(path == "$" ? property.Name : path + "." + property.Name, $"'{property.Name}' is not a property of this node: expected {string.Join(", ", names)}.");
                }
            }
        }

        private void Error(string path, string message) => errors.Add(new(path, message));

        private ImmutableArray<SegmentRule>? Rules(JsonElement element, string path, int depth)
        {
            if (!element.TryGetProperty("rules", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            {
                Error(path + ".rules", "an array of rules is required.");
                return null;
            }

            ImmutableArray<SegmentRule>.Builder rules = ImmutableArray.CreateBuilder<SegmentRule>();
            bool ok = true;
            int i = 0;
            foreach (JsonElement child in array.EnumerateArray())
            {
                SegmentRule? rule = Node(child, $"{path}.rules[{i++}]", depth + 1);
                if (rule is null)
                {
                    ok = false;
                }
                else
                {
                    rules.Add(rule);
                }
            }

            return ok ? rules.ToImmutable() : null;
        }

        private string? String(JsonElement element, string path, string name, bool required)
        {
            if (!element.TryGetProperty(name, out JsonElement value))
            {
                if (required)
                {
                    Error(path + "." + name, $"'{name}' is required.");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Error(path + "." + name, $"expected a string, found {Kind(value)}.");
                return null;
            }

            return value.GetString();
        }

        private int? Int(JsonElement element, string path, string name)
        {
            if (!element.TryGetProperty(name, out JsonElement value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
            {
                Error(path + "." + name, $"expected a whole number, found {value.GetRawText()}.");
                return null;
            }

            return number;
        }

        private double? Number(JsonElement element, string path, string name)
        {
            if (!element.TryGetProperty(name, out JsonElement value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
            {
                Error(path + "." + name, $"expected a number, found {value.GetRawText()}.");
                return null;
            }

            return number;
        }

        private LifecycleStage? Stage(JsonElement element, string path, string name)
        {
            string? key = String(element, path, name, required: false);
            if (key is null)
            {
                return null;
            }

            int index = Array.IndexOf(Stages, key);
            if (index < 0)
            {
                Error(path + "." + name, $"'{key}' is not a lifecycle stage: use {string.Join(", ", Stages)}.");
                return null;
            }

            return Enum.GetValues<LifecycleStage>()[index];
        }

        private Duration? Within(JsonElement element, string path)
        {
            string? text = String(element, path, "within", required: false);
            if (text is null)
            {
                return null;
            }

            ParseResult<Period> parsed = PeriodPattern.NormalizingIso.Parse(text);
            if (!parsed.Success || parsed.Value.Years != 0 || parsed.Value.Months != 0)
            {
                Error(path + ".within", $"'{text}' is not a valid window: use an ISO 8601 duration in weeks, days or time, such as P30D or PT12H.");
                return null;
            }

            return parsed.Value.ToDuration();
        }

        private ImmutableSortedDictionary<string, string> Properties(JsonElement element, string path)
        {
            ImmutableSortedDictionary<string, string>.Builder builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            if (!element.TryGetProperty("properties", out JsonElement value))
            {
                return builder.ToImmutable();
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                Error(path + ".properties", $"expected an object of name-value strings, found {Kind(value)}.");
                return builder.ToImmutable();
            }

            foreach (JsonProperty property in value.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    Error(path + ".properties." + property.Name, $"expected a string, found {Kind(property.Value)}.");
                }
                else
                {
                    builder[property.Name] = property.Value.GetString()!;
                }
            }

            return builder.ToImmutable();
        }
    }
}
