using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;

namespace Funnel.Samples.WebShop;

/// <summary>Renders the shop's server-side HTML: one layout, inline CSS, no CDN.</summary>
internal static class Html
{
    private const string Css = """
        *{box-sizing:border-box}body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f7fa}
        header{background:#1f3a60;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
        header a{color:#fff;text-decoration:none;font-weight:600}header nav a{margin-left:1rem;font-weight:400;opacity:.85}
        main{max-width:60rem;margin:2rem auto;padding:0 1.5rem}
        .card{background:#fff;border-radius:.6rem;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1.5rem;margin-bottom:1.5rem}
        h1{font-size:2rem;line-height:1.2;margin:.2rem 0 1rem}h2{margin-top:0}
        .tiers{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem}
        .tier{border:2px solid #d9e2ec;border-radius:.6rem;padding:1.2rem;background:#fff;display:flex;flex-direction:column}
        .tier.featured{border-color:#2f80ed}.tier .price{font-size:2rem;font-weight:700;margin:.3rem 0}.tier ul{padding-left:1.2rem;flex:1}
        .muted{color:#52606d;font-size:.92rem}
        .btn{display:inline-block;background:#2a6bd1;color:#fff;border:0;border-radius:.4rem;padding:.7rem 1.2rem;font-size:1rem;font-weight:600;cursor:pointer;text-decoration:none;margin:.2rem .4rem .2rem 0}
        .btn.secondary{background:#e4e7eb;color:#1f2933}.btn.accept{background:#1d7a45}
        input[type=email]{width:100%;max-width:24rem;padding:.65rem;border:1px solid #bcccdc;border-radius:.4rem;font-size:1rem}
        .optin{background:#fff8e1;border:2px dashed #f0b429}.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
        .deadline{background:#fde8e8;border-left:4px solid #e12d39;padding:.8rem 1rem;border-radius:.3rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e4e7eb}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .bump{display:block;background:#fffbea;border:2px dashed #f0b429;padding:1rem;border-radius:.4rem;margin:1rem 0}
        .kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:1rem}.kpi{background:#fff;border-radius:.5rem;padding:1rem;box-shadow:0 1px 3px rgba(0,0,0,.1)}.kpi b{display:block;font-size:1.6rem}
        """;

    private const string TrackScript = """
        <script>
        fetch('/funnel/page-view',{method:'POST',headers:{'Content-Type':'application/json'},credentials:'same-origin',keepalive:true,
          body:JSON.stringify({url:location.href,title:document.title,referrer:document.referrer})})
          .then(function(r){document.body.dataset.tracked=r.status;});
        </script>
        """;

    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? string.Empty);

    public static string Usd(Money money) =>
        "$" + money.ToMajor().ToString(money.MinorUnits % 100 == 0 ? "#,##0" : "#,##0.00", CultureInfo.InvariantCulture);

    public static string AntiforgeryField(HttpContext context)
    {
        IAntiforgery antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        AntiforgeryTokenSet tokens = antiforgery.GetAndStoreTokens(context);
        return $"""<input type="hidden" name="{Encode(tokens.FormFieldName)}" value="{Encode(tokens.RequestToken)}">""";
    }

    public static IResult Page(string title, string body, bool track = false, int statusCode = StatusCodes.Status200OK) =>
        Results.Content($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>{{Encode(title)}} · E-Book Masterclass</title><style>{{Css}}</style></head>
            <body><header><a href="/">The E-Book Masterclass</a><nav><a href="{{ShopFunnel.BlogPost}}">Blog</a><a href="/sales">Masterclass</a><a href="/admin">Admin</a></nav></header>
            <main>{{body}}</main>{{(track ? TrackScript : string.Empty)}}</body></html>
            """, "text/html; charset=utf-8", statusCode: statusCode);

    public static IResult Error(string title, string message, int statusCode) =>
        Page(title, $"""<div class="card"><h1>{Encode(title)}</h1><p>{Encode(message)}</p><p><a href="/">Back to the start</a></p></div>""", statusCode: statusCode);
}
