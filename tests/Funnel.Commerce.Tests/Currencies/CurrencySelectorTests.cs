using Funnel.Currencies;

namespace Funnel.Tests.Currencies;

public class CurrencySelectorTests
{
    [Theory]
    [InlineData("DE", "EUR")]
    [InlineData("fr", "EUR")]
    [InlineData("IE", "EUR")]
    [InlineData("BG", "EUR")]
    [InlineData("GB", "GBP")]
    [InlineData("US", "USD")]
    [InlineData("CA", "CAD")]
    [InlineData("AU", "AUD")]
    [InlineData("CH", "CHF")]
    [InlineData("NO", "NOK")]
    [InlineData("SE", "SEK")]
    [InlineData("DK", "DKK")]
    [InlineData("JP", "JPY")]
    public void ForCountry_DefaultTable_GivesTheCountrysCurrency(string country, string currency)
    {
        CurrencySelector.Default.ForCountry(country).ShouldBe(Currency.FromCode(currency));
    }

    [Fact]
    public void ForCountry_UnknownOrMissingCountry_GivesNull()
    {
        CurrencySelector.Default.ForCountry("BV").ShouldBeNull();
        CurrencySelector.Default.ForCountry(null).ShouldBeNull();
        CurrencySelector.Empty.ForCountry("DE").ShouldBeNull();
    }

    [Fact]
    public void WithAndWithout_ChangeACopy()
    {
        CurrencySelector custom = CurrencySelector.Default.With("ch", Currency.EUR).Without("GB");

        custom.ForCountry("CH").ShouldBe(Currency.EUR);
        custom.ForCountry("GB").ShouldBeNull();
        CurrencySelector.Default.ForCountry("CH").ShouldBe(Currency.CHF);
        custom.Countries.Count.ShouldBe(CurrencySelector.Default.Countries.Count - 1);
    }

    [Fact]
    public void Constructor_BadTable_NamesTheCountry()
    {
        Should.Throw<ArgumentException>(() => new CurrencySelector([new("DEU", Currency.EUR)])).Message.ShouldContain("DEU");
        Should.Throw<ArgumentException>(() => new CurrencySelector([new("de", Currency.EUR), new("DE", Currency.USD)])).Message.ShouldContain("DE is listed twice");
        Should.Throw<ArgumentException>(() => new CurrencySelector([new("DE", default)])).Message.ShouldContain("DE");
        Should.Throw<ArgumentException>(() => CurrencySelector.Default.ForCountry("Germany"));
    }
}
