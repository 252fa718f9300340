using System.Diagnostics;
using System.Text.RegularExpressions;
using Funnel.TestSupport;

namespace Funnel.Browser.Tests;

/// <summary>The WebShop sample as a real Kestrel server on 127.0.0.1 and a free port, stopped on dispose.</summary>
internal sealed partial class WebShopServer : IAsyncDisposable
{
    /// <summary>This test process's folder for the shops' data, deleted when the process ends.</summary>
    private static readonly Lazy<string> DataRoot = new(static () =>
    {
        string root = Path.Combine(Path.GetTempPath(), "funnel-webshop-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        LeftoverCleanup.RemoveWhenProcessEnds(root);
        return root;
    });

    private readonly Process process;

    private WebShopServer(Process process, Uri address, Func<string> log)
    {
        this.process = process;
        Address = address;
        Log = log;
    }

    public Uri Address { get; }

    /// <summary>Gets what the shop wrote to stdout and stderr so far.</summary>
    public Func<string> Log { get; }

    /// <summary>Returns a free port on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts the shop on a free port (its tracking links need the real address), with extra configuration such as <c>Smtp:Host</c>.</summary>
    /// <remarks>Without a <c>Shop:DataFolder</c> setting the shop gets an empty temporary one, so no run sees another's data.</remarks>
    public static async Task<WebShopServer> StartAsync(string dll, IReadOnlyDictionary<string, string> settings, int? port = null)
    {
        port ??= FreePort();
        if (!settings.ContainsKey("Shop:DataFolder"))
        {
            settings = new Dictionary<string, string>(settings) { ["Shop:DataFolder"] = Path.Combine(DataRoot.Value, Guid.NewGuid().ToString("N")) };
        }

        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (KeyValuePair<string, string> setting in settings)
        {
            info.ArgumentList.Add($"--{setting.Key}={setting.Value}");
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_NOLOGO"] = "1";

        Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the WebShop.");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            Match match = ListeningPattern().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The WebShop exited early: {log}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return new WebShopServer(process, address, () => { lock (log) { return log.ToString(); } });
        }
        catch
        {
            Stop(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Stops the shop as a service manager would (SIGTERM), and waits for it to exit.</summary>
    public async Task StopGracefullyAsync()
    {
        using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Kills the shop with SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        process.Kill();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ValueTask DisposeAsync()
    {
        Stop(process);
        process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningPattern();
}
