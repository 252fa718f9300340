using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Funnel.AspNetCore.Dashboard;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>A minimal app with the dashboard at <c>/funnel-admin</c> behind the <c>funnel-admin</c> policy (role <c>admin</c>).</summary>
internal sealed partial class DashboardHost : IAsyncDisposable
{
    public const string Policy = "funnel-admin";

    public static readonly Instant Start = Instant.FromUtc(2026, 12, 1, 9, 0);

    public static FunnelDefinition Funnel { get; } = FunnelBuilder.Create("blog", "Blog to guide")
        .WithDefaultStages()
        .AddStep("visit", "Blog visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("opt-in", "Guide downloads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
        .Build();

    private DashboardHost(WebApplication app, FakeClock clock)
    {
        App = app;
        Clock = clock;
    }

    public WebApplication App { get; }

    public FakeClock Clock { get; }

    public IServiceProvider Services => App.Services;

    public static Task<DashboardHost> StartAsync(Action<FunnelDashboardOptions>? configure = null) =>
        StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = Policy;
            o.Funnel = Funnel;
            configure?.Invoke(o);
        });

    public static async Task<DashboardHost> StartAsync(string environment, Action<FunnelDashboardOptions> configure, bool registerPolicy = true)
    {
        return await StartAsync(environment, configure, registerPolicy, services => { });
    }

    public static async Task<DashboardHost> StartAsync(string environment, Action<FunnelDashboardOptions> configure, bool registerPolicy,
        Action<IServiceCollection> services)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var clock = new FakeClock(Start);
        builder.Services.AddSingleton<IClock>(clock);
        builder.Services.AddFunnel();
        builder.Services.AddFunnelSequences();
        builder.Services.AddFunnelCommerce();
        builder.Services.AddAuthentication(TestAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TestAuthentication>(TestAuthentication.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            if (registerPolicy)
            {
                o.AddPolicy(Policy, p => p.RequireAuthenticatedUser().RequireRole("admin"));
            }
        });
        builder.Services.AddFunnelDashboard(configure);
        services(builder.Services);
        WebApplication app = builder.Build();
        try
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapFunnelDashboard("/funnel-admin");
            await app.StartAsync();
            return new DashboardHost(app, clock);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client whose requests carry the given role (none: anonymous).</summary>
    public HttpClient Client(string? role = "admin")
    {
        HttpClient client = App.GetTestClient();
        if (role is not null)
        {
            client.DefaultRequestHeaders.Add(TestAuthentication.RoleHeader, role);
        }

        return client;
    }

    public static async Task<string> GetPageAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(new Uri(path, UriKind.Relative));
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        return body;
    }

    /// <summary>Reads a page's antiforgery cookie and form token, as a browser would keep them.</summary>
    public static async Task<(string Cookie, string Token)> AntiforgeryAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(new Uri(path, UriKind.Relative));
        string body = await response.Content.ReadAsStringAsync();
        string cookie = response.Headers.GetValues("Set-Cookie").First(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)).Split(';')[0];
        string token = WebUtility.HtmlDecode(TokenField().Match(body).Groups[1].Value);
        token.ShouldNotBeNullOrEmpty();
        return (cookie, token);
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? cookie, params (string Name, string Value)[] fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return await client.SendAsync(request);
    }

    public async Task<LeadProfile> AddLeadAsync(string email, Action<LeadProfileBuilder>? shape = null)
    {
        var lead = new LeadProfile { Id = new LeadId(Guid.NewGuid()), Email = EmailAddress.Parse(email), CreatedAt = Start };
        var builder = new LeadProfileBuilder(lead);
        shape?.Invoke(builder);
        (await Services.GetRequiredService<ILeadStore>().TryAddAsync(builder.Profile)).ShouldBeTrue();
        return builder.Profile;
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    /// <summary>Shapes a lead before it is stored.</summary>
    internal sealed class LeadProfileBuilder(LeadProfile profile)
    {
        public LeadProfile Profile { get; set; } = profile;
    }

    /// <summary>Authenticates a request that names its role in a header; anything else is anonymous.</summary>
    private sealed class TestAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Test";
        public const string RoleHeader = "X-Test-Role";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(RoleHeader, out Microsoft.Extensions.Primitives.StringValues role))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, role.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
