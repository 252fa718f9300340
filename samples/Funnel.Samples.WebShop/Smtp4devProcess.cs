using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Funnel.Samples.WebShop;

/// <summary>smtp4dev started by the shop as a child process when no SMTP server is configured, so <c>dotnet run</c> needs no setup.</summary>
/// <remarks>
/// Runs the repository's local tool (<c>.config/dotnet-tools.json</c>) in memory on free 127.0.0.1 ports and stops it
/// when the shop stops. The shop falls back to its <c>/dev/outbox</c> page when it cannot start.
/// </remarks>
public sealed partial class Smtp4devProcess : IDisposable
{
    private readonly Process process;
    private readonly string dataPath;

    private Smtp4devProcess(Process process, string dataPath, int smtpPort, Uri webUi)
    {
        this.process = process;
        this.dataPath = dataPath;
        SmtpPort = smtpPort;
        WebUi = webUi;
    }

    /// <summary>Gets the SMTP port on 127.0.0.1.</summary>
    public int SmtpPort { get; }

    /// <summary>Gets the address of smtp4dev's web UI, where the sent emails can be read.</summary>
    public Uri WebUi { get; }

    /// <summary>Restores the tool and starts smtp4dev; returns <see langword="null"/> with the reason when it cannot.</summary>
    public static async Task<(Smtp4devProcess? Server, string? Problem)> TryStartAsync(TimeSpan timeout)
    {
        string? root = FindToolManifestRoot();
        if (root is null)
        {
            return (null, "no .config/dotnet-tools.json was found above the current directory or the app");
        }

        if (await RunAsync(root, timeout, "tool", "restore") is { } restoreProblem)
        {
            return (null, "'dotnet tool restore' failed: " + restoreProblem);
        }

        string dataPath = Path.Combine(Path.GetTempPath(), "funnel-webshop-smtp4dev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["tool", "run", "smtp4dev", "--", "--urls=http://127.0.0.1:0", "--smtpport=0", "--bindaddress=127.0.0.1", "--disableipv6",
                     "--db=", "--imapport=", "--pop3port=", "--tlsmode=None", "--nousersettings", "--baseappdatapath=" + dataPath])
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, "could not start 'dotnet tool run smtp4dev': " + ex.Message);
        }

        var smtp = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var web = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (SmtpPattern().Match(line) is { Success: true } s)
            {
                smtp.TrySetResult(int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture));
            }

            if (WebPattern().Match(line) is { Success: true } w)
            {
                web.TrySetResult(new Uri(w.Groups[1].Value + "/"));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Task both = Task.WhenAll(smtp.Task, web.Task);
        if (await Task.WhenAny(both, process.WaitForExitAsync(), Task.Delay(timeout)) != both)
        {
            Stop(process, dataPath);
            return (null, "smtp4dev did not report its ports in time");
        }

        return (new Smtp4devProcess(process, dataPath, await smtp.Task, await web.Task), null);
    }

    /// <summary>Stops smtp4dev and deletes its temp folder.</summary>
    public void Dispose() => Stop(process, dataPath);

    private static void Stop(Process process, string dataPath)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
            // A file still open; the temp folder is cleaned by the OS.
        }
    }

    private static string? FindToolManifestRoot()
    {
        foreach (string start in (string[])[Directory.GetCurrentDirectory(), AppContext.BaseDirectory])
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, ".config", "dotnet-tools.json")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    private static async Task<string?> RunAsync(string directory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return "timed out";
        }

        return process.ExitCode == 0 ? null : (await output + await error).Trim();
    }

    [GeneratedRegex(@"SMTP Server is listening on port (\d+)")]
    private static partial Regex SmtpPattern();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex WebPattern();
}
