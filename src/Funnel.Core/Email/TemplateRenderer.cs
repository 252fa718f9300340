using System.Collections.Immutable;
using System.Net;
using System.Text;

namespace Funnel.Email;

/// <summary>Renders subject and body templates with a lead's fields: the seam for your favourite template engine.</summary>
/// <remarks>
/// The sequence validator calls <see cref="GetFields"/> when a definition is built, so a template naming a field the
/// lead profile cannot supply fails then, naming the step and the field, not when the email is sent.
/// </remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface ITemplateRenderer
{
    /// <summary>Returns the names of the fields a template uses.</summary>
    /// <param name="text">The template.</param>
    /// <returns>The field names, each once, in order of first use.</returns>
    /// <exception cref="FormatException">The template is malformed.</exception>
    ImmutableArray<string> GetFields(string text);

    /// <summary>Renders a template.</summary>
    /// <param name="text">The template.</param>
    /// <param name="model">The lead's field values and tags.</param>
    /// <param name="html">Whether the output is HTML: values are then HTML-encoded.</param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="FormatException">The template is malformed.</exception>
    string Render(string text, TemplateModel model, bool html);
}

/// <summary>What a template is rendered with: the field values by name and the lead's tags.</summary>
/// <remarks>
/// The sequence engine puts the built-in fields (<c>email</c>, <c>lead_id</c>, <c>stage</c>, <c>unsubscribe_url</c>,
/// and <c>tags</c> as one comma-separated string), the definition's declared fields and the enrolment's fields in
/// <see cref="Fields"/>, and the tags as a set in <see cref="Tags"/> for engines that can loop over them.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TemplateModel
{
    /// <summary>Gets the field values by name.</summary>
    public required IReadOnlyDictionary<string, string> Fields { get; init; }

    /// <summary>Gets the lead's tags, sorted ordinally.</summary>
    /// <value>Defaults to no tags.</value>
    public ImmutableSortedSet<string> Tags { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);
}

/// <summary>The built-in <see cref="ITemplateRenderer"/>: <c>{{ first_name }}</c> placeholders, HTML-encoded in HTML bodies.</summary>
/// <remarks>
/// A placeholder is <c>{{</c>, optional spaces, a field name of lower-case letters, digits and underscores, optional
/// spaces and <c>}}</c>. Anything else inside braces is a <see cref="FormatException"/>. A field missing from the
/// values renders as an empty string (the validator rejects unknown fields up front). There are no loops or
/// conditions: plug in a full engine through <see cref="ITemplateRenderer"/> when you need them.
/// </remarks>
/// <threadsafety>Instances are stateless and safe to share between threads.</threadsafety>
public sealed class PlaceholderTemplateRenderer : ITemplateRenderer
{
    /// <summary>Gets the shared instance.</summary>
    public static PlaceholderTemplateRenderer Instance { get; } = new();

    /// <inheritdoc/>
    public ImmutableArray<string> GetFields(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string template = text;
        ImmutableArray<string>.Builder fields = ImmutableArray.CreateBuilder<string>();
        Walk(template, (name, _) =>
        {
            if (!fields.Contains(name))
            {
                fields.Add(name);
            }
        }, static _ => { });
        return fields.ToImmutable();
    }

    /// <inheritdoc/>
    public string Render(string text, TemplateModel model, bool html)
    {
        ArgumentNullException.ThrowIfNull(text);
        string template = text;
        ArgumentNullException.ThrowIfNull(model);
        IReadOnlyDictionary<string, string> fields = model.Fields;
        ArgumentNullException.ThrowIfNull(fields, "model.Fields");
        if (!template.Contains("{{", StringComparison.Ordinal))
        {
            return template;
        }

        StringBuilder output = new(template.Length + 64);
        Walk(
            template,
            (name, _) =>
            {
                string value = fields.TryGetValue(name, out string? v) ? v : string.Empty;
                output.Append(html ? WebUtility.HtmlEncode(value) : value);
            },
            literal => output.Append(literal));
        return output.ToString();
    }

    private static void Walk(string template, Action<string, int> onField, Action<string> onLiteral)
    {
        int position = 0;
        while (position < template.Length)
        {
            int open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                onLiteral(template[position..]);
                return;
            }

            onLiteral(template[position..open]);
            int close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"The placeholder at position {open} is not closed with '}}}}'.");
            }

            string name = template[(open + 2)..close].Trim();
            if (name.Length == 0 || !name.All(static c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                throw new FormatException($"The placeholder '{template[open..(close + 2)]}' at position {open} is not a field name (lower-case letters, digits, '_').");
            }

            onField(name, open);
            position = close + 2;
        }
    }
}
