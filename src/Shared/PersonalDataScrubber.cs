using System.Text.Json;
using System.Text.Json.Nodes;
using Funnel.Privacy;

namespace Funnel.Storage;

// Linked into both storage packages: the redaction of one text column of a row that mentions an erased lead, for
// SqlitePersonalDataStore and PgPersonalDataStore, which find such rows in every table the catalog lists.

/// <summary>Redacts a lead's personal values in one stored text value: a JSON document or plain text.</summary>
/// <remarks>
/// A JSON object or array is walked: string members named like personal data (<c>referrer</c>, <c>ipAddress</c>,
/// <c>userAgent</c>, <c>confirmationUrl</c>, a review's <c>attributionName</c>) and strings equal to a personal value become
/// <see cref="PersonalDataSubject.Redacted"/>, and the email address inside any string becomes the tombstone. Plain
/// text gets the same rules for the whole value. Working on the parsed JSON, not the raw text, means escaping cannot
/// hide a value and no document is broken.
/// </remarks>
internal static class PersonalDataScrubber
{
    private static readonly HashSet<string> PersonalMembers = new(StringComparer.OrdinalIgnoreCase)
    {
        "referrer", "ipAddress", "ip_address", "userAgent", "user_agent", "confirmationUrl", "confirmation_url",
        "attributionName", "attribution_name",
    };

    /// <summary>Returns the redacted value, or <see langword="null"/> when nothing in it is personal.</summary>
    public static string? Scrub(string? value, PersonalDataSubject subject)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        string trimmed = value.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(value);
            }
            catch (JsonException)
            {
                node = null;
            }

            if (node is not null)
            {
                return Walk(node, subject) ? node.ToJsonString(FunnelJson.Options) : null;
            }
        }

        string scrubbed = ScrubText(value, subject, personalMember: false);
        return scrubbed == value ? null : scrubbed;
    }

    private static bool Walk(JsonNode node, PersonalDataSubject subject)
    {
        bool changed = false;
        switch (node)
        {
            case JsonObject obj:
                foreach ((string name, JsonNode? child) in obj.ToList())
                {
                    if (child is JsonValue leaf && leaf.TryGetValue(out string? text))
                    {
                        string scrubbed = ScrubText(text, subject, PersonalMembers.Contains(name));
                        if (scrubbed != text)
                        {
                            obj[name] = scrubbed;
                            changed = true;
                        }
                    }
                    else if (child is not null)
                    {
                        changed |= Walk(child, subject);
                    }
                }

                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue leaf && leaf.TryGetValue(out string? text))
                    {
                        string scrubbed = ScrubText(text, subject, personalMember: false);
                        if (scrubbed != text)
                        {
                            array[i] = scrubbed;
                            changed = true;
                        }
                    }
                    else if (array[i] is { } child)
                    {
                        changed |= Walk(child, subject);
                    }
                }

                break;
        }

        return changed;
    }

    private static string ScrubText(string text, PersonalDataSubject subject, bool personalMember)
    {
        if (text == PersonalDataSubject.Redacted)
        {
            return text;
        }

        if (personalMember || subject.PersonalValues.Contains(text, StringComparer.Ordinal))
        {
            return PersonalDataSubject.Redacted;
        }

        // The address, and any address among the personal values, inside other text (a query string, a note).
        string scrubbed = subject.Email is { Value: { } email } && text.Contains(email, StringComparison.OrdinalIgnoreCase)
            ? text.Replace(email, subject.Tombstone.Value, StringComparison.OrdinalIgnoreCase)
            : text;
        foreach (string value in subject.PersonalValues)
        {
            if (value.Contains('@', StringComparison.Ordinal) && scrubbed.Contains(value, StringComparison.OrdinalIgnoreCase))
            {
                scrubbed = scrubbed.Replace(value, subject.Tombstone.Value, StringComparison.OrdinalIgnoreCase);
            }
        }

        return scrubbed;
    }
}
