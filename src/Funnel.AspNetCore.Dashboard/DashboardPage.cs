using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>The dashboard's page shell: navigation, inline style (allowed by its hash), security headers and action forms.</summary>
internal sealed class DashboardPage
{
    /// <summary>The dashboard's only style sheet, inline so the policy allows it by hash and nothing else.</summary>
    internal const string Css =
        "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}"
        + "header{background:#1f3a60;color:#fff;padding:.5rem 1rem}header a{color:#fff;margin-right:1rem}"
        + "main{padding:1rem;max-width:72rem}table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}"
        + "th,td{border:1px solid #d9e2ec;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        + ".num{text-align:right}.kpis{display:flex;flex-wrap:wrap;gap:.5rem}"
        + ".kpi{background:#fff;border:1px solid #d9e2ec;padding:.5rem;min-width:9rem}.kpi b{display:block;font-size:1.3rem}"
        + "form.inline{display:inline}.muted{color:#52606d}a:focus,button:focus,input:focus{outline:3px solid #f0b429}"
        + ".skip{position:absolute;left:-10000px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000}";

    /// <summary>The Content-Security-Policy of every page: nothing but this page's own style, forms posting back here.</summary>
    internal static readonly string ContentSecurityPolicy =
        "default-src 'none'; style-src 'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Css)))
        + "'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static readonly (string Path, string Name)[] Sections =
        [("", "Overview"), ("/email", "Email queue"), ("/sequences", "Sequences"), ("/broadcasts", "Broadcasts"), ("/payments", "Payments"), ("/webhooks", "Webhooks"), ("/experiments", "Experiments"), ("/affiliates", "Affiliates"), ("/pipeline", "Pipeline"), ("/leads", "Leads")];

    private readonly HttpContext _context;

    public DashboardPage(HttpContext context, string prefix, FunnelDashboardOptions options)
    {
        _context = context;
        Options = options;
        Base = context.Request.PathBase.Add(new PathString(prefix.TrimEnd('/'))).Value ?? "";
    }

    /// <summary>Gets the dashboard's path, with the app's path base, without a trailing slash.</summary>
    public string Base { get; }

    public FunnelDashboardOptions Options { get; }

    public HtmlWriter Body { get; } = new();

    public IServiceProvider Services => _context.RequestServices;

    public HttpContext Context => _context;

    /// <summary>Writes a form that posts one action with its hidden fields and the antiforgery token; nothing in read-only mode.</summary>
    public void ActionForm(string action, string label, params (string Name, string? Value)[] fields)
    {
        if (Options.ReadOnly)
        {
            return;
        }

        AntiforgeryTokenSet tokens = Services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(_context);
        Body.Markup("<form class=\"inline\" method=\"post\"").Attribute("action", Base + action).Markup(">");
        Body.Hidden(tokens.FormFieldName, tokens.RequestToken);
        foreach ((string name, string? value) in fields)
        {
            Body.Hidden(name, value);
        }

        Body.Markup("<button type=\"submit\">").Text(label).Markup("</button></form>");
    }

    /// <summary>Writes previous and next links for a list page.</summary>
    public void Pager(string path, int page, bool hasMore, params (string Name, string? Value)[] query)
    {
        if (page <= 1 && !hasMore)
        {
            return;
        }

        Body.Markup("<nav aria-label=\"Pages\"><p>");
        if (page > 1)
        {
            Body.Link(PageLink(path, page - 1, query), "Previous page").Markup(" ");
        }

        Body.Text($"Page {page}");
        if (hasMore)
        {
            Body.Markup(" ").Link(PageLink(path, page + 1, query), "Next page");
        }

        Body.Markup("</p></nav>");
    }

    private string PageLink(string path, int page, (string Name, string? Value)[] query) =>
        Base + path + QueryString.Create(query.Where(q => q.Value is not null).Select(q => KeyValuePair.Create(q.Name, q.Value))
            .Append(KeyValuePair.Create("page", (string?)page.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    /// <summary>Returns the whole page, with the security headers set on the response.</summary>
    public IResult Render(string title, int statusCode = StatusCodes.Status200OK)
    {
        SetSecurityHeaders(_context.Response);
        var html = new HtmlWriter();
        html.Markup("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Markup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Markup("<meta name=\"robots\" content=\"noindex\"><title>").Text(title).Markup(" · Funnel dashboard</title>")
            .Markup("<style>").Markup(Css).Markup("</style></head><body>")
            .Markup("<a class=\"skip\" href=\"#main\">Skip to content</a><header><nav aria-label=\"Dashboard\">");
        foreach ((string path, string name) in Sections)
        {
            html.Link(Base + (path.Length == 0 ? "/" : path), name);
        }

        html.Markup("</nav>");
        if (Options.ReadOnly)
        {
            html.Markup("<span>Read-only</span>");
        }

        html.Markup("</header><main id=\"main\"><h1>").Text(title).Markup("</h1>").Markup(Body.ToString()).Markup("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    internal static void SetSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }
}
