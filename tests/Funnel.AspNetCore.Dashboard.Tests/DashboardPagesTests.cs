using System.Net;
using Funnel.Kpis;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

public class DashboardPagesTests
{
    [Fact]
    public async Task EveryPage_AdminWithData_Renders200()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1);
        await Seeds.FailedSendAsync(host, "e:welcome");
        await Seeds.FailedWebhookAsync(host);
        await Seeds.ParkedEventAsync(host);
        LeadProfile lead = await host.AddLeadAsync("ada@example.com");
        using HttpClient client = host.Client();

        foreach (string path in new[]
        {
            "/funnel-admin/", "/funnel-admin/email", "/funnel-admin/email?state=FailedPermanent", "/funnel-admin/email?state=Nonsense",
            "/funnel-admin/webhooks", "/funnel-admin/pipeline", "/funnel-admin/leads", "/funnel-admin/leads?email=ada%40example.com",
            "/funnel-admin/leads?email=nobody%40example.com", $"/funnel-admin/leads/{lead.Id.Value}",
            "/funnel-admin/payments", "/funnel-admin/experiments", "/funnel-admin/affiliates",
        })
        {
            string page = await DashboardHost.GetPageAsync(client, path);
            page.ShouldStartWith("<!DOCTYPE html>");
            page.ShouldContain("<main id=\"main\">");
        }
    }

    [Fact]
    public async Task Overview_Events_ShowsTheReportersFiguresInTheChartAndTable()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1);
        FunnelReport expected = host.Services.GetRequiredService<IFunnelReporter>().CreateReport(
            DashboardHost.Funnel, ((InMemoryFunnelEventLog)host.Services.GetRequiredService<IFunnelEventLog>()).Snapshot());
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        expected.Overall.Steps.Select(s => s.Reached).ShouldBe([4L, 1L]);
        page.ShouldContain("<svg id=\"funnel-chart\" role=\"img\"");
        page.ShouldContain("Blog visitors: 4");
        page.ShouldContain("Guide downloads: 1");
        page.ShouldContain("<th scope=\"row\">Guide downloads</th><td class=\"num\">1</td><td class=\"num\">25%</td><td class=\"num\">3</td>");
        page.ShouldContain("Computed from the whole event log, up to position 5.");
    }

    [Fact]
    public async Task Overview_MoreEventsThanMaxReportEvents_CountsTheWholeLog()
    {
        await using DashboardHost host = await DashboardHost.StartAsync(o => o.MaxReportEvents = 3);
        await Seeds.FunnelEventsAsync(host, visitors: 4, optIns: 1);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/");

        page.ShouldContain("Computed from the whole event log, up to position 5.");
        page.ShouldContain("Entered the funnel<b>4</b>");
        page.ShouldNotContain("Computed from the first");
    }

    [Fact]
    public async Task HostileValues_OnEveryPage_AreEncoded()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 2, optIns: 1);
        await Seeds.FailedSendAsync(host, "e:<b>key</b>");
        await Seeds.FailedWebhookAsync(host);
        await Seeds.ParkedEventAsync(host);
        LeadProfile lead = await host.AddLeadAsync("o'hara+x@example.com", b => b.Profile = b.Profile with
        {
            Tags = [Seeds.Hostile],
            CustomFields = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [KeyValuePair.Create("first_name", Seeds.Hostile)]),
        });
        using HttpClient client = host.Client();

        foreach (string path in new[]
        {
            "/funnel-admin/", "/funnel-admin/email?state=FailedPermanent", "/funnel-admin/webhooks", "/funnel-admin/pipeline",
            $"/funnel-admin/leads/{lead.Id.Value}", "/funnel-admin/leads?email=" + Uri.EscapeDataString("o'hara+x@example.com"),
        })
        {
            string page = await DashboardHost.GetPageAsync(client, path);
            page.ShouldNotContain("<script", Case.Insensitive, path);
            page.ShouldNotContain("<b>key", Case.Insensitive, path);
            page.ShouldNotContain("o'hara", Case.Sensitive, path);
        }

        string leadPage = await DashboardHost.GetPageAsync(client, $"/funnel-admin/leads/{lead.Id.Value}");
        leadPage.ShouldContain("&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;");
        leadPage.ShouldContain("o&#x27;hara");
        (await DashboardHost.GetPageAsync(client, "/funnel-admin/email?state=FailedPermanent")).ShouldContain("e:&lt;b&gt;key&lt;/b&gt;");
    }

    [Fact]
    public async Task Leads_SearchByEmail_LinksToTheLeadWhoseTimelineListsItsEvents()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.FunnelEventsAsync(host, visitors: 1, optIns: 1);
        LeadId id = new(new Guid(100, 0, 0, new byte[8]));
        await host.Services.GetRequiredService<ILeadStore>().TryAddAsync(new LeadProfile { Id = id, Email = EmailAddress.Parse("ada@example.com"), CreatedAt = DashboardHost.Start });
        using HttpClient client = host.Client();

        string search = await DashboardHost.GetPageAsync(client, "/funnel-admin/leads?email=ADA%40example.com");
        string timeline = await DashboardHost.GetPageAsync(client, $"/funnel-admin/leads/{id.Value}");

        search.ShouldContain($"href=\"/funnel-admin/leads/{id.Value}\"");
        timeline.ShouldContain("<td>page_viewed</td>");
        timeline.ShouldContain("<td>opted_in</td>");
    }

    [Fact]
    public async Task Leads_UnknownId_Returns404()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        using HttpClient client = host.Client();

        using HttpResponseMessage response = await client.GetAsync(new Uri($"/funnel-admin/leads/{Guid.NewGuid()}", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EmailQueue_MoreThanAPage_PagesWithPageSize()
    {
        await using DashboardHost host = await DashboardHost.StartAsync(o => o.PageSize = 2);
        for (int i = 0; i < 3; i++)
        {
            await Seeds.FailedSendAsync(host, $"e:step-{i}", SendState.Pending, DashboardHost.Start + Duration.FromMinutes(i));
        }

        using HttpClient client = host.Client();

        string first = await DashboardHost.GetPageAsync(client, "/funnel-admin/email?state=Pending");
        string second = await DashboardHost.GetPageAsync(client, "/funnel-admin/email?state=Pending&page=2");

        first.ShouldContain("e:step-0");
        first.ShouldContain("e:step-1");
        first.ShouldNotContain("e:step-2");
        first.ShouldContain("href=\"/funnel-admin/email?state=Pending&amp;page=2\"");
        second.ShouldContain("e:step-2");
        second.ShouldNotContain("e:step-0");
    }

    [Fact]
    public async Task Pipeline_ParkedEvent_ShowsHandlerStatusAndTheParkedEvent()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        await Seeds.ParkedEventAsync(host);
        using HttpClient client = host.Client();

        string page = await DashboardHost.GetPageAsync(client, "/funnel-admin/pipeline");

        page.ShouldContain("<caption>Handlers</caption>");
        page.ShouldContain("<td>crm-sync</td><td class=\"num\">42</td>");
        page.ShouldContain("name=\"handler\" value=\"crm-sync\"");
    }
}
