namespace Funnel.Tests;

public class KeyTests
{
    [Theory]
    [InlineData("ebook-masterclass", true)]
    [InlineData("a", true)]
    [InlineData("v1.2_beta", true)]
    [InlineData("0day", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("Ebook", false)]
    [InlineData("e book", false)]
    [InlineData(".hidden", false)]
    [InlineData("ümlaut", false)]
    public void IsValid_ChecksTheSafeAlphabet(string? key, bool expected)
    {
        Key.IsValid(key).ShouldBe(expected);
    }

    [Fact]
    public void IsValid_TooLong_IsFalse()
    {
        Key.IsValid(new string('a', Key.MaxLength)).ShouldBeTrue();
        Key.IsValid(new string('a', Key.MaxLength + 1)).ShouldBeFalse();
    }

    [Fact]
    public void LeadId_RoundTripsThroughText()
    {
        LeadId id = LeadId.New();

        LeadId.Parse(id.ToString()).ShouldBe(id);
        id.ShouldNotBe(LeadId.New());
    }

    [Fact]
    public void OrderId_RoundTripsThroughText()
    {
        OrderId id = OrderId.New();

        OrderId.Parse(id.ToString()).ShouldBe(id);
    }

    [Fact]
    public void StringKeys_ConvertAndPrint()
    {
        StageKey stage = "interest";
        StepKey step = "opt-in";
        OfferId offer = "masterclass";
        FunnelId funnel = "ebook";

        (stage.ToString(), step.ToString(), offer.ToString(), funnel.ToString()).ShouldBe(("interest", "opt-in", "masterclass", "ebook"));
        default(StageKey).ToString().ShouldBe(string.Empty);
    }
}
