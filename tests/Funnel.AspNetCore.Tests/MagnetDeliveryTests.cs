using System.Net;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Samples.WebShop;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

/// <summary>Lead magnet delivery end to end: the opt-in or its confirmation mails a signed, expiring link that serves the file or redirects to the URL.</summary>
public sealed class MagnetDeliveryTests
{
    private static readonly byte[] Pdf = "%PDF-1.4 the checklist"u8.ToArray();

    /// <summary>A single opt-in magnet served from a file.</summary>
    private static readonly LeadMagnet Checklist = new()
    {
        Key = "launch-checklist", Title = "Launch Checklist", Kind = LeadMagnetKind.Checklist,
        AssetFile = "checklists/launch.pdf", AssetContentType = "application/pdf",
    };

    /// <summary>A double opt-in magnet hosted elsewhere.</summary>
    private static readonly LeadMagnet Video = new()
    {
        Key = "video-class", Title = "Free Video Class", Kind = LeadMagnetKind.MiniCourse, DoubleOptIn = true,
        AssetUrl = new Uri("https://videos.example.com/class?id=7"),
    };

    private static WebShopFactory Shop()
    {
        string files = Path.Combine(Path.GetTempPath(), "funnel-magnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(files, "checklists"));
        File.WriteAllBytes(Path.Combine(files, "checklists", "launch.pdf"), Pdf);
        Funnel.TestSupport.LeftoverCleanup.RemoveWhenProcessEnds(files);
        return new WebShopFactory
        {
            ConfigureFunnel = o =>
            {
                o.LeadMagnets.Add(Checklist);
                o.LeadMagnets.Add(Video);
                o.MagnetFiles = new PhysicalFileProvider(files);
            },
        };
    }

    private static async Task<HttpResponseMessage> OptInAsync(HttpClient client, string email, LeadMagnet magnet)
    {
        string token = await WebShopFactory.AntiforgeryTokenAsync(client);
        return await client.PostAsync(
            new Uri("/funnel/opt-in", UriKind.Relative),
            WebShopFactory.Form(("__RequestVerificationToken", token), ("magnet", magnet.Key), ("email", email)));
    }

    private static OutboxMessage[] Deliveries(WebShopFactory shop) =>
        [.. shop.Outbox.Snapshot().Where(m => m.Subject.StartsWith("Here is", StringComparison.Ordinal))];

    private static Uri DownloadLink(OutboxMessage delivery) =>
        WebShopFactory.Relative(delivery.Links.Single(l => l.AbsolutePath.Contains("/magnets/", StringComparison.Ordinal)));

    private static async Task<Uri> SingleOptInLinkAsync(WebShopFactory shop, HttpClient client)
    {
        using HttpResponseMessage optIn = await OptInAsync(client, "ada@example.com", Checklist);
        optIn.ShouldBeStatus(HttpStatusCode.SeeOther);
        return DownloadLink(Deliveries(shop).ShouldHaveSingleItem());
    }

    [Fact]
    public async Task SingleOptIn_FileMagnet_MailsOneDeliveryWhoseLinkServesTheFile()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();

        Uri link = await SingleOptInLinkAsync(shop, client);
        using HttpResponseMessage download = await client.GetAsync(link);

        download.ShouldBeStatus(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("application/pdf");
        download.Content.Headers.ContentDisposition!.FileNameStar.ShouldBe("launch.pdf");
        (await download.Content.ReadAsByteArrayAsync()).ShouldBe(Pdf);
        OutboxMessage delivery = Deliveries(shop).ShouldHaveSingleItem();
        delivery.To.ShouldContain("ada@example.com");
        delivery.Subject.ShouldBe("Here is Launch Checklist");
        LeadMagnetDeliveryRequested requested = shop.Events.OfType<LeadMagnetDeliveryRequested>().ShouldHaveSingleItem();
        requested.Magnet.ShouldBe(Checklist.Key);
        requested.LeadId.ShouldBe(shop.Events.OfType<OptedIn>().Single().LeadId);
        LeadMagnetDownloaded downloaded = shop.Events.OfType<LeadMagnetDownloaded>().ShouldHaveSingleItem();
        downloaded.LeadId.ShouldBe(requested.LeadId);
        downloaded.Magnet.ShouldBe(Checklist.Key);
    }

    [Fact]
    public async Task SingleOptIn_LinkFollowedTwiceInOneWindow_RecordsOneDownload()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);

        using HttpResponseMessage first = await client.GetAsync(link);
        using HttpResponseMessage second = await client.GetAsync(link);

