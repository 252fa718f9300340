using Funnel.AspNetCore;

namespace Funnel.Samples.WebShop;

/// <summary>Reads and sets the first-party visitor cookie that <c>MapFunnel</c>'s endpoints also use.</summary>
internal static class Visitor
{
    public static LeadId? Read(HttpContext context, FunnelAspNetCoreOptions options) =>
        Guid.TryParse(context.Request.Cookies[options.VisitorCookieName], out Guid id) && id != Guid.Empty ? new LeadId(id) : null;

    public static LeadId Ensure(HttpContext context, FunnelAspNetCoreOptions options)
    {
        if (Read(context, options) is { } known)
        {
            return known;
        }

        LeadId created = LeadId.New();
        context.Response.Cookies.Append(options.VisitorCookieName, created.Value.ToString("N"), new CookieOptions
        {
            HttpOnly = true,
            IsEssential = true,
            SameSite = SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
            MaxAge = TimeSpan.FromDays(365),
        });
        return created;
    }
}
