using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;

namespace Funnel.Tests.Tax;

public class VatSampleTests
{
    [Fact]
    public async Task RunAsync_MasterclassBuyers_AreTaxedByCountryOrRejected()
    {
        IReadOnlyList<VatDemoRow> rows = await VatDemo.RunAsync();

        Dictionary<string, Checkout> byBuyer = rows.ToDictionary(r => r.Buyer, r => r.Checkout);
        byBuyer["DE consumer"].Quote!.Total.ShouldBe(new Money(59_143, Currency.USD));
        byBuyer["FR consumer"].Quote!.Total.ShouldBe(new Money(59_640, Currency.USD));
        byBuyer["IE consumer"].Quote!.Total.ShouldBe(new Money(61_131, Currency.USD));
        byBuyer["GB consumer"].Quote!.Total.ShouldBe(new Money(59_640, Currency.USD));
        byBuyer["US consumer"].Quote!.Total.ShouldBe(new Money(49_700, Currency.USD));
        byBuyer["FR business"].Quote!.Tax!.ReverseCharge.ShouldBeTrue();
        byBuyer["conflicting evidence"].Rejection.ShouldBe(OrderRejection.LocationUnresolved);
    }

    [Fact]
    public void Run_DefaultOptions_PrintsVatByBuyerCountry()
    {
        var output = new StringWriter();

        EbookMasterclassProgram.Run([], output, TextWriter.Null).ShouldBe(0);

        string text = output.ToString();
        text.ShouldContain("VAT by buyer country");
        text.ShouldContain("DE consumer           DE: USD 497.00 + 19% VAT USD 94.43 = USD 591.43");
        text.ShouldContain("FR business           FR: USD 497.00 + reverse charge = USD 497.00");
        text.ShouldContain("conflicting evidence  rejected (LocationUnresolved): DE, FR, IT");
    }
}
