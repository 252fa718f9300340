using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Funnel.Events;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Tests;

public sealed class OptInEndpointTests
{
    [Fact]
    public async Task OptIn_ValidForm_StoresLeadRedirectsAndHandsOverTheConfirmationLink()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "Ada@Example.com");

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        response.Headers.Location!.ToString().ShouldBe("/check-your-inbox");
        OptedIn optedIn = shop.Events.OfType<OptedIn>().ShouldHaveSingleItem();
        optedIn.Magnet.ShouldBe("quick-start-guide");
        shop.Events.OfType<ConsentRecorded>().ShouldHaveSingleItem().Status.ShouldBe(ConsentStatus.Pending);
        var message = shop.Outbox.Snapshot().ShouldHaveSingleItem();
        message.To.ShouldBe("ada@example.com");
        message.ConfirmationLink!.AbsolutePath.ShouldBe("/funnel/confirm");
        response.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("funnel_vid=" + optedIn.LeadId.Value.ToString("N"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task OptIn_BrowserWithUserAgent_RecordsItWithTheConsentAsProof()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/funnel/opt-in", UriKind.Relative))
        {
            Content = WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", "ada@example.com")),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");

        using HttpResponseMessage response = await client.SendAsync(request);

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        shop.Events.OfType<ConsentRecorded>().ShouldHaveSingleItem().UserAgent.ShouldBe("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
        LeadProfile lead = (await shop.Services.GetRequiredService<ILeadStore>().FindByEmailAsync(EmailAddress.Parse("ada@example.com"))).ShouldNotBeNull();
        ConsentChange change = lead.ConsentHistory.ShouldHaveSingleItem();
        change.UserAgent.ShouldBe("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
        change.Status.ShouldBe(ConsentStatus.Pending);
        change.Source.ShouldBe("quick-start-guide");
    }

    [Fact]
    public async Task OptIn_ForgedHostHeader_ConfirmationLinkStaysOnThePublicOrigin()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/funnel/opt-in", UriKind.Relative))
        {
            Content = WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", "ada@example.com")),
        };
        request.Headers.Host = "evil.example";

        using HttpResponseMessage response = await client.SendAsync(request);

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        Uri link = shop.Outbox.Snapshot().ShouldHaveSingleItem().ConfirmationLink!;
        link.GetLeftPart(UriPartial.Authority).ShouldBe("http://localhost");
        link.AbsolutePath.ShouldBe("/funnel/confirm");
    }

    [Theory]
    [InlineData("not-an-email", "email")]
    [InlineData("", "email")]
    public async Task OptIn_BadEmail_Returns400NamingEmailAndStoresNothing(string email, string field)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, email);

        await response.ShouldBeProblemForAsync(field);
        shop.Events.ShouldBeEmpty();
        shop.Outbox.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_UnknownMagnet_Returns400NamingMagnet()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "free-car"), ("email", "ada@example.com")));

        (await response.ShouldBeProblemForAsync("magnet")).ShouldContain("free-car");
        shop.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_UnknownTimeZone_Returns400NamingTimezoneAndStoresNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com", ("timezone", "Mars/Olympus_Mons"));

        await response.ShouldBeProblemForAsync("timezone");
        shop.Events.ShouldBeEmpty();
        shop.Outbox.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_WithoutAntiforgeryToken_Returns400NamingTheTokenField()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative),
            WebShopFactory.Form(("magnet", "quick-start-guide"), ("email", "ada@example.com")));

        await response.ShouldBeProblemForAsync("__RequestVerificationToken");
        shop.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_TamperedAntiforgeryToken_Returns400()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        string tampered = (token[0] == 'A' ? "B" : "A") + token[1..];

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", tampered), ("magnet", "quick-start-guide"), ("email", "ada@example.com")));

        await response.ShouldBeProblemForAsync("__RequestVerificationToken");
        shop.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_TokenFromAnotherBrowser_Returns400()
    {
        using var shop = new WebShopFactory();
        using HttpClient first = shop.CreateBrowser();
        using HttpClient second = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(first);
        await WebShopFactory.AntiforgeryTokenAsync(second);

        using HttpResponseMessage response = await second.PostAsync(new Uri("/funnel/opt-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", "ada@example.com")));

        await response.ShouldBeProblemForAsync("__RequestVerificationToken");
    }

    [Fact]
    public async Task OptIn_HoneypotFilled_AnswersLikeSuccessAndStoresNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "bot@example.com", ("website", "http://spam.example"));

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        response.Headers.Location!.ToString().ShouldBe("/check-your-inbox");
        shop.Events.ShouldBeEmpty();
        shop.Outbox.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task OptIn_JsonInsteadOfForm_Returns400NamingForm()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsJsonAsync(new Uri("/funnel/opt-in", UriKind.Relative), new { email = "ada@example.com" });

        await response.ShouldBeProblemForAsync("form");
    }

    [Fact]
    public async Task OptIn_UtmFields_RecordsTheAttribution()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com",
            ("utm_source", "Newsletter"), ("utm_medium", "email"), ("utm_campaign", "spring-launch"));

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        Attribution attribution = shop.Events.OfType<OptedIn>().Single().Attribution;
        attribution.Channel.ShouldBe("newsletter");
        attribution.Medium.ShouldBe("email");
        attribution.Campaign.ShouldBe("spring-launch");
    }

    [Fact]
    public async Task OptIn_PostedWithATrailingSlash_ConfirmationLinkStillPointsAtTheConfirmEndpoint()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/opt-in/", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", "ada@example.com")));

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        Uri link = shop.Outbox.Snapshot().ShouldHaveSingleItem().ConfirmationLink!;
        link.AbsolutePath.ShouldBe("/funnel/confirm");
        (await client.GetAsync(WebShopFactory.Relative(link))).ShouldBeStatus(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task OptIn_UtmFieldsWithoutSource_UsesTheFormNotTheReferer()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/funnel/opt-in", UriKind.Relative))
        {
            Content = WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", "quick-start-guide"), ("email", "ada@example.com"),
                ("utm_medium", "email"), ("utm_campaign", "spring-launch")),
        };
        request.Headers.Referrer = new Uri("http://localhost/blog/post?utm_source=google&utm_campaign=old-ad");

        using HttpResponseMessage response = await client.SendAsync(request);

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        Attribution attribution = shop.Events.OfType<OptedIn>().Single().Attribution;
        attribution.Source.ShouldBeNull();
        attribution.Medium.ShouldBe("email");
        attribution.Campaign.ShouldBe("spring-launch");
    }

    [Fact]
    public async Task OptIn_AfterPageViewWithVisitorCookie_UsesTheVisitorIdAsLeadId()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        using HttpResponseMessage view = await client.PostAsJsonAsync(new Uri("/funnel/page-view", UriKind.Relative), new { url = "/blog/write-a-best-selling-ebook-in-30-days" });
        view.ShouldBeStatus(HttpStatusCode.NoContent);

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com");

        response.ShouldBeStatus(HttpStatusCode.SeeOther);
        shop.Events.OfType<OptedIn>().Single().LeadId.ShouldBe(shop.Events.OfType<PageViewed>().Single().LeadId);
    }

    [Fact]
    public async Task OptIn_NoRedirectConfigured_Answers202WithoutLeadDetails()
    {
        using var shop = new WebShopFactory();
        using var plain = shop.WithWebHostBuilder(b => b.ConfigureServices(s =>
            Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.PostConfigure<FunnelAspNetCoreOptions>(s, o => o.OptInRedirect = null)));
        using HttpClient client = plain.CreateClient(new() { AllowAutoRedirect = false });

        using HttpResponseMessage response = await WebShopFactory.OptInAsync(client, "ada@example.com");

        response.ShouldBeStatus(HttpStatusCode.Accepted);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().ShouldBe("accepted");
        body.EnumerateObject().Count().ShouldBe(1);
    }
}
