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
