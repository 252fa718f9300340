using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Funnel.TestSupport;

/// <summary>Deletes a test process's temporary files after the process has ended, however it ended.</summary>
/// <remarks>
/// A <see cref="AppDomain.ProcessExit"/> handler is not enough: the test runner kills its test host shortly after the
/// run (VSTest waits about 100 ms), a crash test may SIGKILL a process, and a PostgreSQL cluster of a few GB takes longer
/// than that to delete. Left over run after run, such folders filled the CI machine's disk. So, on Linux and macOS, a
/// small detached shell (<c>setsid -f sh</c>, outside the test host's process tree) waits for the test process to end,
/// runs an optional stop command (such as <c>pg_ctl stop</c> for a server that would otherwise keep running) and
/// deletes the folder. On Windows, or without <c>setsid</c>, it falls back to a <see cref="AppDomain.ProcessExit"/> handler.
/// </remarks>
public static class LeftoverCleanup
{
    /// <summary>Deletes <paramref name="path"/> (a folder) once this process has ended.</summary>
    /// <param name="path">The folder to delete; it must be under the temporary folder.</param>
    /// <param name="stopFirst">A command and its arguments to run first (its failure is ignored), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not under <see cref="Path.GetTempPath"/> or holds a quote.</exception>
    public static void RemoveWhenProcessEnds(string path, IReadOnlyList<string>? stopFirst = null)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.GetFullPath(Path.GetTempPath());
        if (!full.StartsWith(temp, StringComparison.Ordinal) || full.Length <= temp.Length + 1)
        {
            throw new ArgumentException($"'{path}' is not a folder under the temporary folder '{temp}'.", nameof(path));
        }

        if (OperatingSystem.IsWindows() || !TryStartWatcher(full, stopFirst ?? []))
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(full);
        }
    }

    private static bool TryStartWatcher(string path, IReadOnlyList<string> stopFirst)
    {
        string stop = stopFirst.Count == 0 ? string.Empty : string.Join(' ', stopFirst.Select(Quote)) + " >/dev/null 2>&1;";
        string script =
            "exec </dev/null >/dev/null 2>&1; " +
            $"while kill -0 {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; do sleep 1; done; " +
            $"{stop} rm -rf -- {Quote(path)}";
        ProcessStartInfo start = new("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "-f", "sh", "-c", script })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using Process? setsid = Process.Start(start);
            if (setsid is null)
            {
                return false;
            }

            // setsid -f forks the shell and returns at once.
            setsid.WaitForExit(10_000);
            return setsid.HasExited && setsid.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false; // No setsid on the PATH.
        }
    }

    private static string Quote(string value) =>
        value.Contains('\'', StringComparison.Ordinal)
            ? throw new ArgumentException($"'{value}' holds a quote.", nameof(value))
            : "'" + value + "'";

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open at exit; nothing more can be done from here.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
