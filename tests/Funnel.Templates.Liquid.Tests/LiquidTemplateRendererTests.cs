using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Templates.Liquid;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Templates;

public sealed class LiquidTemplateRendererTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 5, 10, 30);

    [Fact]
    public void Render_HtmlBody_EscapesAScriptInTheLeadsName()
    {
        LiquidTemplateRenderer renderer = Renderer();

        string html = renderer.Render("<p>Hi {{ first_name }}</p>", Model(("first_name", "<script>alert('x')</script>")), html: true);

        html.ShouldBe("<p>Hi &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</p>");
        html.ShouldNotContain("<script>");
    }

    [Fact]
    public void Render_SubjectAndText_AreNotEscaped()
    {
        LiquidTemplateRenderer renderer = Renderer();
        TemplateModel model = Model(("first_name", "Tom & Jerry <tj>"));

        renderer.Render("Hi {{ first_name }}", model, html: false).ShouldBe("Hi Tom & Jerry <tj>");
    }

    [Fact]
    public void Render_NonAsciiInHtml_StaysReadable()
    {
        Renderer().Render("<p>{{ first_name }}</p>", Model(("first_name", "Zoë Ünal")), html: true).ShouldBe("<p>Zoë Ünal</p>");
    }

    [Fact]
    public void Render_RawFilter_OptsOutOfEscaping()
    {
        Renderer().Render("{{ snippet | raw }}", Model(("snippet", "<b>bold</b>")), html: true).ShouldBe("<b>bold</b>");
    }

    [Fact]
    public void Render_Conditional_PicksTheBranchByTagAndField()
    {
        const string Template = "{% if tags contains 'vip' %}VIP{% elsif country == 'DE' %}Hallo{% else %}Hello{% endif %}";
        LiquidTemplateRenderer renderer = Renderer();

        renderer.Render(Template, Model([("country", "DE")], "vip"), html: false).ShouldBe("VIP");
        renderer.Render(Template, Model([("country", "DE")]), html: false).ShouldBe("Hallo");
        renderer.Render(Template, Model([("country", "FR")]), html: false).ShouldBe("Hello");
    }

    [Fact]
    public void Render_LoopOverTags_RendersEachInOrderWithForloop()
    {
        string text = Renderer().Render(
            "{% for tag in tags %}{{ forloop.index }}.{{ tag | upcase }}{% unless forloop.last %}, {% endunless %}{% endfor %}",
            Model([], "buyer", "alpha"),
            html: false);

        text.ShouldBe("1.ALPHA, 2.BUYER");
    }

    [Fact]
    public void Render_Filters_DefaultCapitalizeAndDateFromTheClock()
    {
        LiquidTemplateRenderer renderer = Renderer();

        renderer.Render("Hi {{ first_name | default: 'there' | capitalize }}", Model(("first_name", "")), html: false).ShouldBe("Hi There");
        renderer.Render("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", Model(), html: false).ShouldBe("2026-12-05 10:30");
    }

    [Fact]
    public void Render_UnboundedLoop_StopsAtMaxSteps()
    {
        LiquidTemplateRenderer renderer = Renderer(new LiquidTemplateOptions { MaxSteps = 1_000 });

        Exception error = Should.Throw<Exception>(() => renderer.Render("{% for i in (1..100000000) %}x{% endfor %}", Model(), html: false));

        error.ShouldNotBeOfType<NullReferenceException>();
    }

    [Fact]
    public void Render_MemberOfAString_ExposesNoDotNetMembers()
    {
        // Only strings, arrays of strings and what Liquid defines on them are reachable: no reflection on .NET objects.
        Renderer().Render("[{{ email.Length }}][{{ email.GetType }}]", Model(("email", "a@example.com")), html: false).ShouldBe("[][]");
    }

    [Fact]
    public void GetFields_LoopAssignCapture_ListsOnlyTheVariablesTheTemplateDoesNotBind()
    {
        const string Template = """
            {% assign greeting = 'Hi' %}{% capture who %}{{ first_name | default: email }}{% endcapture %}
            {{ greeting }} {{ who }}{% for tag in tags %}{{ tag }}{{ forloop.index }}{% endfor %}
            {% if country == 'DE' %}{{ unsubscribe_url }}{% endif %}{{ first_name }}{% if tags == empty %}none{% endif %}
            """;

        Renderer().GetFields(Template).ShouldBe(["first_name", "email", "tags", "country", "unsubscribe_url"]);
    }

    [Theory]
    [InlineData("Hi {{ first_name ", "(1:")]
    [InlineData("{% if vip %}yes", "'{% endif %}' was expected at (1:")]
    [InlineData("Line one\n{% for x in %}", "(2:")]
    public void GetFields_SyntaxError_ThrowsFormatExceptionWithThePosition(string template, string expected)
    {
        FormatException error = Should.Throw<FormatException>(() => Renderer().GetFields(template));

        error.Message.ShouldStartWith("Liquid syntax error: ");
        error.Message.ShouldContain(expected);
    }

    [Theory]
    [InlineData("{% include 'footer' %}", "include")]
    [InlineData("{% render 'footer' %}", "render")]
    public void GetFields_IncludeOrRender_IsRejected(string template, string tag)
    {
        Should.Throw<FormatException>(() => Renderer().GetFields(template)).Message.ShouldContain("'{% " + tag + " %}' is not supported");
    }

    [Fact]
    public void GetFields_TooLongTemplate_IsRejected()
    {
        LiquidTemplateRenderer renderer = Renderer(new LiquidTemplateOptions { MaxTemplateLength = 100 });

        Should.Throw<FormatException>(() => renderer.GetFields(new string('x', 101))).Message.ShouldContain("at most 100");
    }

    [Fact]
    public void Render_SameTemplateTwice_ParsesOnce()
    {
        LiquidTemplateRenderer renderer = Renderer();

        renderer.Render("Hi {{ a }}", Model(("a", "1")), html: false).ShouldBe("Hi 1");
        renderer.Render("Hi {{ a }}", Model(("a", "2")), html: true).ShouldBe("Hi 2");
        renderer.GetFields("Hi {{ a }}");

        renderer.CachedCount.ShouldBe(1);
    }

    [Fact]
    public void Render_ManyThreads_RenderTheirOwnValues()
    {
        LiquidTemplateRenderer renderer = Renderer();

        string[] results = [.. Enumerable.Range(0, 200).AsParallel().AsOrdered().Select(i =>
            renderer.Render("{% if n %}{{ n }}{% endif %}", Model(("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))), html: false))];

        results.ShouldBe(Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Render_NullModel_ThrowsArgumentNullNamingIt()
    {
        Should.Throw<ArgumentNullException>(() => Renderer().Render("x", null!, html: false)).ParamName.ShouldBe("model");
    }

    internal static LiquidTemplateRenderer Renderer(LiquidTemplateOptions? options = null) =>
        new(options ?? new LiquidTemplateOptions(), new FakeClock(Now));

    private static TemplateModel Model(params (string Name, string Value)[] fields) => Model(fields, []);

    private static TemplateModel Model((string Name, string Value)[] fields, params string[] tags) => new()
    {
        Fields = fields.ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal),
        Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, tags),
    };
}
