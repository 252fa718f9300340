using System.Text.Json;

namespace Funnel.Browser.Tests;

/// <summary>Walks a visitor through the WebShop in headless Chromium: blog → opt-in → confirmation → sales page → checkout with bump → upsell → thank-you → admin.</summary>
public sealed class JourneyTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Journey_AcceptingTheUpsell_AdminReportCountsBothOrders()
    {
        JsonElement result = await RunJourneyAsync("accept");

        result.GetProperty("upsell").GetString().ShouldBe("Masterclass Premium — $797");
        result.GetProperty("paid").GetString().ShouldBe("$1,321");
        Strings(result.GetProperty("receipt")).ShouldBe(["masterclass-basic", "cover-design-pack", "masterclass-premium"]);
        JsonElement admin = result.GetProperty("admin");
        admin.GetProperty("orders").GetString().ShouldBe("2");
        admin.GetProperty("revenue").GetString().ShouldBe("$1,321");
        admin.GetProperty("upsells-accepted").GetString().ShouldBe("1");
        admin.GetProperty("upsells-declined").GetString().ShouldBe("0");
        AssertFunnelCountedOnce(admin);
        AssertCommonPages(result, "accept", 8);
    }

    [Fact]
    public async Task Journey_DecliningTheUpsell_TakesTheDownsellAndTheReportCountsIt()
    {
        JsonElement result = await RunJourneyAsync("decline");

        result.GetProperty("downsell").GetString().ShouldBe("Mini E-Book Kit — $47");
        result.GetProperty("paid").GetString().ShouldBe("$571");
        Strings(result.GetProperty("receipt")).ShouldBe(["masterclass-basic", "cover-design-pack", "mini-ebook-kit"]);
        JsonElement admin = result.GetProperty("admin");
        admin.GetProperty("orders").GetString().ShouldBe("2");
        admin.GetProperty("revenue").GetString().ShouldBe("$571");
        admin.GetProperty("upsells-accepted").GetString().ShouldBe("1");
        admin.GetProperty("upsells-declined").GetString().ShouldBe("1");
        AssertFunnelCountedOnce(admin);
        AssertCommonPages(result, "decline", 9);
    }

    private static void AssertFunnelCountedOnce(JsonElement admin)
    {
        foreach (string step in (string[])["website-visit", "guide-download", "sales-page", "checkout", "purchase"])
        {
            admin.GetProperty("reached-" + step).GetString().ShouldBe("1", $"step {step}");
        }

        admin.GetProperty("customers").GetString().ShouldBe("1");
        admin.GetProperty("confirmed").GetString().ShouldBe("1");
        admin.GetProperty("checkouts").GetString().ShouldBe("1");
    }

    private static void AssertCommonPages(JsonElement result, string scenario, int pages)
    {
        result.GetProperty("deadline").GetString()!.ShouldContain("Enroll this week");
        result.GetProperty("countdown").GetString()!.ShouldStartWith("6d 23h");
        Strings(result.GetProperty("tiers")).ShouldBe(["Basic Masterclass", "Masterclass Premium", "Mini E-Book Kit"]);
        result.GetProperty("chartBars").GetInt32().ShouldBe(5);
        string[] screenshots = Strings(result.GetProperty("screenshots"));
        screenshots.Length.ShouldBe(pages);
        foreach (string file in screenshots)
        {
            Path.GetFileName(file).ShouldStartWith(scenario + "-");
            byte[] bytes = File.ReadAllBytes(file);
            bytes.Length.ShouldBeGreaterThan(5_000, file);
            bytes.Take(8).ShouldBe(PngSignature, file);
        }
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private async Task<JsonElement> RunJourneyAsync(string scenario)
    {
        foreach (string old in Directory.EnumerateFiles(browser.ScreenshotDirectory, scenario + "-*.png"))
        {
            File.Delete(old);
        }

        await using WebShopServer shop = await WebShopServer.StartAsync(browser.WebShopDll);
        (int exit, string output, string error) = await ProcessRunner.RunAsync(
            browser.Node,
            ["journey.mjs", "--base", shop.Address.ToString().TrimEnd('/'), "--out", browser.ScreenshotDirectory, "--scenario", scenario],
            browser.ScriptDirectory,
            TimeSpan.FromMinutes(3));
        string json = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? string.Empty;
        exit.ShouldBe(0, $"The journey failed: {output} {error}");
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement result = document.RootElement.Clone();
        result.GetProperty("ok").GetBoolean().ShouldBeTrue(json);
        return result;
    }
}
