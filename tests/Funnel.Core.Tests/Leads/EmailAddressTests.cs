using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Leads;

namespace Funnel.Tests.Leads;

public class EmailAddressTests
{
    [Fact]
    public void Parse_MixedCaseAndSpaces_TrimsAndLowerCasesTheWholeAddress()
    {
        EmailAddress email = EmailAddress.Parse("  Ann.Lee+Guide@Example.COM \t");

        email.Value.ShouldBe("ann.lee+guide@example.com");
    }

    [Fact]
    public void Parse_InternationalDomain_ConvertsDomainToAscii()
    {
        EmailAddress email = EmailAddress.Parse("Bob@Exämple.com");

        email.Value.ShouldBe("bob@xn--exmple-cua.com");
    }

    [Fact]
    public void Parse_SameAddressDifferentCase_IsEqual()
    {
        EmailAddress.Parse("ANN@example.com").ShouldBe(EmailAddress.Parse("ann@EXAMPLE.com"));
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("   ", "required")]
    [InlineData("ann.example.com", "no '@'")]
    [InlineData("@example.com", "nothing comes before")]
    [InlineData("ann@", "domain after the '@' is missing")]
    [InlineData("ann@localhost", "has no dot")]
    [InlineData("ann lee@example.com", "space")]
    [InlineData("Ann <ann@example.com>", "space")]
    [InlineData("ann@exa_mple.com", "character '_'")]
    [InlineData("ann@-example.com", "hyphen")]
    [InlineData("ann@example.123", "ends in a number")]
    [InlineData("ann..lee@example.com", "before the '@'")]
    [InlineData("ann@example..com", "example..com")]
    public void TryParse_BadInput_FailsWithReason(string input, string reason)
    {
        bool ok = EmailAddress.TryParse(input, out EmailAddress email, out string? error);

        ok.ShouldBeFalse();
        email.ShouldBe(default);
        error.ShouldNotBeNull();
        error.ShouldContain(reason);
    }

    [Fact]
    public void Parse_BadInput_ThrowsFormatExceptionQuotingTheInput()
    {
        FormatException ex = Should.Throw<FormatException>(() => EmailAddress.Parse("not-an-email"));

        ex.Message.ShouldBe("'not-an-email' is not a valid email address: it has no '@'.");
    }

    [Fact]
    public void ToSha256Hex_NormalisedAddress_IsLowerCaseHexOfUtf8Bytes()
    {
        // sha256("ann@example.com"), computed independently.
        EmailAddress.Parse(" Ann@Example.com ").ToSha256Hex()
            .ShouldBe("71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476");
    }

    [Fact]
    public void ToSha256Hex_Default_Throws()
    {
        Should.Throw<InvalidOperationException>(() => default(EmailAddress).ToSha256Hex());
    }

    [Theory]
    [InlineData("ann\u202E@example.com", "U+202E")] // right-to-left override (issue 17)
    [InlineData("ann@exam\u202Eple.com", "U+202E")]
    [InlineData("an\u200Bn@example.com", "U+200B")] // zero width space
    [InlineData("\uFEFFann@example.com", "U+FEFF")] // byte order mark
    [InlineData("ann\u2066@example.com", "U+2066")] // left-to-right isolate
    [InlineData("ann\u00AD@example.com", "U+00AD")] // soft hyphen
    [InlineData("ann\u0000@example.com", "U+0000")]
    [InlineData("ann\u0085@example.com", "U+0085")]
    [InlineData("ann\u2028@example.com", "U+2028")]
    [InlineData("ann\uE000@example.com", "U+E000")] // private use
    [InlineData("ann\uD800@example.com", "U+FFFD")] // lone surrogate
    public void TryParse_InvisibleCharacter_FailsNamingItEscaped(string input, string codePoint)
    {
        bool ok = EmailAddress.TryParse(input, out EmailAddress email, out string? error);

        ok.ShouldBeFalse();
        email.ShouldBe(default);
        error.ShouldNotBeNull();
        error.ShouldContain("invisible formatting or control character " + codePoint);
        error.ShouldContain("email address");
        error.EnumerateRunes().ShouldNotContain(r => Rune.GetUnicodeCategory(r) == UnicodeCategory.Format || Rune.IsControl(r));
    }

    [Theory]
    [InlineData("ann@\U0001F600.example", "U+1F600")] // emoji domain (issue 17)
    [InlineData("ann@shop\U0001F6D2.com", "U+1F6D2")]
    [InlineData("ann@\u2665.example", "U+2665")] // heart symbol
    [InlineData("ann@1\u20E3.example", "U+20E3")] // keycap
    public void TryParse_EmojiOrSymbolDomain_FailsNamingTheCharacter(string input, string codePoint)
    {
        bool ok = EmailAddress.TryParse(input, out _, out string? error);

        ok.ShouldBeFalse();
        error.ShouldNotBeNull();
        error.ShouldContain(codePoint);
        error.ShouldContain("not emoji or symbols");
    }

    [Theory]
    [InlineData("ann@M\u00FCnchen.de", "ann@xn--mnchen-3ya.de")]
    [InlineData("ann@\u4F8B\u3048.\u30C6\u30B9\u30C8", "ann@xn--r8jz45g.xn--zckzah")] // 例え.テスト
    [InlineData("ann@\u0645\u062B\u0627\u0644.example", "ann@xn--mgbh0fb.example")] // مثال (right-to-left script, no controls)
    [InlineData("ann@xn--mnchen-3ya.de", "ann@xn--mnchen-3ya.de")]
    public void Parse_InternationalisedDomain_StoresNormalisedPunycode(string input, string expected)
    {
        EmailAddress.Parse(input).Value.ShouldBe(expected);
    }

    [Property]
    public Property Parse_CanonicalForm_IsAFixedPoint() => Prop.ForAll(
        Arb.From(from local in Gen.Elements("ann", "Bob.Lee", "x+tag", "O'Neil", "a_b-c")
                 from domain in Gen.Elements("Example.com", "mail.example.co.uk", "exämple.de", "B2B.io")
                 from pad in Gen.Elements("", " ", "\t")
                 select pad + local + "@" + domain + pad),
        text =>
        {
            EmailAddress once = EmailAddress.Parse(text);
            EmailAddress twice = EmailAddress.Parse(once.Value);
            return twice == once && !once.Value.Any(char.IsUpper) && once.Value.Trim() == once.Value;
        });
}
