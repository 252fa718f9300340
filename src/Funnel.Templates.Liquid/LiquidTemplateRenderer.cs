using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using Fluid.Ast;
using Fluid.Values;
using Funnel.Email;
using NodaTime;

namespace Funnel.Templates.Liquid;

/// <summary>An <see cref="ITemplateRenderer"/> on Liquid (Fluid): each field is a variable, <c>tags</c> an array.</summary>
/// <remarks>
/// <para>
/// The model holds strings only: every field of <see cref="TemplateModel.Fields"/> is a top-level string variable and
/// <c>tags</c> is an array of strings. No .NET object is exposed and no member accessor is registered, so a
/// template can read nothing else. <c>include</c> and <c>render</c> are rejected (there are no template files).
/// </para>
/// <para>
/// Templates are parsed once and cached by their text (up to <see cref="MaxCachedTemplates"/>, after which new
/// ones are parsed on every call). Values are HTML-encoded in HTML bodies (the <c>raw</c> filter opts out), never in
/// subjects and plain text. Dates from <c>'now'</c> come from the injected <see cref="IClock"/>, in UTC, and
/// numbers and dates are formatted with the invariant culture.
/// </para>
/// </remarks>
/// <threadsafety>Instances are safe to share between threads.</threadsafety>
internal sealed class LiquidTemplateRenderer : ITemplateRenderer
{
    internal const int MaxCachedTemplates = 4096;

    private static readonly FluidParser Parser = new();
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly FrozenNames LoopVariables = new(["forloop", "tablerowloop", "empty", "blank", "nil", "null"]);

    private readonly TemplateOptions _options;
    private readonly int _maxTemplateLength;
    private readonly ConcurrentDictionary<string, Parsed> _cache = new(StringComparer.Ordinal);

    public LiquidTemplateRenderer(LiquidTemplateOptions options, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        _maxTemplateLength = options.MaxTemplateLength;
        _options = new TemplateOptionsBuilder()
            .WithMemberAccessStrategy(static () => new DefaultMemberAccessStrategy())
            .WithMaxSteps(options.MaxSteps)
            .WithMaxOutputSize(options.MaxOutputLength)
            .WithMaxCollectionSize(options.MaxSteps)
            .WithMaxRecursion(20)
            .WithCultureInfo(CultureInfo.InvariantCulture)
            .WithTimeZone(TimeZoneInfo.Utc)
            .WithNow(() => clock.GetCurrentInstant().ToDateTimeOffset())
            .Build();
    }

    /// <summary>Gets how many parsed templates are cached, for tests.</summary>
    internal int CachedCount => _cache.Count;

    /// <inheritdoc/>
    public ImmutableArray<string> GetFields(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text).Fields;
    }

    /// <inheritdoc/>
    public string Render(string text, TemplateModel model, bool html)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(model.Fields, "model.Fields");
        Parsed parsed = Parse(text);
        TemplateContext context = new(_options, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> field in model.Fields)
        {
            context.SetValue(field.Key, StringValue.Create(field.Value ?? string.Empty));
        }

        ImmutableSortedSet<string> tags = model.Tags ?? [];
        context.SetValue("tags", ArrayValue.Create([.. tags.Select(static t => StringValue.Create(t))]));
        return parsed.Template.Render(context, html ? Html : NullEncoder.Default, true);
    }

    private Parsed Parse(string text)
    {
        if (_cache.TryGetValue(text, out Parsed? cached))
        {
            return cached;
        }

        if (text.Length > _maxTemplateLength)
        {
            throw new FormatException($"The Liquid template is {text.Length} characters long; at most {_maxTemplateLength} are allowed.");
        }

        if (!Parser.TryParse(text, out IFluidTemplate? template, out string? error))
        {
            // Fluid's message reads "'{% endif %}' was expected at (1:31)" followed by the source: keep the first line.
            string first = (error ?? "unknown error").Split('\n')[0].Trim();
            throw new FormatException("Liquid syntax error: " + first + " (line:column).");
        }

        FreeVariables walker = new();
        walker.VisitTemplate(template);
        if (walker.Unsupported is { } tag)
        {
            throw new FormatException($"The Liquid tag '{{% {tag} %}}' is not supported in email templates: there are no template files.");
        }

        Parsed parsed = new(template, walker.Free());
        if (_cache.Count < MaxCachedTemplates)
        {
            _cache.TryAdd(text, parsed);
        }

        return parsed;
    }

    private sealed record Parsed(IFluidTemplate Template, ImmutableArray<string> Fields);

    /// <summary>Collects the variables a template reads that it does not bind itself (loop variables, assign, capture).</summary>
    private sealed class FreeVariables : AstVisitor
    {
        private readonly List<string> _used = [];
        private readonly HashSet<string> _bound = new(StringComparer.Ordinal);

        public string? Unsupported { get; private set; }

        public ImmutableArray<string> Free() =>
            [.. _used.Where(n => !_bound.Contains(n) && !LoopVariables.Contains(n)).Distinct(StringComparer.Ordinal)];

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            if (memberExpression.Segments.Count > 0 && memberExpression.Segments[0] is IdentifierSegment root)
            {
                _used.Add(root.Identifier);
            }

            return base.VisitMemberExpression(memberExpression);
        }

        protected override Statement VisitForStatement(ForStatement forStatement)
        {
            _bound.Add(forStatement.Identifier);
            return base.VisitForStatement(forStatement);
        }

        protected override Statement VisitTableRowStatement(TableRowStatement tableRowStatement)
        {
            _bound.Add(tableRowStatement.Identifier);
            return base.VisitTableRowStatement(tableRowStatement);
        }

        protected override Statement VisitAssignStatement(AssignStatement assignStatement)
        {
            _bound.Add(assignStatement.Identifier);
            return base.VisitAssignStatement(assignStatement);
        }

        protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
        {
            _bound.Add(captureStatement.Identifier);
            return base.VisitCaptureStatement(captureStatement);
        }

        protected override Statement VisitIncrementStatement(IncrementStatement incrementStatement)
        {
            _bound.Add(incrementStatement.Identifier);
            return base.VisitIncrementStatement(incrementStatement);
        }

        protected override Statement VisitDecrementStatement(DecrementStatement decrementStatement)
        {
            _bound.Add(decrementStatement.Identifier);
            return base.VisitDecrementStatement(decrementStatement);
        }

        protected override Statement VisitIncludeStatement(IncludeStatement includeStatement)
        {
            Unsupported ??= "include";
            return includeStatement;
        }

        protected override Statement VisitRenderStatement(RenderStatement renderStatement)
        {
            Unsupported ??= "render";
            return renderStatement;
        }
    }

    private sealed class FrozenNames(string[] names)
    {
        public bool Contains(string name) => Array.IndexOf(names, name) >= 0;
    }
}
