using System.Text.Json;
using Funnel.TestSupport;

namespace Funnel.Browser.Tests;

/// <summary>Walks a visitor through the WebShop in headless Chromium: blog → opt-in → confirmation email (smtp4dev) → sales page → guide email → its link to the sales page → checkout with bump and test card → upsell → thank-you → admin.</summary>
[Collection(ChromiumTests.Name)]
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
        AssertCommonPages(result, "accept", 10);
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
        AssertCommonPages(result, "decline", 11);
    }

    private static void AssertFunnelCountedOnce(JsonElement admin)
    {
        foreach (string step in (string[])["website-visit", "guide-download", "sales-page", "checkout", "purchase"])
        {
            admin.GetProperty("reached-" + step).GetString().ShouldBe("1", $"step {step}");
        }

        admin.GetProperty("customers").GetString().ShouldBe("1");
        admin.GetProperty("opt-ins").GetString().ShouldBe("1");
        admin.GetProperty("emails-sent").GetString().ShouldBe("3", "the confirmation, the guide and the welcome that the purchase starts");
        admin.GetProperty("emails-clicked").GetString().ShouldBe("1");
        admin.GetProperty("emails-opened").GetString().ShouldBe("2", "the confirmation's and the guide's open pixels loaded in the browser: both are sequence emails now");
        admin.GetProperty("payments").GetString().ShouldBe("2");
        admin.GetProperty("webhooks-processed").GetString().ShouldBe("2", "one signed webhook per payment, delivered by HTTP to the shop itself");
        admin.GetProperty("confirmed").GetString().ShouldBe("1");
        admin.GetProperty("checkouts").GetString().ShouldBe("1");
    }

    private static void AssertCommonPages(JsonElement result, string scenario, int pages)
    {
        Strings(result.GetProperty("emails")).ShouldBe(["Confirm your address to get The E-Book Quick-Start Guide", "Your E-Book Quick-Start Guide"]);
        result.GetProperty("guideLink").GetString()!.ShouldContain("/funnel/email/click/");
        result.GetProperty("listUnsubscribe").GetString()!.ShouldContain("/funnel/email/unsubscribe/");
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

        // The shop sends real email to an smtp4dev the test starts; the journey reads it through smtp4dev's API.
        await using Smtp4devServer smtp = await Smtp4devServer.StartAsync();
        await using WebShopServer shop = await WebShopServer.StartAsync(browser.WebShopDll, new Dictionary<string, string>
        {
            ["Smtp:Host"] = smtp.Host,
            ["Smtp:Port"] = smtp.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
        });
        (int exit, string output, string error) = await ProcessRunner.RunAsync(
            browser.Node,
            ["journey.mjs", "--base", shop.Address.ToString().TrimEnd('/'), "--smtp4dev", smtp.ApiBase.ToString().TrimEnd('/'), "--out", browser.ScreenshotDirectory, "--scenario", scenario],
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
