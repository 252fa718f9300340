using System.Reflection;
using System.Security.Cryptography;

namespace Funnel.Browser.Tests;

/// <summary>Makes the browser tests' tools ready, idempotently: Debian's Chromium and the pinned playwright-core.</summary>
/// <remarks>
/// CI runs as root on a fresh Debian machine: Chromium is installed with <c>apt-get</c> only when
/// <c>/usr/bin/chromium</c> is missing, and <c>npm ci</c> runs only when <c>package-lock.json</c> changed since the
/// last install. Playwright never downloads a browser: the script starts <c>/usr/bin/chromium</c>.
/// </remarks>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    public string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public string WebShopDll { get; } = Metadata("WebShopDll");

    public string ScriptDirectory => Path.Combine(RepositoryRoot, "tests", "Funnel.Browser.Tests", "js");

    public string ScreenshotDirectory => Path.Combine(RepositoryRoot, "artifacts", "screenshots");

    public string Node { get; private set; } = "node";

    public async Task InitializeAsync()
    {
        await EnsureAptPackageAsync(Chromium, "chromium");
        if (ProcessRunner.Which("node") is null || ProcessRunner.Which("npm") is null)
        {
            await AptInstallAsync("nodejs", "npm");
        }

        Node = ProcessRunner.Which("node") ?? throw new InvalidOperationException("node is not on the PATH after installing it.");
        await EnsureNodePackagesAsync();
        Directory.CreateDirectory(ScreenshotDirectory);
        File.Exists(WebShopDll).ShouldBeTrue($"The WebShop sample should be built at {WebShopDll}.");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task EnsureAptPackageAsync(string file, string package)
    {
        if (!File.Exists(file))
        {
            await AptInstallAsync(package);
        }

        File.Exists(file).ShouldBeTrue($"{file} should exist after installing the Debian package {package}.");
    }

    private static async Task AptInstallAsync(params string[] packages)
    {
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        (int updated, string updateOut, string updateErr) = await ProcessRunner.RunAsync("apt-get", ["update"], "/", InstallTimeout, env);
        updated.ShouldBe(0, $"apt-get update failed: {updateOut} {updateErr}");
        (int installed, string output, string error) = await ProcessRunner.RunAsync("apt-get", ["install", "-y", "--no-install-recommends", .. packages], "/", InstallTimeout, env);
        installed.ShouldBe(0, $"apt-get install {string.Join(' ', packages)} failed: {output} {error}");
    }

    private async Task EnsureNodePackagesAsync()
    {
        string lockFile = Path.Combine(ScriptDirectory, "package-lock.json");
        string marker = Path.Combine(ScriptDirectory, "node_modules", ".funnel-lock-sha256");
        string hash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)));
        if (File.Exists(marker) && await File.ReadAllTextAsync(marker) == hash
            && File.Exists(Path.Combine(ScriptDirectory, "node_modules", "playwright-core", "package.json")))
        {
            return;
        }

        string npm = ProcessRunner.Which("npm") ?? throw new InvalidOperationException("npm is not on the PATH.");
        var env = new Dictionary<string, string> { ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1" };
        (int exit, string output, string error) = await ProcessRunner.RunAsync(npm, ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], ScriptDirectory, InstallTimeout, env);
        exit.ShouldBe(0, $"npm ci failed: {output} {error}");
        await File.WriteAllTextAsync(marker, hash);
    }

    private static string Metadata(string key) =>
        typeof(BrowserFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing.");
}
