using Funnel.Email;
using Funnel.Leads;

namespace Funnel.Tests.Sequences;

public class TrackingLinksTests
{
    private static readonly TrackingOptions Options = new() { BaseUrl = "https://example.com/email/", SigningKey = "0123456789abcdef0123456789abcdef" };
    private static readonly LeadId Lead = new(new Guid(7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    private static string TokenOf(Uri url) => url.AbsolutePath[(url.AbsolutePath.LastIndexOf('/') + 1)..];

    [Fact]
    public void Click_Token_RoundTripsWithTheTarget()
    {
        TrackingLinks links = new(Options);

        Uri url = links.Click(Lead, "nurture-3", new Uri("https://example.com/masterclass?utm_source=email"));

        url.AbsoluteUri.ShouldStartWith("https://example.com/email/click/");
        links.TryReadToken(TokenOf(url), out TrackingToken? token).ShouldBeTrue();
        token.ShouldBe(new TrackingToken(TrackingAction.Click, Lead, "nurture-3", new Uri("https://example.com/masterclass?utm_source=email")));
    }

    [Fact]
    public void TryReadToken_AnyChangedCharacter_IsRejected()
    {
        TrackingLinks links = new(Options);
        string token = TokenOf(links.Click(Lead, "nurture-3", new Uri("https://example.com/")));

        for (int i = 0; i < token.Length; i++)
        {
            if (token[i] == '.')
            {
                continue;
            }

            char replacement = token[i] == 'A' ? 'B' : 'A';
            string tampered = token[..i] + replacement + token[(i + 1)..];
            links.TryReadToken(tampered, out _).ShouldBeFalse($"position {i}");
        }
    }

    [Fact]
    public void TryReadToken_SignedWithAnotherKey_IsRejected()
    {
        string token = TokenOf(new TrackingLinks(Options).Unsubscribe(Lead, "nurture-1"));
        TrackingLinks other = new(new TrackingOptions { BaseUrl = Options.BaseUrl, SigningKey = "another-key-another-key-another-key" });

        other.TryReadToken(token, out _).ShouldBeFalse();
        other.TryReadToken("not-a-token", out _).ShouldBeFalse();
        other.TryReadToken(null, out _).ShouldBeFalse();
    }

    [Fact]
    public void WithListUnsubscribe_Message_AddsTheRfc8058Headers()
    {
        TrackingLinks links = new(Options);
        EmailMessage message = new() { To = EmailAddress.Parse("ann@example.com"), Subject = "s", TextBody = "t", IdempotencyKey = "k" };

        EmailMessage withHeaders = links.WithListUnsubscribe(message, Lead, "nurture-1");

        withHeaders.Headers["List-Unsubscribe"].ShouldBe("<" + links.Unsubscribe(Lead, "nurture-1").AbsoluteUri + ">");
        withHeaders.Headers["List-Unsubscribe-Post"].ShouldBe("List-Unsubscribe=One-Click");
    }

    [Fact]
    public void Constructor_ShortKeyOrRelativeBaseUrl_ThrowsNamingTheOption()
    {
        Should.Throw<ArgumentException>(() => new TrackingLinks(new TrackingOptions { BaseUrl = Options.BaseUrl, SigningKey = "short" })).Message.ShouldContain("SigningKey");
        Should.Throw<ArgumentException>(() => new TrackingLinks(new TrackingOptions { BaseUrl = "/email", SigningKey = Options.SigningKey })).Message.ShouldContain("BaseUrl");
    }

    [Fact]
    public void Click_RelativeOrNonHttpTarget_Throws()
    {
        TrackingLinks links = new(Options);

        Should.Throw<ArgumentException>(() => links.Click(Lead, "e", new Uri("javascript:alert(1)")));
    }
}
