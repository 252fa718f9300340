using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Funnel.Sequences;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardSecurityTests
{
    public static TheoryData<string> Pages => new()
    {
        "/funnel-admin/",
        "/funnel-admin/email",
        "/funnel-admin/webhooks",
        "/funnel-admin/pipeline",
        "/funnel-admin/leads",
        "/funnel-admin/payments",
        "/funnel-admin/experiments",
        "/funnel-admin/affiliates",
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Get_Anonymous_Returns401(string path)
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client(role: null);

        using HttpResponseMessage response = await client.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Get_SignedInWithoutThePolicysRole_Returns403()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client(role: "customer");

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel-admin/", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Post_Anonymous_Returns401AndChangesNothing()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client(role: null);

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/retry", null, ("key", "e:welcome"));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await host.Services.GetRequiredService<ISendOutbox>().FindAsync("e:welcome")).ShouldNotBeNull().State.ShouldBe(SendState.FailedPermanent);
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Get_AnyPage_SendsAStrictContentSecurityPolicyThatAllowsOnlyItsOwnStyle(string path)
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client();

        using HttpResponseMessage response = await client.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        string csp = response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem();
        csp.ShouldContain("default-src 'none'");
        csp.ShouldContain("form-action 'self'");
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldNotContain("unsafe-inline");
        csp.ShouldNotContain("script-src");
        string body = await response.Content.ReadAsStringAsync();
        string style = Regex.Match(body, "<style>(.*?)</style>", RegexOptions.Singleline).Groups[1].Value;
        csp.ShouldContain("style-src 'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(style))) + "'");
        body.ShouldNotContain("<script", Case.Insensitive);
        body.ShouldNotContain(" style=", Case.Insensitive);
        response.Headers.GetValues("X-Frame-Options").ShouldHaveSingleItem().ShouldBe("DENY");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_Returns400AndChangesNothing()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client();

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/retry", null, ("key", "e:welcome"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await host.Services.GetRequiredService<ISendOutbox>().FindAsync("e:welcome")).ShouldNotBeNull().State.ShouldBe(SendState.FailedPermanent);
    }

    [Fact]
    public async Task Post_TokenWithoutItsCookie_Returns400()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client();
        (_, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/email?state=FailedPermanent");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/retry", null,
            ("key", "e:welcome"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ReadOnly_PagesHaveNoFormsAndAValidPostIsRefused()
    {
        await using DashboardHost host = await DashboardHost.StartAsync(o => o.ReadOnly = true);
        await Seeds.FailedSendAsync(host, "e:welcome");
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/email?state=FailedPermanent");
        page.ShouldContain("e:welcome");
        page.ShouldNotContain("<form class=\"inline\" method=\"post\"");
        // A token from a writable dashboard of the same app would still be refused: read-only wins before antiforgery.
        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/email/retry", null, ("key", "e:welcome"));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await host.Services.GetRequiredService<ISendOutbox>().FindAsync("e:welcome")).ShouldNotBeNull().State.ShouldBe(SendState.FailedPermanent);
    }

    [Fact]
    public async Task Start_NoPolicyOutsideDevelopment_FailsNamingTheOption()
    {
        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(
            () => DashboardHost.StartAsync("Production", o => o.AllowAnonymousInDevelopment = true));

        error.Message.ShouldContain("FunnelDashboardOptions.AuthorizationPolicy");
    }

    [Fact]
    public async Task Start_PolicyNotRegistered_FailsNamingIt()
    {
        InvalidOperationException error = await Should.ThrowAsync<InvalidOperationException>(
            () => DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = "ops-team", registerPolicy: false));

        error.Message.ShouldContain("\"ops-team\"");
        error.Message.ShouldContain("AddPolicy");
    }

    [Fact]
    public async Task Start_AnonymousAllowedInDevelopment_ServesWithoutSigningIn()
    {
        await using DashboardHost host = await DashboardHost.StartAsync("Development", o => o.AllowAnonymousInDevelopment = true);
        using HttpClient client = host.Client(role: null);

        (await DashboardHost.GetPageAsync(client, "/funnel-admin/")).ShouldContain("<h1>Overview</h1>");
    }

    [Fact]
    public void MapFunnelDashboard_WithoutAddFunnelDashboard_ThrowsNamingIt()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        using WebApplication app = builder.Build();

        Should.Throw<InvalidOperationException>(() => app.MapFunnelDashboard()).Message.ShouldContain("AddFunnelDashboard");
    }
}
