using System.Globalization;
using System.Text.Json;
using Funnel.TestSupport;
using Xunit.Abstractions;

namespace Funnel.Browser.Tests;

/// <summary>
/// Drives every page of the Funnel dashboard in the WebShop (a real process on its SQLite store) in headless Chromium,
/// after the browser journey produced data: figures, the retry actions, refusals, screenshots and an axe-core audit.
/// </summary>
/// <remarks>
/// The screenshots go to <c>artifacts/screenshots/dashboard/</c> at the repository root. The in-process tests of the
/// same pages, security and actions are in Funnel.AspNetCore.Dashboard.Tests; this one checks the whole shop.
/// </remarks>
[Collection(ChromiumTests.Name)]
public sealed class DashboardTests(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Dashboard_AfterTheJourney_EveryPageMatchesTheReportActsRefusesAndPassesAxe()
    {
        string screenshots = Path.Combine(browser.ScreenshotDirectory, "dashboard");
        if (Directory.Exists(screenshots))
        {
            Directory.Delete(screenshots, recursive: true);
        }

        string dataFolder = Path.Combine(Path.GetTempPath(), "funnel-webshop-dashboard", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataFolder);
        LeftoverCleanup.RemoveWhenProcessEnds(dataFolder); // even if this process is killed mid-test
        string adminKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        try
        {
            await using Smtp4devServer smtp = await Smtp4devServer.StartAsync();
            await using SmtpGate gate = new(smtp.Host, smtp.SmtpPort, Path.Combine(dataFolder, "smtp-gate.open"));
            await using WebShopServer shop = await WebShopServer.StartAsync(browser.WebShopDll, new Dictionary<string, string>
            {
                ["Shop:DataFolder"] = dataFolder,
                ["Shop:AdminKey"] = adminKey,
                ["Smtp:Host"] = "127.0.0.1",
                ["Smtp:Port"] = gate.Port.ToString(CultureInfo.InvariantCulture),
                ["Smtp:Security"] = "None",
            });
            string baseUrl = shop.Address.ToString().TrimEnd('/');
            string smtpApi = smtp.ApiBase.ToString().TrimEnd('/');

            // The journey's data: a lead who confirmed, bought with the bump and took the upsell.
            JsonElement journey = await RunScriptAsync(shop, "journey.mjs",
                ["--base", baseUrl, "--smtp4dev", smtpApi, "--out", Path.Combine(screenshots, "journey"), "--scenario", "accept"]);
            string order = journey.GetProperty("order").GetString().ShouldNotBeNull();

            // The SMTP server goes down: the next send fails until the script opens the gate again.
            gate.Close();
            string webhookKey = (await File.ReadAllTextAsync(Path.Combine(dataFolder, "test-webhooks.key"))).Trim();
            JsonElement result = await RunScriptAsync(shop, "dashboard.mjs",
            [
                "--base", baseUrl, "--admin-key", adminKey, "--smtp4dev", smtpApi, "--smtp-gate", gate.OpenFile,
                "--webhook-key", webhookKey, "--order", order, "--lead", "reader-accept@example.com", "--out", screenshots,
            ]);

            foreach (JsonElement v in result.GetProperty("minorViolations").EnumerateArray())
            {
                output.WriteLine($"axe (moderate or minor) on {v.GetProperty("page")}: {v.GetProperty("id")} {v.GetProperty("impact")} {v.GetProperty("targets")}");
            }

            string[] serious = [.. result.GetProperty("violations").EnumerateArray().Select(v =>
                $"{v.GetProperty("page")}: {v.GetProperty("id")} ({v.GetProperty("impact")}) {v.GetProperty("help")} at {v.GetProperty("targets")}")];
            serious.ShouldBeEmpty("axe-core found serious or critical violations:\n" + string.Join('\n', serious));

            JsonElement refused = result.GetProperty("refused");
            refused.GetProperty("anonymousPage").GetProperty("status").GetInt32().ShouldBeOneOf(302, 401);
            refused.GetProperty("anonymousAction").GetProperty("status").GetInt32().ShouldBeOneOf(302, 401, 403);
            refused.GetProperty("withoutToken").GetProperty("status").GetInt32().ShouldBe(400);

            result.GetProperty("sendRetry").GetInt32().ShouldBe(303);
            result.GetProperty("retriedEmail").GetString().ShouldBe("Confirm your address to get The E-Book Quick-Start Guide");
            result.GetProperty("webhookRetry").GetInt32().ShouldBe(303);
            JsonElement attempts = result.GetProperty("webhookAttempts");
            attempts.GetProperty("after").GetInt32().ShouldBeGreaterThan(attempts.GetProperty("before").GetInt32());
            result.GetProperty("parkedWebhookProcess").GetInt32().ShouldBe(303);
            JsonElement parked = result.GetProperty("parkedWebhookOutcome");
            parked.GetProperty("stillParked").GetBoolean().ShouldBeTrue();
            parked.GetProperty("status").GetString().ShouldNotBeNull().ShouldContain("still parked");
            parked.GetProperty("after").GetInt32().ShouldBe(parked.GetProperty("before").GetInt32() + 1);
            parked.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("is not recorded yet");

            // The journey's figures (JourneyTests checks the shop's report); the script checked the dashboard equals it.
            JsonElement kpis = result.GetProperty("figures").GetProperty("kpis");
            kpis.GetProperty("Orders").GetString().ShouldBe("2");
            kpis.GetProperty("Customers").GetString().ShouldBe("1");
            JsonElement lead = result.GetProperty("lead");
            lead.GetProperty("email").GetString().ShouldBe("reader-accept@example.com");
            lead.GetProperty("heading").GetString().ShouldBe("Lead reader-accept@example.com");
            lead.GetProperty("timeline").GetInt32().ShouldBeGreaterThan(0);

            string[] files = [.. result.GetProperty("screenshots").EnumerateArray().Select(e => e.GetString()!)];
            files.Length.ShouldBeGreaterThanOrEqualTo(11, "one screenshot per page: " + string.Join(", ", files));
            string[] audited = [.. result.GetProperty("pages").EnumerateArray().Select(e => e.GetString()!.Split('?')[0].TrimEnd('/'))];
            foreach (JsonElement linked in result.GetProperty("navigation").EnumerateArray())
            {
                audited.ShouldContain(linked.GetString()!.TrimEnd('/'), "every page in the dashboard's navigation is screenshot and audited");
            }

            foreach (string file in files)
            {
                byte[] bytes = await File.ReadAllBytesAsync(file);
                bytes.Length.ShouldBeGreaterThan(5_000, file);
                bytes.Take(8).ShouldBe(PngSignature, file);
            }
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("FUNNEL_KEEP_DATA") is null && Directory.Exists(dataFolder))
            {
                Directory.Delete(dataFolder, recursive: true);
            }
        }
    }

    private async Task<JsonElement> RunScriptAsync(WebShopServer shop, string script, string[] arguments)
    {
        (int exit, string stdout, string stderr) = await ProcessRunner.RunAsync(
            browser.Node, [script, .. arguments], browser.ScriptDirectory, TimeSpan.FromMinutes(5));
        string json = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? string.Empty;
        output.WriteLine($"{script}: {json}");
        exit.ShouldBe(0, $"{script} failed: {stdout} {stderr}\nShop log:\n{shop.Log()}");
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}

/// <summary>The tests that start Chromium and the WebShop run one at a time: two at once overload a 2-core CI machine.</summary>
[CollectionDefinition(Name)]
public sealed class ChromiumTests
{
    public const string Name = "Chromium";
}
