using System.Collections.Immutable;
using System.Net;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Funnel.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>A lead's page: consent history, segments, the score taken apart, and export and erasure through the page.</summary>
public class DashboardLeadTests
{
    private static readonly ScoringModel Model = new()
    {
        Rules =
        [
            new ScoringRule(EventMatch.For(EventTypes.PageViewed, "/sales*"), Points: 20, Cap: 30),
            new ScoringRule(EventMatch.For(EventTypes.EmailClicked), Points: 5, Cap: 25),
        ],
        HalfLife = Duration.FromDays(7),
    };

    private static Task<DashboardHost> StartAsync(Action<FunnelDashboardOptions>? configure = null, bool privacy = true) =>
        DashboardHost.StartAsync("Production", o =>
        {
            o.AuthorizationPolicy = DashboardHost.Policy;
            o.Funnel = DashboardHost.Funnel;
            configure?.Invoke(o);
        }, registerPolicy: true, services =>
        {
            services.AddSingleton(Model);
            services.AddSingleton(new SegmentDefinition("sales-visitors", new PageRule("/sales*")));
            services.AddSingleton(new SegmentDefinition("vip", new TagRule("vip")));
            if (privacy)
            {
                services.AddFunnelPrivacy(o => o.SuppressionKey = "a-suppression-key-of-at-least-32-characters");
            }
        });

    /// <summary>Opts Ann in (with her IP and user agent), then she views the sales page twice and the pipeline scores her.</summary>
    private static async Task<LeadId> AnnAsync(DashboardHost host)
    {
        LeadCapture capture = host.Services.GetRequiredService<LeadCapture>();
        OptInResult optIn = await capture.OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = new LeadMagnet { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide, ConsentText = "Send me the guide and weekly tips." },
            CustomFields = ImmutableDictionary<string, string>.Empty.Add("first_name", "Annabel"),
            IpAddress = "203.0.113.77",
            UserAgent = "Mozilla/5.0 DashboardLeadTests",
        });
        LeadId ann = optIn.Lead.Id;
        IFunnelEventLog log = host.Services.GetRequiredService<IFunnelEventLog>();
        await log.AppendAsync([
            new PageViewed { LeadId = ann, OccurredAt = DashboardHost.Start, Page = "/sales" },
            new PageViewed { LeadId = ann, OccurredAt = DashboardHost.Start + Duration.FromDays(7), Page = "/sales/faq" },
        ]);
        await host.Services.GetRequiredService<FunnelPipeline>().DeliverAllAsync();
        return ann;
    }

    [Fact]
    public async Task LeadPage_ShowsConsentHistorySegmentsAndTheScoreTakenApart()
    {
        await using DashboardHost host = await StartAsync();
        LeadId ann = await AnnAsync(host);
        using HttpClient client = host.Client("admin");

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/leads/" + ann.Value.ToString("D"));

        LeadProfile profile = (await host.Services.GetRequiredService<ILeadStore>().FindAsync(ann)).ShouldNotBeNull();
        profile.Score.ShouldBe(30, "20 a week ago is 10 now, plus 20, within the cap");
        page.ShouldContain("Consent history, oldest first");
        page.ShouldContain("Send me the guide and weekly tips.");
        page.ShouldContain("203.0.113.77");
        page.ShouldContain("<th scope=\"row\">sales-visitors</th><td>yes</td>");
        page.ShouldContain("<th scope=\"row\">vip</th><td>no</td>");
        page.ShouldContain("Score 30 at 2026-12-08T09:00:00Z");
        page.ShouldContain("<th scope=\"row\">page_viewed:/sales*</th><td class=\"num\">2</td><td class=\"num\">30</td><td class=\"num\">&#xB1;30</td><td class=\"num\">30</td>");
        page.ShouldContain("<th scope=\"row\">email_clicked</th><td class=\"num\">0</td>");
    }

    [Fact]
    public async Task Export_ReturnsTheLeadsDataAsAJsonFile()
    {
        await using DashboardHost host = await StartAsync();
        LeadId ann = await AnnAsync(host);
        using HttpClient client = host.Client("admin");

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel-admin/leads/" + ann.Value.ToString("D") + "/export", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        response.Content.Headers.ContentDisposition!.FileName.ShouldBe($"lead-{ann.Value:D}.json");
        string json = await response.Content.ReadAsStringAsync();
        json.ShouldContain("ann@example.com");
        json.ShouldContain("Annabel");
        (await client.GetAsync(new Uri("/funnel-admin/leads/" + Guid.NewGuid().ToString("D") + "/export", UriKind.Relative))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Erase_WithTheTokenAndTheConfirmation_ErasesTheLead_OtherwiseRefuses()
    {
        await using DashboardHost host = await StartAsync();
        LeadId ann = await AnnAsync(host);
        using HttpClient client = host.Client("admin");
        string path = "/funnel-admin/leads/" + ann.Value.ToString("D");
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, path);

        using HttpResponseMessage unconfirmed = await DashboardHost.PostAsync(client, path + "/erase", cookie, ("__RequestVerificationToken", token));
        using HttpResponseMessage forged = await DashboardHost.PostAsync(client, path + "/erase", cookie, ("confirm", "erase"));
        (await host.Services.GetRequiredService<ILeadStore>().FindAsync(ann)).ShouldNotBeNull().ErasedAt.ShouldBeNull();
        using HttpResponseMessage erased = await DashboardHost.PostAsync(client, path + "/erase", cookie, ("confirm", "erase"), ("__RequestVerificationToken", token));

        unconfirmed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unconfirmed.Content.ReadAsStringAsync()).ShouldContain("Tick the confirmation box");
        forged.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        erased.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        erased.Headers.Location!.OriginalString.ShouldBe(path);
        LeadProfile profile = (await host.Services.GetRequiredService<ILeadStore>().FindAsync(ann)).ShouldNotBeNull();
        profile.ErasedAt.ShouldNotBeNull();
        profile.Email.Value.ShouldEndWith("@erased.invalid");
        string after = await DashboardHost.GetPageAsync(client, path);
        after.ShouldNotContain("ann@example.com");
        after.ShouldNotContain("203.0.113.77");
        after.ShouldContain("Erased ");
    }

    [Fact]
    public async Task Erase_ReadOnly_IsRefusedAndTheFormIsNotShown()
    {
        await using DashboardHost host = await StartAsync(o => o.ReadOnly = true);
        LeadId ann = await AnnAsync(host);
        using HttpClient client = host.Client("admin");
        string path = "/funnel-admin/leads/" + ann.Value.ToString("D");

        string page = await DashboardHost.GetPageAsync(client, path);
        using HttpResponseMessage response = await DashboardHost.PostAsync(client, path + "/erase", null, ("confirm", "erase"));

        page.ShouldNotContain("/erase");
        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await host.Services.GetRequiredService<ILeadStore>().FindAsync(ann)).ShouldNotBeNull().ErasedAt.ShouldBeNull();
    }

    [Fact]
    public async Task WithoutPrivacy_ThePageSaysWhatToAdd_AndExportIsNotFound()
    {
        await using DashboardHost host = await StartAsync(privacy: false);
        LeadId ann = await AnnAsync(host);
        using HttpClient client = host.Client("admin");

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/leads/" + ann.Value.ToString("D"));
        using HttpResponseMessage export = await client.GetAsync(new Uri("/funnel-admin/leads/" + ann.Value.ToString("D") + "/export", UriKind.Relative));

        page.ShouldContain("Export and erasure are not set up: call services.AddFunnelPrivacy(o =&gt; o.SuppressionKey = ...).");
        export.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
