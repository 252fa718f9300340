using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Funnel.TestSupport;

/// <summary>A real smtp4dev SMTP server for tests: started on free 127.0.0.1 ports, read back through its HTTP API, stopped on dispose.</summary>
/// <remarks>
/// <para>
/// <see cref="StartAsync"/> runs <c>dotnet tool restore</c> in the repository root (found by walking up from the test
/// binaries to <c>.config/dotnet-tools.json</c>, which pins <c>Rnwood.Smtp4dev</c>), then starts
/// <c>dotnet tool run smtp4dev</c> headless and in memory with SMTP and HTTP on port 0, and parses the chosen ports
/// from its output ("SMTP Server is listening on port N", "Now listening on: http://127.0.0.1:N").
/// IMAP and POP3 are off; the app-data folder is a fresh temp folder, deleted on dispose.
/// </para>
/// <para>
/// Use one server per test class (an xunit class fixture) and call <see cref="DeleteAllMessagesAsync"/> between tests,
/// or filter messages by recipient. Reading: <see cref="GetMessagesAsync"/> (summaries), <see cref="GetRawAsync"/>
/// (the full RFC 822 source) and <see cref="WaitForMessagesAsync"/>.
/// </para>
/// </remarks>
public sealed partial class Smtp4devServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim RestoreGate = new(1, 1);
    private static bool restored;

    private readonly Process process;
    private readonly string dataPath;
    private readonly HttpClient http;

    private Smtp4devServer(Process process, string dataPath, int smtpPort, Uri apiBase)
    {
        this.process = process;
        this.dataPath = dataPath;
        SmtpPort = smtpPort;
        ApiBase = apiBase;
        http = new HttpClient { BaseAddress = apiBase, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Gets the host to connect to: always <c>127.0.0.1</c>.</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>Gets the SMTP port.</summary>
    public int SmtpPort { get; }

    /// <summary>Gets the base URL of the web UI and HTTP API.</summary>
    public Uri ApiBase { get; }

    /// <summary>Restores the local tool if needed and starts a server.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">The tool could not be restored, or the server did not report its ports within 90 seconds.</exception>
    public static async Task<Smtp4devServer> StartAsync(CancellationToken cancellationToken = default)
    {
        string root = FindRepositoryRoot();
        await RestoreToolAsync(root, cancellationToken).ConfigureAwait(false);

        string dataPath = Path.Combine(Path.GetTempPath(), "funnel-smtp4dev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        ProcessStartInfo start = new("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "tool", "run", "smtp4dev", "--",
            "--urls=http://127.0.0.1:0", "--smtpport=0", "--bindaddress=127.0.0.1", "--disableipv6", "--db=",
            "--imapport=", "--pop3port=", "--tlsmode=None", "--nousersettings", "--baseappdatapath=" + dataPath, "--messagestokeep=10000",
        })
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start 'dotnet tool run smtp4dev'.");
        TaskCompletionSource<int> smtp = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource<Uri> web = new(TaskCreationOptions.RunContinuationsAsynchronously);
        List<string> output = [];
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
            }

            Match m = SmtpPortPattern().Match(line);
            if (m.Success)
            {
                smtp.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }

            m = WebPattern().Match(line);
            if (m.Success)
            {
                web.TrySetResult(new Uri(m.Groups[1].Value + "/"));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Task both = Task.WhenAll(smtp.Task, web.Task);
        Task exited = process.WaitForExitAsync(cancellationToken);
        Task first = await Task.WhenAny(both, exited, Task.Delay(TimeSpan.FromSeconds(90), cancellationToken)).ConfigureAwait(false);
        if (first != both)
        {
            Stop(process);
            string log;
            lock (output)
            {
                log = string.Join(Environment.NewLine, output.TakeLast(40));
            }

            throw new InvalidOperationException("smtp4dev did not report its ports (exited or timed out). Output:" + Environment.NewLine + log);
        }

        return new Smtp4devServer(process, dataPath, await smtp.Task.ConfigureAwait(false), await web.Task.ConfigureAwait(false));
    }

    /// <summary>Returns the received messages, newest first (up to 5,000; the server keeps 10,000).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The message summaries.</returns>
    public async Task<IReadOnlyList<Smtp4devMessage>> GetMessagesAsync(CancellationToken cancellationToken = default)
    {
        Page? page = await http.GetFromJsonAsync<Page>("api/messages?pageSize=5000", cancellationToken).ConfigureAwait(false);
        return page?.Results ?? [];
    }

    /// <summary>Returns the full RFC 822 source of a message (headers and MIME body).</summary>
    /// <param name="id">The message id from <see cref="Smtp4devMessage.Id"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The raw message.</returns>
    public Task<string> GetRawAsync(string id, CancellationToken cancellationToken = default) =>
        http.GetStringAsync("api/messages/" + Uri.EscapeDataString(id) + "/raw", cancellationToken);

    /// <summary>Deletes every received message.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when deleted.</returns>
    public async Task DeleteAllMessagesAsync(CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await http.DeleteAsync("api/messages/*", cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Polls until at least <paramref name="count"/> messages match, or the timeout passes.</summary>
    /// <param name="count">The number of messages to wait for.</param>
    /// <param name="filter">Selects the messages to count; <see langword="null"/> counts all.</param>
    /// <param name="timeout">How long to wait; defaults to 30 seconds.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The matching messages (possibly fewer than <paramref name="count"/> after the timeout).</returns>
    public async Task<IReadOnlyList<Smtp4devMessage>> WaitForMessagesAsync(int count, Func<Smtp4devMessage, bool>? filter = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (true)
        {
            IReadOnlyList<Smtp4devMessage> messages = [.. (await GetMessagesAsync(cancellationToken).ConfigureAwait(false)).Where(m => filter is null || filter(m))];
            if (messages.Count >= count || watch.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                return messages;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the server and deletes its temp folder.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        Stop(process);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        process.Dispose();
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is cleaned by the OS otherwise.
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static async Task RestoreToolAsync(string root, CancellationToken cancellationToken)
    {
        await RestoreGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (restored)
            {
                return;
            }

            ProcessStartInfo start = new("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("tool");
            start.ArgumentList.Add("restore");
            using Process restore = Process.Start(start) ?? throw new InvalidOperationException("Could not run 'dotnet tool restore'.");
            Task<string> stdout = restore.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = restore.StandardError.ReadToEndAsync(cancellationToken);
            await restore.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (restore.ExitCode != 0)
            {
                throw new InvalidOperationException($"'dotnet tool restore' failed ({restore.ExitCode}): {await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
            }

            restored = true;
        }
        finally
        {
            RestoreGate.Release();
        }
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, ".config", "dotnet-tools.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("No .config/dotnet-tools.json found above " + AppContext.BaseDirectory + ".");
    }

    [GeneratedRegex(@"SMTP Server is listening on port (\d+)")]
    private static partial Regex SmtpPortPattern();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex WebPattern();

    private sealed record Page([property: JsonPropertyName("results")] List<Smtp4devMessage>? Results);
}

/// <summary>A message summary from smtp4dev's <c>GET /api/messages</c>.</summary>
/// <param name="Id">The message id, for <see cref="Smtp4devServer.GetRawAsync"/>.</param>
/// <param name="From">The envelope sender.</param>
/// <param name="To">The recipients.</param>
/// <param name="Subject">The subject.</param>
public sealed record Smtp4devMessage(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("from")] string? From,
    [property: JsonPropertyName("to")] IReadOnlyList<string>? To,
    [property: JsonPropertyName("subject")] string? Subject);
