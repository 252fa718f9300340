using System.Net;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

public partial class TrackingLinksRewriteTests
{
    private static readonly TrackingOptions Options = new() { BaseUrl = "https://example.com/email", SigningKey = "0123456789abcdef0123456789abcdef" };
    private static readonly LeadId Lead = new(new Guid(9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    /// <summary>Absolute http(s) URLs with hosts, ports, paths, queries (with <c>&amp;</c>) and fragments.</summary>
    private static Gen<string> Url { get; } =
        from scheme in Gen.Elements("http", "https")
        from host in Gen.Elements("example.com", "shop.example.org", "a-b.example.net", "127.0.0.1")
        from port in Gen.Elements(string.Empty, ":8080")
        from segments in Gen.ListOf(Gen.Elements("masterclass", "buy", "a%20b", "x_y", "ünï", "1")).Select(s => s.Take(4))
        from query in Gen.Elements(string.Empty, "?utm_source=email", "?a=1&b=2", "?q=%26x&r=%3D")
        from fragment in Gen.Elements(string.Empty, "#top", "#section-2")
        select scheme + "://" + host + port + "/" + string.Join("/", segments) + query + fragment;

    [Property(MaxTest = 200)]
    public Property RewriteLinks_AnyHttpLink_VerifiesBackToTheOriginalUrl() => Prop.ForAll(Url.ToArbitrary(), url =>
    {
        TrackingLinks links = new(Options);
        string html = "<p><a href=\"" + WebUtility.HtmlEncode(url) + "\">Buy</a></p>";

        string rewritten = links.RewriteLinks(html, Lead, "nurture-4");

        string href = WebUtility.HtmlDecode(HrefOf(rewritten).Single());
        href.ShouldStartWith("https://example.com/email/click/");
        links.TryReadToken(href[(href.LastIndexOf('/') + 1)..], out TrackingToken? token).ShouldBeTrue();
        token!.Action.ShouldBe(TrackingAction.Click);
        token.Lead.ShouldBe(Lead);
        token.Email.ShouldBe("nurture-4");
        token.Target!.AbsoluteUri.ShouldBe(new Uri(url).AbsoluteUri);
    });

    [Property(MaxTest = 100)]
    public Property RewriteLinks_TamperedToken_FailsVerification() => Prop.ForAll(Url.ToArbitrary(), Gen.Choose(0, 10_000).ToArbitrary(), (url, position) =>
    {
        TrackingLinks links = new(Options);
        string href = WebUtility.HtmlDecode(HrefOf(links.RewriteLinks("<a href='" + url + "'>x</a>", Lead, "nurture-4")).Single());
        string token = href[(href.LastIndexOf('/') + 1)..];
        int i = position % token.Length;
        if (token[i] == '.')
        {
            i = (i + 1) % token.Length;
        }

        string tampered = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];

        links.TryReadToken(tampered, out _).ShouldBeFalse();
    });

    [Theory]
    [InlineData("<a href=\"mailto:jane@example.com\">Mail</a>")]
    [InlineData("<a href=\"#pricing\">Pricing</a>")]
    [InlineData("<a href=\"/relative/path\">Relative</a>")]
    [InlineData("<a href=\"tel:+15555550100\">Call</a>")]
    [InlineData("<a href=\"ftp://example.com/file\">FTP</a>")]
    [InlineData("<p>Visit https://example.com/plain-text-url today</p>")]
    [InlineData("<img src=\"https://example.com/logo.png\" alt=\"\" />")]
    [InlineData("<a href=\"https://example.com/email/unsubscribe/abc.def\">Unsubscribe</a>")]
    [InlineData("<a href=\"https://example.com/email/open/abc.def\">Open</a>")]
    public void RewriteLinks_NonHttpOrTrackingLinks_AreLeftAlone(string html)
    {
        new TrackingLinks(Options).RewriteLinks(html, Lead, "nurture-4").ShouldBe(html);
    }

    [Fact]
    public void RewriteLinks_MixedBody_RewritesOnlyTheHttpLinksAndIsIdempotent()
    {
        TrackingLinks links = new(Options);
        string html = "<a HREF='https://example.com/buy?a=1&amp;b=2'>Buy</a> <a href=\"mailto:x@example.com\">m</a> <a href = \"http://example.org/\">o</a>";

        string once = links.RewriteLinks(html, Lead, "nurture-4");
        string twice = links.RewriteLinks(once, Lead, "nurture-4");

        string[] hrefs = [.. HrefOf(once).Select(h => WebUtility.HtmlDecode(h))];
        hrefs.Length.ShouldBe(3);
        hrefs[1].ShouldBe("mailto:x@example.com");
        links.TryReadToken(hrefs[0][(hrefs[0].LastIndexOf('/') + 1)..], out TrackingToken? buy).ShouldBeTrue();
        buy!.Target.ShouldBe(new Uri("https://example.com/buy?a=1&b=2"));
        links.TryReadToken(hrefs[2][(hrefs[2].LastIndexOf('/') + 1)..], out TrackingToken? other).ShouldBeTrue();
        other!.Target.ShouldBe(new Uri("http://example.org/"));
        once.ShouldContain("HREF='https://example.com/email/click/");
        twice.ShouldBe(once);
    }

    [Fact]
    public async Task Dispatch_SequenceWithTrackClicks_RewritesBodyLinksButNotTheUnsubscribeLink()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceDefinition definition = new()
        {
            Key = "clicks",
            TrackClicks = true,
            Steps =
            [
                new SequenceStep
                {
                    Key = "clicks-1",
                    Timing = StepTiming.AfterEnrolment,
                    Subject = "Hi",
                    TextBody = "Buy at https://example.com/buy",
                    HtmlBody = "<a href=\"https://example.com/buy\">Buy</a> <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>",
                },
            ],
        };
        SequenceOptions options = new() { Tracking = Options };
        SequenceEngine engine = world.Engine(sender, [definition], options);
        LeadProfile lead = await world.AddLeadAsync(1);
        await engine.EnrolAsync(lead.Id, "clicks", SequenceWorld.Start);

        await engine.DispatchDueAsync();

        EmailMessage message = sender.Sent.Single().Message;
        string[] hrefs = [.. HrefOf(message.HtmlBody!).Select(h => WebUtility.HtmlDecode(h))];
        hrefs[0].ShouldStartWith("https://example.com/email/click/");
        new TrackingLinks(Options).TryReadToken(hrefs[0][(hrefs[0].LastIndexOf('/') + 1)..], out TrackingToken? token).ShouldBeTrue();
        token.ShouldBe(new TrackingToken(TrackingAction.Click, lead.Id, "clicks-1", new Uri("https://example.com/buy")));
        hrefs[1].ShouldStartWith("https://example.com/email/unsubscribe/");
        message.TextBody.ShouldBe("Buy at https://example.com/buy");
    }

    [Fact]
    public void Constructor_TrackClicksWithoutTracking_ThrowsNamingTheSequence()
    {
        SequenceWorld world = new();
        SequenceDefinition definition = new()
        {
            Key = "clicks",
            TrackClicks = true,
            Steps = [new SequenceStep { Key = "clicks-1", Subject = "Hi", TextBody = "x", HtmlBody = "<a href=\"https://example.com/\">x</a>" }],
        };

        Should.Throw<ArgumentException>(() => world.Engine(new RecordingSender(world.Clock), [definition])).Message.ShouldContain("'clicks'");
    }

    private static IEnumerable<string> HrefOf(string html) => HrefPattern().Matches(html).Select(m => m.Groups[2].Value);

    [GeneratedRegex("""href\s*=\s*(["'])(.*?)\1""", RegexOptions.IgnoreCase)]
    private static partial Regex HrefPattern();
}
