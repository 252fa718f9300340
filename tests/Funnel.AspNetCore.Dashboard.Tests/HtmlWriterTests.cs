using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class HtmlWriterTests
{
    [Property]
    public Property Text_AnyString_WritesNoMarkupCharacter(NonNull<string> value)
    {
        string html = new HtmlWriter().Text(value.Get).ToString();

        return html.IndexOfAny(['<', '>', '"', '\'']).Equals(-1).Label(html);
    }

    [Property]
    public Property Attribute_AnyString_StaysInsideItsQuotes(NonNull<string> value)
    {
        string html = new HtmlWriter().Attribute("title", value.Get).ToString();

        return (html.StartsWith(" title=\"", StringComparison.Ordinal) && html.EndsWith('"') && html.Count(c => c == '"') == 2).Label(html);
    }

    [Fact]
    public void Element_Hostile_EncodesTheText()
    {
        new HtmlWriter().Element("td", "<script>alert('x')</script>", "num").ToString()
            .ShouldBe("<td class=\"num\">&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</td>");
    }
}
