using System.Net;
using System.Net.Http.Json;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

/// <summary>A person on two browsers is one lead: the opt-in endpoint and <c>LinkVisitorAsync</c> link the visitor cookie (#19).</summary>
public sealed class IdentityLinkEndpointTests
{
    private const string BlogPost = "/blog/write-a-best-selling-ebook-in-30-days";

    private static readonly FunnelDefinition CrossDevice = FunnelBuilder.Create("cross-device", "Cross-device")
        .WithDefaultStages()
        .AddStep("blog", "Blog readers", "awareness", StepKind.Content, EventMatch.For(EventTypes.PageViewed, "/blog/*"))
        .AddStep("opt-in", "Leads", "interest", StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "quick-start-guide"))
        .AddStep("offer", "Offer page", "decision", StepKind.SalesPage, EventMatch.For(EventTypes.PageViewed, "/masterclass"))
        .Build();

    private static async Task ViewAsync(HttpClient browser, string url)
    {
        using HttpResponseMessage view = await browser.PostAsJsonAsync(new Uri("/funnel/page-view", UriKind.Relative), new { url });
        view.ShouldBeStatus(HttpStatusCode.NoContent);
    }

    private static async Task<LeadId> LeadOfAsync(WebShopFactory shop, string email) =>
        (await shop.Services.GetRequiredService<ILeadStore>().FindByEmailAsync(EmailAddress.Parse(email))).ShouldNotBeNull().Id;

    [Fact]
    public async Task OptIn_SameAddressFromASecondBrowser_LinksItsVisitorAndTheReportCountsOnePerson()
    {
        using var shop = new WebShopFactory();
        using HttpClient laptop = shop.CreateBrowser(), phone = shop.CreateBrowser();
        await ViewAsync(laptop, BlogPost);
        (await WebShopFactory.OptInAsync(laptop, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        LeadId ada = await LeadOfAsync(shop, "ada@example.com");
        shop.Clock.Advance(Duration.FromDays(1));
        await ViewAsync(phone, "/masterclass");
        LeadId phoneVisitor = shop.Events.OfType<PageViewed>().Single(v => v.Page == "/masterclass").LeadId;

        using HttpResponseMessage second = await WebShopFactory.OptInAsync(phone, "ADA@example.com");

        second.ShouldBeStatus(HttpStatusCode.SeeOther);
        phoneVisitor.ShouldNotBe(ada);
        IdentityLinked link = shop.Events.OfType<IdentityLinked>().ShouldHaveSingleItem();
        link.VisitorId.ShouldBe(phoneVisitor);
        link.LeadId.ShouldBe(ada);
        FunnelReport report = new FunnelReporter().CreateReport(CrossDevice, shop.Events);
        report.Overall.Steps.Select(s => s.Reached).ShouldBe([1, 1, 1]);
        // The phone's cookie now names the lead: what it views next is the lead's own event.
        await ViewAsync(phone, "/masterclass/checkout");
        shop.Events.OfType<PageViewed>().Single(v => v.Page == "/masterclass/checkout").LeadId.ShouldBe(ada);
    }

    [Fact]
    public async Task OptIn_SecondAddressOnASharedBrowser_StartsANewLeadAndLinksNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient shared = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(shared, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);

        using HttpResponseMessage bob = await WebShopFactory.OptInAsync(shared, "bob@example.com");

        bob.ShouldBeStatus(HttpStatusCode.SeeOther);
        LeadId bobsLead = await LeadOfAsync(shop, "bob@example.com");
        bobsLead.ShouldNotBe(await LeadOfAsync(shop, "ada@example.com"));
        shop.Events.OfType<IdentityLinked>().ShouldBeEmpty();
        bob.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("funnel_vid=" + bobsLead.Value.ToString("N"), StringComparison.Ordinal));
    }

    /// <summary>The shop with a stand-in login page at <c>/test/login/{leadId}</c> that calls <c>LinkVisitorAsync</c>.</summary>
    private static WebShopFactory ShopWithLogin() => new()
    {
        AddServices = services => services.AddTransient<IStartupFilter, LoginPage>(),
    };

    [Fact]
    public async Task LinkVisitorAsync_AtLogin_LinksTheAnonymousVisitorOnce()
    {
        using WebShopFactory shop = ShopWithLogin();
        using HttpClient laptop = shop.CreateBrowser(), tablet = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(laptop, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        LeadId ada = await LeadOfAsync(shop, "ada@example.com");
        await ViewAsync(tablet, "/masterclass");
        LeadId tabletVisitor = shop.Events.OfType<PageViewed>().Single(v => v.Page == "/masterclass").LeadId;

        string first = await tablet.GetStringAsync(new Uri($"/test/login/{ada}", UriKind.Relative));
        string again = await tablet.GetStringAsync(new Uri($"/test/login/{ada}", UriKind.Relative));

        first.ShouldBe("linked");
        again.ShouldBe("not-linked"); // the cookie names the lead now: nothing left to link
        IdentityLinked link = shop.Events.OfType<IdentityLinked>().ShouldHaveSingleItem();
        link.VisitorId.ShouldBe(tabletVisitor);
        link.LeadId.ShouldBe(ada);
        await ViewAsync(tablet, "/masterclass/checkout");
        shop.Events.OfType<PageViewed>().Single(v => v.Page == "/masterclass/checkout").LeadId.ShouldBe(ada);
    }

    [Fact]
    public async Task LinkVisitorAsync_CookieOfAnotherLead_LinksNothingAndSetsTheCookieToTheLead()
    {
        using WebShopFactory shop = ShopWithLogin();
        using HttpClient laptop = shop.CreateBrowser(), shared = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(laptop, "ada@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        (await WebShopFactory.OptInAsync(shared, "bob@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        LeadId ada = await LeadOfAsync(shop, "ada@example.com");

        using HttpResponseMessage login = await shared.GetAsync(new Uri($"/test/login/{ada}", UriKind.Relative));

        (await login.Content.ReadAsStringAsync()).ShouldBe("not-linked");
        shop.Events.OfType<IdentityLinked>().ShouldBeEmpty();
        login.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("funnel_vid=" + ada.Value.ToString("N"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task LinkVisitorAsync_UnknownLead_ThrowsNamingTheLeadId()
    {
        using WebShopFactory shop = ShopWithLogin();
        using HttpClient browser = shop.CreateBrowser();
        await ViewAsync(browser, BlogPost);

        string answer = await browser.GetStringAsync(new Uri($"/test/login/{LeadId.New()}", UriKind.Relative));

        answer.ShouldBe("ArgumentException: leadId");
        shop.Events.OfType<IdentityLinked>().ShouldBeEmpty();
    }

    /// <summary>A login page as an application would have one, reduced to the call under test.</summary>
    private sealed class LoginPage : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (!context.Request.Path.StartsWithSegments("/test/login", out PathString rest))
                {
                    await nextMiddleware(context);
                    return;
                }

                try
                {
                    bool linked = await context.LinkVisitorAsync(LeadId.Parse(rest.Value!.TrimStart('/')), context.RequestAborted);
                    await context.Response.WriteAsync(linked ? "linked" : "not-linked");
                }
                catch (ArgumentException ex)
                {
                    await context.Response.WriteAsync($"{nameof(ArgumentException)}: {ex.ParamName}");
                }
            });
            next(app);
        };
    }
}
