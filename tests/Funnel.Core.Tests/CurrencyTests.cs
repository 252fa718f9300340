using System;
using System.Linq;

namespace Funnel.Tests;

public class CurrencyTests
{
    [Theory]
    [InlineData("USD", 2)]
    [InlineData("EUR", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("VND", 0)]
    [InlineData("ISK", 0)]
    [InlineData("CLP", 0)]
    [InlineData("XOF", 0)]
    [InlineData("BHD", 3)]
    [InlineData("KWD", 3)]
    [InlineData("TND", 3)]
    [InlineData("CLF", 4)]
    [InlineData("UYW", 4)]
    public void FromCode_KnownCode_HasIsoExponent(string code, int exponent)
    {
        var currency = Currency.FromCode(code);

        currency.Code.ShouldBe(code);
        currency.Exponent.ShouldBe(exponent);
    }

    [Theory]
    [InlineData("usd")]
    [InlineData(" USD ")]
    [InlineData("uSd\t")]
    public void FromCode_AnyCaseAndWhiteSpace_ReturnsCanonicalCurrency(string code)
    {
        var currency = Currency.FromCode(code);

        currency.ShouldBe(Currency.USD);
        currency.Code.ShouldBe("USD");
    }

    [Theory]
    [InlineData("ABC")]
    [InlineData("US")]
    [InlineData("USDX")]
    [InlineData("HRK")]
    public void FromCode_UnknownCode_ThrowsArgumentExceptionNamingParameterAndCode(string code)
    {
        var exception = Should.Throw<ArgumentException>(() => Currency.FromCode(code));

        exception.ParamName.ShouldBe("code");
        exception.Message.ShouldContain(code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void FromCode_Blank_ThrowsArgumentException(string code)
    {
        var exception = Should.Throw<ArgumentException>(() => Currency.FromCode(code));

        exception.ParamName.ShouldBe("code");
    }

    [Fact]
    public void FromCode_Null_ThrowsArgumentNullException()
    {
        Should.Throw<ArgumentNullException>(() => Currency.FromCode(null!)).ParamName.ShouldBe("code");
    }

    [Fact]
    public void TryFromCode_KnownCode_ReturnsTrueAndCurrency()
    {
        Currency.TryFromCode("gbp", out var currency).ShouldBeTrue();

        currency.ShouldBe(Currency.GBP);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ZZZ")]
    public void TryFromCode_UnknownCode_ReturnsFalseAndDefault(string? code)
    {
        Currency.TryFromCode(code, out var currency).ShouldBeFalse();

        currency.ShouldBe(default);
    }

    [Theory]
    [InlineData("USD", true)]
    [InlineData("chf", true)]
    [InlineData("XXX", true)]
    [InlineData("ZZZ", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsKnown_Code_ReportsWhetherInTable(string? code, bool expected)
    {
        Currency.IsKnown(code).ShouldBe(expected);
    }

    [Fact]
    public void Default_BehavesAsNoCurrency()
    {
        var currency = default(Currency);

        currency.Code.ShouldBe("XXX");
        currency.Exponent.ShouldBe(0);
        currency.Symbol.ShouldBeNull();
        currency.ToString().ShouldBe("XXX");
        currency.ShouldBe(Currency.FromCode("XXX"));
        (currency == Currency.FromCode("XXX")).ShouldBeTrue();
        currency.GetHashCode().ShouldBe(Currency.FromCode("XXX").GetHashCode());
    }

    [Fact]
    public void Shortcuts_MajorCurrencies_HaveExpectedCodesAndSymbols()
    {
        Currency.USD.Code.ShouldBe("USD");
        Currency.USD.Symbol.ShouldBe("$");
        Currency.EUR.Symbol.ShouldBe("€");
        Currency.GBP.Symbol.ShouldBe("£");
        Currency.JPY.Symbol.ShouldBe("¥");
        Currency.JPY.Exponent.ShouldBe(0);
        Currency.CAD.Symbol.ShouldBe("CA$");
        Currency.AUD.Symbol.ShouldBe("A$");
        Currency.CHF.Code.ShouldBe("CHF");
        Currency.CHF.Symbol.ShouldBeNull();
    }

    [Fact]
    public void All_EmbeddedTable_IsCompleteUniqueAndSorted()
    {
        var codes = Currency.All.Select(c => c.Code).ToList();

        codes.Count.ShouldBeInRange(150, 190);
        codes.Distinct(StringComparer.Ordinal).Count().ShouldBe(codes.Count);
        codes.ShouldBe(codes.Order(StringComparer.Ordinal).ToList());
        codes.ShouldAllBe(c => c.Length == 3 && c.All(char.IsAsciiLetterUpper));
        Currency.All.ShouldAllBe(c => c.Exponent >= 0 && c.Exponent <= 4);
        Currency.All.ShouldContain(Currency.USD);
        Currency.All.ShouldContain(default(Currency));
    }

    [Fact]
    public void All_EveryCurrency_RoundTripsThroughFromCode()
    {
        foreach (var currency in Currency.All)
        {
            Currency.FromCode(currency.Code).ShouldBe(currency);
        }
    }

    [Fact]
    public void Equality_SameAndDifferentCodes_ComparesByCode()
    {
        (Currency.FromCode("eur") == Currency.EUR).ShouldBeTrue();
        (Currency.EUR != Currency.USD).ShouldBeTrue();
        Currency.EUR.Equals((object)Currency.EUR).ShouldBeTrue();
        Currency.EUR.Equals((object)"EUR").ShouldBeFalse();
        Currency.EUR.GetHashCode().ShouldBe(Currency.FromCode("EUR").GetHashCode());
    }

    [Fact]
    public void ToString_Currency_ReturnsCode()
    {
        Currency.CHF.ToString().ShouldBe("CHF");
    }

    [Fact]
    public void PublicValueTypes_ImplementingIEquatable_DefineEqualityOperators()
    {
        var types = typeof(Currency).Assembly.GetExportedTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>)));

        foreach (var type in types)
        {
            type.GetMethod("op_Equality", [type, type]).ShouldNotBeNull(type.Name);
            type.GetMethod("op_Inequality", [type, type]).ShouldNotBeNull(type.Name);
        }
    }
}
