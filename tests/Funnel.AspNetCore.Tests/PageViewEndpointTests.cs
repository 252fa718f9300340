using System.Net;
using System.Net.Http.Json;
using System.Text;
using Funnel.Events;

namespace Funnel.AspNetCore.Tests;

public sealed class PageViewEndpointTests
{
    private static readonly Uri Endpoint = new("/funnel/page-view", UriKind.Relative);

    [Fact]
    public async Task PageView_UrlWithUtm_RecordsPageViewedWithAttributionAndSetsTheVisitorCookie()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsJsonAsync(Endpoint, new
        {
            url = "http://shop.example/blog/write-a-best-selling-ebook-in-30-days?utm_source=Facebook&utm_medium=paid-social&utm_campaign=launch&utm_content=video&utm_term=ebook",
            title = "How to write",
            referrer = "https://www.facebook.com/",
        });

        response.ShouldBeStatus(HttpStatusCode.NoContent);
        PageViewed viewed = shop.Events.OfType<PageViewed>().ShouldHaveSingleItem();
        viewed.Page.ShouldBe("/blog/write-a-best-selling-ebook-in-30-days");
        viewed.Title.ShouldBe("How to write");
        viewed.OccurredAt.ShouldBe(WebShopFactory.Start);
        viewed.Attribution.Channel.ShouldBe("facebook");
        viewed.Attribution.Medium.ShouldBe("paid-social");
        viewed.Attribution.Campaign.ShouldBe("launch");
        viewed.Attribution.Content.ShouldBe("video");
        viewed.Attribution.Term.ShouldBe("ebook");
        viewed.Attribution.Referrer.ShouldBe("https://www.facebook.com/");
        response.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("funnel_vid=" + viewed.LeadId.Value.ToString("N"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task PageView_TwoViewsFromOneBrowser_ShareTheVisitorId()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        (await client.PostAsJsonAsync(Endpoint, new { url = "/blog/a" })).ShouldBeStatus(HttpStatusCode.NoContent);
        (await client.PostAsJsonAsync(Endpoint, new { url = "/sales" })).ShouldBeStatus(HttpStatusCode.NoContent);

        shop.Events.OfType<PageViewed>().Select(e => e.LeadId).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task PageView_NoUtmButAReferrer_TakesTheChannelFromTheReferrer()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsJsonAsync(Endpoint, new { url = "/blog/a", referrer = "https://www.google.com/search?q=ebook" });

        response.ShouldBeStatus(HttpStatusCode.NoContent);
        shop.Events.OfType<PageViewed>().Single().Attribution.Channel.ShouldBe("google.com");
    }

    [Fact]
    public async Task PageView_SentAsTextPlainLikeSendBeacon_IsAccepted()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsync(Endpoint, new StringContent("{\"url\":\"/blog/a?utm_source=x\"}", Encoding.UTF8, "text/plain"));

        response.ShouldBeStatus(HttpStatusCode.NoContent);
        shop.Events.OfType<PageViewed>().Single().Attribution.Channel.ShouldBe("x");
    }

    [Theory]
    [InlineData("{}", "url")]
    [InlineData("{\"url\":\"javascript:alert(1)\"}", "url")]
    [InlineData("{\"url\":\"//evil.example/x\"}", "url")]
    [InlineData("{\"url\":\"/a\",\"title\":\"" + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" + "x\"}", "title")]
    [InlineData("{\"url\":", "body")]
    [InlineData("not json", "body")]
    public async Task PageView_BadBody_Returns400NamingTheFieldAndRecordsNothing(string json, string field)
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsync(Endpoint, new StringContent(json, Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemForAsync(field);
        shop.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task PageView_BodyOverTheLimit_Returns413NamingBodyAndRecordsNothing()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        string padding = new('x', FunnelEndpoints.MaxPageViewBytes);

        using HttpResponseMessage response = await client.PostAsync(Endpoint, new StringContent($"{{\"url\":\"/a\",\"padding\":\"{padding}\"}}", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemForAsync("body", HttpStatusCode.RequestEntityTooLarge);
        shop.Events.ShouldBeEmpty();
    }
}
