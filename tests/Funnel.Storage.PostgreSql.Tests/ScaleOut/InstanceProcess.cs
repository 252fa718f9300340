using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace Funnel.Storage.PostgreSql.Tests.ScaleOut;

/// <summary>One run of the instance host (<c>Funnel.Storage.PostgreSql.InstanceHost</c>) as a child process, its output in a log file.</summary>
internal sealed class InstanceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _killed;

    private InstanceProcess(string name, string logPath, string[] arguments)
    {
        Name = name;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        ProcessStartInfo start = new(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostPath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _started.TrySetException(new InvalidOperationException($"{Name} exited before it started: {Tail()}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Gets the instance's name.</summary>
    public string Name { get; }

    /// <summary>Gets the process id, which names its journals.</summary>
    public int Id => _process.Id;

    /// <summary>Gets the log file of its standard output and error.</summary>
    public string LogPath { get; }

    /// <summary>Gets whether it exited although the test did not kill it.</summary>
    public bool ExitedByItself => _process.HasExited && !_killed;

    /// <summary>Gets its exit code, once it exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Runs <c>serve</c>, returning once the app serves.</summary>
    public static async Task<InstanceProcess> ServeAsync(string connectionString, int port, string name, string folder, string secret)
    {
        InstanceProcess instance = new(name, Path.Combine(folder, $"{name}-{Guid.NewGuid():N}.out"),
            ["serve", connectionString, port.ToString(CultureInfo.InvariantCulture), name, folder, secret]);
        try
        {
            await instance._started.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch
        {
            instance.Kill();
            instance.Dispose();
            throw;
        }

        return instance;
    }

    /// <summary>Runs a command to its end and returns the exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string folder, TimeSpan timeout, params string[] arguments)
    {
        using InstanceProcess run = new(arguments[0], Path.Combine(folder, $"{arguments[0]}-{Guid.NewGuid():N}.out"), arguments);
        using CancellationTokenSource cancel = new(timeout);
        await run._process.WaitForExitAsync(cancel.Token);
        run._process.WaitForExit(); // drains the output
        _ = run._started.Task.Exception; // observed: a command never prints "started"
        return (run._process.ExitCode, run.Tail());
    }

    /// <summary>Kills it with SIGKILL (no finally block, no flush, no dispose runs) and waits until it is gone.</summary>
    public void Kill()
    {
        _killed = true;
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    /// <summary>Returns the last lines of its output.</summary>
    public string Tail()
    {
        lock (_gate)
        {
            _log.Flush();
        }

        using FileStream file = new(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using StreamReader reader = new(file);
        return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(30));
    }

    public void Dispose()
    {
        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _log.WriteLine(line);
        }

        if (line == "started")
        {
            _started.TrySetResult();
        }
    }

    private static string HostPath()
    {
        string path = typeof(InstanceProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "InstanceHostPath").Value!;
        File.Exists(path).ShouldBeTrue($"the instance host is built with the tests: {path}");
        return path;
    }
}
