using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Funnel.Samples.WebShop;

/// <summary>The shop's operators: an admin key signs in with a cookie, and the Funnel dashboard is served behind it.</summary>
/// <remarks>
/// The key comes from configuration (<c>Shop:AdminKey</c>), else it is generated once into the data folder
/// (<c>admin.key</c>) and logged at start-up, so a developer can sign in at <c>/admin/sign-in</c>. A real shop signs its
/// operators in with its own identity provider and names that policy in <c>AddFunnelDashboard</c> instead.
/// </remarks>
public static class ShopAdmin
{
    /// <summary>The authorization policy, and the cookie scheme, of the shop's operators.</summary>
    public const string Policy = "shop-admin";

    /// <summary>Where the dashboard is mapped.</summary>
    public const string DashboardPath = "/funnel-admin";

    private const string SignInPath = "/admin/sign-in";

    /// <summary>Adds the admin cookie, the <c>shop-admin</c> policy and the dashboard.</summary>
    /// <param name="services">The shop's services.</param>
    /// <param name="config">The shop's configuration, for <c>Shop:AdminKey</c>.</param>
    /// <param name="dataFolder">The data folder, where a generated key is kept.</param>
    /// <param name="startup">The start-up log, which names where the generated key is.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddShopAdmin(this IServiceCollection services, IConfiguration config, string dataFolder, ILogger startup)
    {
        string? configured = config["Shop:AdminKey"];
        string key = configured ?? Convert.ToBase64String(ShopKeys.LoadOrCreate(dataFolder, "admin.key"));
        if (configured is null)
        {
            ShopLog.AdminKeyGenerated(startup, Path.Combine(dataFolder, "admin.key"), key, SignInPath);
        }

        services.AddSingleton(new AdminKey(key));
        services.AddAuthentication(Policy).AddCookie(Policy, o =>
        {
            o.Cookie.Name = "shop-admin";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.LoginPath = SignInPath;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
        });
        services.AddAuthorization(o => o.AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Policy)
            .RequireAuthenticatedUser()
            .RequireRole(Policy)));
        services.AddFunnelDashboard(o =>
        {
            o.AuthorizationPolicy = Policy;
            o.Funnel = ShopFunnel.Definition;
        });
        return services;
    }

    /// <summary>Maps the sign-in and sign-out pages and the dashboard at <see cref="DashboardPath"/>.</summary>
    /// <param name="app">The shop.</param>
    /// <returns>The same app.</returns>
    public static WebApplication MapShopAdmin(this WebApplication app)
    {
        app.MapGet(SignInPath, (HttpContext context, string? returnUrl) => SignInPage(context, returnUrl, failed: false));
        app.MapPost(SignInPath, SignInAsync);
        app.MapPost("/admin/sign-out", async (HttpContext context, IAntiforgery antiforgery) =>
        {
            await antiforgery.ValidateRequestAsync(context);
            await context.SignOutAsync(Policy);
            return Results.Redirect("/");
        });
        app.MapFunnelDashboard(DashboardPath);
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, AdminKey adminKey)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            return Html.Error("Please try again", "The form expired. Reload the page and sign in again.", StatusCodes.Status400BadRequest);
        }

        IFormCollection form = await context.Request.ReadFormAsync();
        string? returnUrl = form["returnUrl"];
        if (!adminKey.Matches(form["key"]))
        {
            return SignInPage(context, returnUrl, failed: true);
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "shop admin"), new Claim(ClaimTypes.Role, Policy)], Policy);
        await context.SignInAsync(Policy, new ClaimsPrincipal(identity));
        // Only a local path: an open redirect would let a link send a signed-in admin anywhere.
        bool local = returnUrl is { Length: > 1 } && returnUrl[0] == '/' && returnUrl[1] is not '/' and not '\\';
        return Results.Redirect(local ? returnUrl! : DashboardPath + "/");
    }

    private static IResult SignInPage(HttpContext context, string? returnUrl, bool failed) => Html.Page(
        "Admin sign-in",
        $"""
        <div class="card"><h1>Admin sign-in</h1>
        {(failed ? "<p class=\"deadline\" role=\"alert\">That key is not the admin key.</p>" : "")}
        <form method="post" action="{SignInPath}">{Html.AntiforgeryField(context)}
        <input type="hidden" name="returnUrl" value="{Html.Encode(returnUrl)}">
        <label for="key">Admin key</label><br><input id="key" name="key" type="password" autocomplete="current-password" required>
        <button class="btn" type="submit">Sign in</button></form>
        <p class="muted">The key is Shop:AdminKey, or the one the shop wrote to admin.key in its data folder and logged at start-up.</p></div>
        """,
        statusCode: failed ? StatusCodes.Status401Unauthorized : StatusCodes.Status200OK);

    /// <summary>The admin key, compared in constant time.</summary>
    private sealed class AdminKey(string key)
    {
        private readonly byte[] _key = Encoding.UTF8.GetBytes(key);

        public bool Matches(string? candidate) =>
            candidate is not null && CryptographicOperations.FixedTimeEquals(_key, Encoding.UTF8.GetBytes(candidate));
    }
}
