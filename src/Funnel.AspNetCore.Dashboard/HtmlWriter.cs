using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>Builds an HTML document in which every value is HTML-encoded; only literal markup is written raw.</summary>
/// <remarks>
/// <see cref="Markup"/> takes markup the dashboard itself wrote (constants); <see cref="Text(string?)"/> and
/// <see cref="Attribute"/> encode with <see cref="HtmlEncoder.Default"/>, so a lead's name or an error message can never
/// become markup.
/// </remarks>
internal sealed class HtmlWriter
{
    private readonly StringBuilder _html = new();

    public HtmlWriter Markup(string markup)
    {
        _html.Append(markup);
        return this;
    }

    public HtmlWriter Text(string? value)
    {
        if (value is not null)
        {
            _html.Append(HtmlEncoder.Default.Encode(value));
        }

        return this;
    }

    public HtmlWriter Text(long value) => Text(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes <c> name="value"</c> with the value encoded.</summary>
    public HtmlWriter Attribute(string name, string? value)
    {
        _html.Append(' ').Append(name).Append("=\"");
        Text(value);
        _html.Append('"');
        return this;
    }

    /// <summary>Writes an element with encoded text content, such as <c>&lt;td&gt;text&lt;/td&gt;</c>.</summary>
    public HtmlWriter Element(string tag, string? text, string? cssClass = null)
    {
        _html.Append('<').Append(tag);
        if (cssClass is not null)
        {
            Attribute("class", cssClass);
        }

        _html.Append('>');
        Text(text);
        _html.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>Writes a link with an encoded address and text.</summary>
    public HtmlWriter Link(string href, string text)
    {
        _html.Append("<a");
        Attribute("href", href);
        _html.Append('>');
        Text(text);
        _html.Append("</a>");
        return this;
    }

    /// <summary>Writes a hidden form field.</summary>
    public HtmlWriter Hidden(string name, string? value)
    {
        _html.Append("<input type=\"hidden\"");
        Attribute("name", name);
        Attribute("value", value);
        _html.Append('>');
        return this;
    }

    public override string ToString() => _html.ToString();
}
