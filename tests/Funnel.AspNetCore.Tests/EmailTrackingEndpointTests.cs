using System.Net;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Tests;

public sealed class EmailTrackingEndpointTests
{
    private static readonly byte[] GifSignature = "GIF89a"u8.ToArray();

    [Fact]
    public async Task Open_ValidToken_ReturnsTheGifAndRecordsTheOpen()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);

        using HttpResponseMessage response = await client.GetAsync(WebShopFactory.Relative(Links(shop).OpenPixel(lead, "nurture-1")));

        await ShouldBePixelAsync(response);
        EmailOpened opened = shop.Events.OfType<EmailOpened>().ShouldHaveSingleItem();
        (opened.LeadId, opened.Email, opened.OccurredAt).ShouldBe((lead, "nurture-1", WebShopFactory.Start));
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("eyJBIjowfQ.AAAA")]
    public async Task Open_InvalidToken_StillReturnsTheGifButRecordsNothing(string token)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/email/open/" + token, UriKind.Relative));

        await ShouldBePixelAsync(response);
        shop.Events.OfType<EmailOpened>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Open_ClickTokenAsPixel_RecordsNoOpen()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = Token(Links(shop).Click(LeadId.New(), "nurture-1", new Uri("http://localhost/sales")));

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/email/open/" + token, UriKind.Relative));

        await ShouldBePixelAsync(response);
        shop.Events.OfType<EmailOpened>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Click_ValidToken_RedirectsToTheSignedTargetAndRecordsTheClick()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = LeadId.New();
        Uri link = Links(shop).Click(lead, "nurture-1", new Uri("http://localhost/sales?utm_source=email"));

        // A target in the query string is ignored: only the signed one counts.
        using HttpResponseMessage response = await client.GetAsync(new Uri(link.AbsolutePath + "?url=https://evil.example/", UriKind.Relative));

        response.ShouldBeStatus(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldBe(new Uri("http://localhost/sales?utm_source=email"));
        EmailClicked clicked = shop.Events.OfType<EmailClicked>().ShouldHaveSingleItem();
        (clicked.LeadId, clicked.Email, clicked.Url).ShouldBe((lead, "nurture-1", "http://localhost/sales?utm_source=email"));
    }

    [Fact]
    public async Task Click_TamperedTarget_Returns400AndNeverRedirects()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = Token(Links(shop).Click(LeadId.New(), "nurture-1", new Uri("http://localhost/sales")));
        string payload = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(0, token.IndexOf('.'))));
        string evil = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(payload.Replace("http://localhost/sales", "https://evil.example/", StringComparison.Ordinal)));
        string tampered = evil + token[token.IndexOf('.')..];

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/email/click/" + tampered, UriKind.Relative));

        response.Headers.Location.ShouldBeNull();
        (await response.ShouldBeProblemForAsync("token")).ShouldContain("invalid");
        shop.Events.OfType<EmailClicked>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Click_ForeignUrlSignedWithAnotherKey_Returns400AndNeverRedirects()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        var foreign = new TrackingLinks(new TrackingOptions { BaseUrl = "http://localhost/funnel/email", SigningKey = new string('k', 40) });
        Uri link = foreign.Click(LeadId.New(), "nurture-1", new Uri("https://evil.example/"));

        using HttpResponseMessage response = await client.GetAsync(WebShopFactory.Relative(link));

        response.Headers.Location.ShouldBeNull();
        await response.ShouldBeProblemForAsync("token");
        shop.Events.OfType<EmailClicked>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Click_OpenTokenInsteadOfClickToken_Returns400()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = Token(Links(shop).OpenPixel(LeadId.New(), "nurture-1"));

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/email/click/" + token, UriKind.Relative));

        await response.ShouldBeProblemForAsync("token");
    }

    [Fact]
    public async Task UnsubscribePage_ValidToken_ShowsAOneClickForm()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        Uri link = Links(shop).Unsubscribe(LeadId.New(), "nurture-1");

        string html = await client.GetStringAsync(WebShopFactory.Relative(link));

        html.ShouldContain($"""action="{link.AbsolutePath}""");
        html.ShouldContain("""name="List-Unsubscribe" value="One-Click""");
    }

    [Fact]
    public async Task UnsubscribePage_TamperedToken_Returns400()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string token = Token(Links(shop).Unsubscribe(LeadId.New(), "nurture-1"));

        using HttpResponseMessage response = await client.GetAsync(new Uri("/funnel/email/unsubscribe/" + token[..^2] + "xx", UriKind.Relative));

        await response.ShouldBeProblemForAsync("token");
    }

    [Fact]
    public async Task Unsubscribe_OneClickPostTwice_UnsubscribesTheLeadOnce()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        Uri link = Links(shop).Unsubscribe(lead, "nurture-2");

        using HttpResponseMessage first = await client.PostAsync(WebShopFactory.Relative(link), OneClick());
        shop.Clock.AdvanceMinutes(5);
        using HttpResponseMessage second = await client.PostAsync(WebShopFactory.Relative(link), OneClick());

        first.ShouldBeStatus(HttpStatusCode.OK);
        second.ShouldBeStatus(HttpStatusCode.OK);
        EmailUnsubscribed unsubscribed = shop.Events.OfType<EmailUnsubscribed>().ShouldHaveSingleItem();
        (unsubscribed.LeadId, unsubscribed.Email).ShouldBe((lead, "nurture-2"));
        LeadProfile profile = (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!;
        profile.UnsubscribedAt.ShouldBe(WebShopFactory.Start);
        profile.CanReceiveMarketingEmail.ShouldBeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("List-Unsubscribe=Yes")]
    [InlineData("unsubscribe=One-Click")]
    public async Task Unsubscribe_PostWithoutTheOneClickBody_Returns400AndChangesNothing(string body)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        Uri link = Links(shop).Unsubscribe(lead, "nurture-2");
        using var content = new StringContent(body, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded");

        using HttpResponseMessage response = await client.PostAsync(WebShopFactory.Relative(link), content);

        await response.ShouldBeProblemForAsync("List-Unsubscribe");
        shop.Events.OfType<EmailUnsubscribed>().ShouldBeEmpty();
        (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!.UnsubscribedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Unsubscribe_TamperedToken_Returns400AndChangesNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        string token = Token(Links(shop).Unsubscribe(lead, "nurture-2"));

        using HttpResponseMessage response = await client.PostAsync(new Uri("/funnel/email/unsubscribe/" + token[..^3] + "abc", UriKind.Relative), OneClick());

        await response.ShouldBeProblemForAsync("token");
        (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!.UnsubscribedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Unsubscribe_UnknownLead_Returns404()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsync(WebShopFactory.Relative(Links(shop).Unsubscribe(LeadId.New(), "nurture-2")), OneClick());

        response.ShouldBeStatus(HttpStatusCode.NotFound);
        shop.Events.OfType<EmailUnsubscribed>().ShouldBeEmpty();
    }

    private static TrackingLinks Links(WebShopFactory shop) => shop.Services.GetRequiredService<TrackingLinks>();

    private static string Token(Uri link) => link.Segments[^1];

    private static FormUrlEncodedContent OneClick() => WebShopFactory.Form(("List-Unsubscribe", "One-Click"));

    private static async Task<LeadId> OptedInLeadAsync(WebShopFactory shop, HttpClient client)
    {
        (await WebShopFactory.OptInAsync(client, "grace@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        return shop.Events.OfType<OptedIn>().Single().LeadId;
    }

    private static async Task ShouldBePixelAsync(HttpResponseMessage response)
    {
        response.ShouldBeStatus(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("image/gif");
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        bytes.Take(6).ShouldBe(GifSignature);
        bytes.Length.ShouldBe(42);
        bytes[^1].ShouldBe((byte)0x3B); // The GIF trailer.
    }
}