        second.ShouldBeStatus(HttpStatusCode.OK);
        shop.Events.OfType<LeadMagnetDownloaded>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task DoubleOptIn_UrlMagnet_DeliversNothingBeforeConfirmationAndOnceAfter()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        using HttpResponseMessage optIn = await OptInAsync(client, "grace@example.com", Video);
        optIn.ShouldBeStatus(HttpStatusCode.SeeOther);

        Deliveries(shop).ShouldBeEmpty();
        shop.Events.OfType<LeadMagnetDeliveryRequested>().ShouldBeEmpty();
        Uri confirm = WebShopFactory.Relative(shop.Outbox.Snapshot().Single(m => m.ConfirmationLink is not null).ConfirmationLink!);
        using HttpResponseMessage confirmed = await client.GetAsync(confirm);
        confirmed.ShouldBeStatus(HttpStatusCode.Redirect);
        using HttpResponseMessage again = await client.GetAsync(confirm);
        await again.ShouldBeProblemForAsync("token");

        OutboxMessage delivery = Deliveries(shop).ShouldHaveSingleItem();
        delivery.Subject.ShouldBe("Here is Free Video Class");
        shop.Events.OfType<LeadMagnetDeliveryRequested>().ShouldHaveSingleItem().OccurredAt
            .ShouldBe(shop.Events.OfType<OptInConfirmed>().Single().OccurredAt);
        using HttpResponseMessage download = await client.GetAsync(DownloadLink(delivery));
        download.ShouldBeStatus(HttpStatusCode.Redirect);
        download.Headers.Location.ShouldBe(Video.AssetUrl);
        shop.Events.OfType<LeadMagnetDownloaded>().ShouldHaveSingleItem().Magnet.ShouldBe(Video.Key);
    }

    [Fact]
    public async Task DoubleOptIn_LeadWhoAlreadyConfirmed_IsDeliveredAtOnce()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        using HttpResponseMessage first = await OptInAsync(client, "grace@example.com", Video);
        Uri confirm = WebShopFactory.Relative(shop.Outbox.Snapshot().Single(m => m.ConfirmationLink is not null).ConfirmationLink!);
        using HttpResponseMessage confirmed = await client.GetAsync(confirm);

        using HttpResponseMessage second = await OptInAsync(client, "grace@example.com", Video);

        second.ShouldBeStatus(HttpStatusCode.SeeOther);
        Deliveries(shop).Length.ShouldBe(2);
        shop.Outbox.Snapshot().Count(m => m.ConfirmationLink is not null).ShouldBe(1);
    }

    [Fact]
    public async Task OptIn_MagnetWithoutAsset_DeliversNothing()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        using HttpResponseMessage optIn = await WebShopFactory.OptInAsync(client, "ada@example.com");
        Uri confirm = WebShopFactory.Relative(shop.Outbox.Snapshot().Single().ConfirmationLink!);

        using HttpResponseMessage confirmed = await client.GetAsync(confirm);

        confirmed.ShouldBeStatus(HttpStatusCode.Redirect);
        shop.Events.OfType<LeadMagnetDeliveryRequested>().ShouldBeEmpty();
        Deliveries(shop).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("sig")]
    [InlineData("lead")]
    [InlineData("exp")]
    public async Task Download_TamperedLink_Returns403NamingSigAndServesNothing(string field)
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);

        using HttpResponseMessage response = await client.GetAsync(Tamper(link, field));

        (await response.ShouldBeProblemForAsync("sig", HttpStatusCode.Forbidden)).ShouldContain("invalid");
        shop.Events.OfType<LeadMagnetDownloaded>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Download_LinkOfAnotherMagnet_Returns403()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);

        using HttpResponseMessage response = await client.GetAsync(
            new Uri(link.ToString().Replace(Checklist.Key, Video.Key, StringComparison.Ordinal), UriKind.Relative));

        await response.ShouldBeProblemForAsync("sig", HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Download_AfterTheLifetime_Returns410SayingExpired()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);
        shop.Clock.Advance(Duration.FromDays(7) - Duration.FromSeconds(1));
        using HttpResponseMessage stillValid = await client.GetAsync(link);
        stillValid.ShouldBeStatus(HttpStatusCode.OK);

        shop.Clock.Advance(Duration.FromSeconds(1));
        using HttpResponseMessage response = await client.GetAsync(link);

        (await response.ShouldBeProblemForAsync("exp", HttpStatusCode.Gone)).ShouldContain("expired");
    }

    [Fact]
    public async Task Download_ConfiguredLifetime_ExpiresThen()
    {
        string files = Path.Combine(Path.GetTempPath(), "funnel-magnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(files, "checklists"));
        File.WriteAllBytes(Path.Combine(files, "checklists", "launch.pdf"), Pdf);
        Funnel.TestSupport.LeftoverCleanup.RemoveWhenProcessEnds(files);
        using var shop = new WebShopFactory
        {
            ConfigureFunnel = o =>
            {
                o.LeadMagnets.Add(Checklist);
                o.MagnetFiles = new PhysicalFileProvider(files);
                o.MagnetLinkLifetime = TimeSpan.FromHours(1);
            },
        };
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);

        shop.Clock.Advance(Duration.FromHours(1));
        using HttpResponseMessage response = await client.GetAsync(link);

        await response.ShouldBeProblemForAsync("exp", HttpStatusCode.Gone);
    }

    [Fact]
    public async Task Download_UnknownMagnet_Returns404NamingKey()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri(
            $"/funnel/magnets/nope/download?lead={Guid.NewGuid():N}&exp=1&sig=abc", UriKind.Relative));

        await response.ShouldBeProblemForAsync("key", HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("exp=1&sig=abc", "lead")]
    [InlineData("lead=not-a-guid&exp=1&sig=abc", "lead")]
    [InlineData("lead=0123456789abcdef0123456789abcdef&sig=abc", "exp")]
    [InlineData("lead=0123456789abcdef0123456789abcdef&exp=-5&sig=abc", "exp")]
    [InlineData("lead=0123456789abcdef0123456789abcdef&exp=99999999999999999999&sig=abc", "exp")]
    [InlineData("lead=0123456789abcdef0123456789abcdef&exp=1", "sig")]
    public async Task Download_MissingOrMalformedField_Returns400NamingIt(string query, string field)
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.GetAsync(new Uri($"/funnel/magnets/{Checklist.Key}/download?{query}", UriKind.Relative));

        await response.ShouldBeProblemForAsync(field);
    }

    [Fact]
    public async Task Download_FileMissingFromTheProvider_Returns404NamingKey()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        Uri link = await SingleOptInLinkAsync(shop, client);
        var files = (PhysicalFileProvider)shop.Services.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value.MagnetFiles!;
        File.Delete(Path.Combine(files.Root, "checklists", "launch.pdf"));

        using HttpResponseMessage response = await client.GetAsync(link);

        (await response.ShouldBeProblemForAsync("key", HttpStatusCode.NotFound)).ShouldContain("missing");
    }

    [Fact]
    public void AddFunnelAspNetCore_FileMagnetWithoutMagnetFiles_FailsValidationNamingMagnetFiles()
    {
        using ServiceProvider provider = new ServiceCollection().AddLogging()
            .Configure<SequenceOptions>(o => o.Tracking = new TrackingOptions { BaseUrl = "https://shop.example/funnel/email", SigningKey = new string('k', 32) })
            .AddFunnelAspNetCore(o => o.LeadMagnets.Add(Checklist))
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("MagnetFiles");
    }

    [Fact]
    public void AddFunnelAspNetCore_FileMagnetWithoutTrackingKey_FailsValidationNamingTheKey()
    {
        using var files = new PhysicalFileProvider(Path.GetTempPath());
        using ServiceProvider provider = new ServiceCollection().AddLogging()
            .AddFunnelAspNetCore(o => { o.LeadMagnets.Add(Checklist); o.MagnetFiles = files; })
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("SequenceOptions.Tracking.SigningKey");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(366 * 24 * 60)]
    public void AddFunnelAspNetCore_MagnetLinkLifetimeOutOfRange_FailsValidationNamingIt(int minutes)
    {
        using ServiceProvider provider = new ServiceCollection().AddLogging()
            .AddFunnelAspNetCore(o => { o.LeadMagnets.Add(Video); o.MagnetLinkLifetime = TimeSpan.FromMinutes(minutes); })
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("MagnetLinkLifetime");
    }

    /// <summary>Changes one character of a query field's value, keeping it well formed.</summary>
    private static Uri Tamper(Uri link, string field)
    {
        string url = link.ToString();
        int start = url.IndexOf(field + "=", StringComparison.Ordinal) + field.Length + 1;
        char c = url[start];
        char replacement = field switch
        {
            "exp" => c == '9' ? '8' : (char)(c + 1),
            "lead" => c == 'a' ? 'b' : 'a',
            _ => c == 'A' ? 'B' : 'A',
        };
        return new Uri(url[..start] + replacement + url[(start + 1)..], UriKind.Relative);
    }
}
