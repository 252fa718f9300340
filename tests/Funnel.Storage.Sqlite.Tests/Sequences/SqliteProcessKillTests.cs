using Funnel.Storage;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Funnel.Sequences;
using Funnel.Storage.Sqlite.Internal;
using Xunit.Abstractions;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>
/// Design note §7.9: a child process dispatches over a SQLite file with a sender that journals each accepted send to
/// disk, and is killed with SIGKILL at a random point, several times in a row; then a fresh process finishes after the
/// lease. Every key reaches a final state, no send is lost, and a send is repeated only if the killed process had it
/// accepted after its last stored outcome (its entry still open with no outcome when the process died).
/// </summary>
public sealed class SqliteProcessKillTests(ITestOutputHelper output)
{
    private const int Leads = 200;
    private const int Steps = 3;
    private const int Kills = 3;

    /// <summary>Further than the default 5-minute lease, so each process starts after every earlier claim's lease.</summary>
    private const int SecondsBetweenProcesses = 10 * 60;

    [Fact]
    public async Task Dispatch_KilledWithSigkillSeveralTimesThenFinished_EveryKeyFinalNoSendLostRepeatsOnlyInTheWindow()
    {
        string path = SqliteTestDatabase.NewPath();
        string folder = Path.GetDirectoryName(path)!;
        int seed = Environment.TickCount;
        Random random = new(seed);
        output.WriteLine($"random seed {seed}; database {path}");
        (await RunToEndAsync(["seed", path, Count(Leads)])).ShouldBe(0);

        List<string> journals = [];
        HashSet<string> window = new(StringComparer.Ordinal);
        for (int process = 1; process <= Kills; process++)
        {
            string journal = Path.Combine(folder, $"journal-{process}.txt");
            journals.Add(journal);
            // Killed at a random point of its share of the remaining sends (by progress, not time, so a fast or a
            // loaded machine both kill mid-run); the poll's latency adds where in the send-store cycle it lands.
            int remaining = (Leads * Steps) - Outbox(path).Values.Count(v => v.State == SendState.Sent);
            int target = random.Next(1, Math.Max(2, remaining / (Kills - process + 2)));
            Stopwatch running = Stopwatch.StartNew();
            bool alive = await KillAfterAsync(["dispatch", path, Count(Leads), journal, Count(process * SecondsBetweenProcesses)], journal, target, random);
            HashSet<string> accepted = Journal(journal);
            Dictionary<string, (SendState State, SendState? Outcome)> left = Outbox(path);
            HashSet<string> unrecorded = [.. accepted.Where(k => left[k] is { Outcome: null, State: SendState.Pending or SendState.Sending or SendState.FailedTransient })];
            window.UnionWith(unrecorded);
            output.WriteLine($"process {process}: {(alive ? "killed" : "had finished")} after {running.ElapsedMilliseconds} ms (target {target} sends), {accepted.Count} sends accepted, "
                + $"{unrecorded.Count} of them without a stored outcome, {left.Values.Count(v => v.State == SendState.Sent)} entries sent so far");
            alive.ShouldBeTrue($"process {process} finished before its kill at {target} sends");
        }

        string last = Path.Combine(folder, "journal-final.txt");
        journals.Add(last);
        (await RunToEndAsync(["dispatch", path, Count(Leads), last, Count((Kills + 1) * SecondsBetweenProcesses)])).ShouldBe(0);

        Dictionary<string, (SendState State, SendState? Outcome)> outbox = Outbox(path);
        outbox.Count.ShouldBe(Leads * Steps);
        outbox.Values.ShouldAllBe(e => e.State == SendState.Sent, "every key reaches a final state");
        List<(string Key, int Process)> sends = [.. journals.SelectMany((j, i) => Lines(j).Select(k => (k, i)))];
        sends.Select(s => s.Key).ToHashSet(StringComparer.Ordinal).SetEquals(outbox.Keys).ShouldBeTrue("every key was sent at least once");
        List<IGrouping<string, (string Key, int Process)>> repeated = [.. sends.GroupBy(s => s.Key).Where(g => g.Count() > 1)];
        foreach (IGrouping<string, (string Key, int Process)> key in repeated)
        {
            window.ShouldContain(key.Key, $"{key.Key} was sent {key.Count()} times, but its outcome had been stored before the kill");
            key.Select(s => s.Process).ShouldBeUnique($"{key.Key} was sent twice by one process");
        }

        using SqliteDatabase database = SqliteTestDatabase.Open(path);
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM outbox_events")!, CancellationToken.None)).ShouldBe(0, "every event was handed out and acknowledged");
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM enrolments WHERE status <> 1")!, CancellationToken.None)).ShouldBe(0, "every enrolment completed");
        output.WriteLine($"{sends.Count} sends for {outbox.Count} keys: {repeated.Count} keys sent twice, all among the {window.Count} "
            + "sends that killed processes had accepted after their last stored outcome.");
    }

    /// <summary>
    /// Automations under SIGKILL: each process gives every lead another value of the field the branch asks about, so a
    /// branch evaluated again after a kill would send the other path's email. Every lead gets exactly one path, its
    /// branch entry records that path, every step ends final, and each lead's tag event is recorded once.
    /// </summary>
    [Fact]
    public async Task Automation_KilledWithSigkillSeveralTimesThenFinished_EachBranchTakesOnePathAndEveryActionIsRecordedOnce()
    {
        const int leads = 150;
        string path = SqliteTestDatabase.NewPath();
        string folder = Path.GetDirectoryName(path)!;
        int seed = Environment.TickCount;
        Random random = new(seed);
        output.WriteLine($"random seed {seed}; database {path}");
        (await RunToEndAsync(["seed", path, Count(leads), "automation", "0"])).ShouldBe(0);

        List<string> journals = [];
        for (int process = 1; process <= Kills; process++)
        {
            string journal = Path.Combine(folder, $"journal-{process}.txt");
            journals.Add(journal);
            // The first process (phase 1: the branches take "then") is killed after sending every lead's first email and
            // some of the "then" emails, so it has recorded branches that later processes (phase 2 on: "else") finish.
            int target = process == 1 ? random.Next(leads + 1, leads + (leads / 3)) : random.Next(1, leads);
            bool alive = await KillAfterAsync(["dispatch", path, Count(leads), journal, Count(process * SecondsBetweenProcesses), "automation", Count(process)], journal, target, random);
            output.WriteLine($"process {process} (phase {process}): {(alive ? "killed" : "had finished")} after {Lines(journal).Count} sends");
        }

        string last = Path.Combine(folder, "journal-final.txt");
        journals.Add(last);
        (await RunToEndAsync(["dispatch", path, Count(leads), last, Count((Kills + 1) * SecondsBetweenProcesses), "automation", Count(Kills + 1)])).ShouldBe(0);

        using SqliteDatabase database = SqliteTestDatabase.Open(path);
        List<(string Key, SendState State, string? Reason)> outbox = database.Read(static s => s.Query(
            "SELECT key, state, reason FROM outbox",
            static r => (r.GetString(0), (SendState)r.GetInt32(1), r.IsDBNull(2) ? null : r.GetString(2))));
        outbox.ShouldAllBe(e => e.State == SendState.Sent || e.State == SendState.Done, "every step reaches a final state");
        HashSet<string> sent = [.. journals.SelectMany(Lines)];
        foreach (IGrouping<string, (string Key, SendState State, string? Reason)> lead in outbox.GroupBy(e => e.Key[..e.Key.IndexOf(':', StringComparison.Ordinal)]))
        {
            Dictionary<string, (SendState State, string? Reason)> steps = lead.ToDictionary(e => e.Key[(e.Key.IndexOf(':', StringComparison.Ordinal) + 1)..], e => (e.State, e.Reason));
            (string? Reason, SendState State) branch = (steps["phase-one"].Reason, steps["phase-one"].State);
            branch.State.ShouldBe(SendState.Done);
            string taken = branch.Reason == "then" ? "two-then" : "two-else";
            string other = branch.Reason == "then" ? "two-else" : "two-then";
            steps.Keys.Order(StringComparer.Ordinal).ShouldBe(["one", "phase-one", "tag", "three", taken], ignoreOrder: true);
            sent.ShouldContain(lead.Key + ":" + taken);
            sent.ShouldNotContain(lead.Key + ":" + other, $"enrolment {lead.Key} recorded '{branch.Reason}' but was sent the other path");
        }

        outbox.Count(e => e.Key.EndsWith(":two-then", StringComparison.Ordinal)).ShouldBeGreaterThan(0, "the first process recorded branches before its kill");
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM events WHERE type = 'lead_tagged'")!, CancellationToken.None)).ShouldBe(leads, "each lead's tag is recorded once");
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM events WHERE type = 'sequence_branched'")!, CancellationToken.None)).ShouldBe(leads, "each branch is recorded once");
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM enrolments WHERE status <> 1")!, CancellationToken.None)).ShouldBe(0, "every enrolment completed");
        output.WriteLine($"{outbox.Count(e => e.Key.EndsWith(":two-then", StringComparison.Ordinal))} leads took 'then' (recorded by process 1), {outbox.Count(e => e.Key.EndsWith(":two-else", StringComparison.Ordinal))} 'else' (evaluated by a later process).");
    }

    /// <summary>
    /// A sequence email's automatic winner test over SQLite, run by processes killed with SIGKILL while the pipeline's
    /// handlers tally it (a killed process's handlers redeliver from their stored positions), then one process an hour
    /// and more later: each lead is counted once, each open once, and the test is decided once.
    /// </summary>
    [Fact]
    public async Task WinnerTest_KilledWhileTheHandlersTally_CountsEachLeadOnceAndDecidesOnce()
    {
        const int leads = 240;
        string path = SqliteTestDatabase.NewPath();
        int seed = Environment.TickCount;
        Random random = new(seed);
        output.WriteLine($"random seed {seed}; database {path}");
        for (int process = 1; process <= Kills; process++)
        {
            using Process child = Start(["winner", path, Count(leads), "0"]);
            await WaitForLineAsync(child, "delivering");
            await Task.Delay(random.Next(0, 200));
            bool alive = !child.HasExited;
            if (alive)
            {
                child.Kill(); // SIGKILL: mid-delivery, with handler positions and tallies partly stored.
            }

            await child.WaitForExitAsync();
            output.WriteLine($"process {process}: {(alive ? "killed while delivering" : "had finished (its decision waits for the hour)")}");
        }

        using Process last = Start(["winner", path, Count(leads), Count(2 * 3600)]);
        string printed = await last.StandardOutput.ReadToEndAsync();
        await last.WaitForExitAsync();

        last.ExitCode.ShouldBe(0, await last.StandardError.ReadToEndAsync());
        printed.ShouldContain("decided short True");
        ImmutableArray<EmailVariant> variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Subject = "Open" }];
        int opens = Enumerable.Range(0, leads).Count(n =>
            EmailVariants.Assign("crash-winner/launch", new LeadId(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9)), variants)!.Key == "short" ? n % 5 < 3 : n % 20 < 3);
        using SqliteDatabase database = SqliteTestDatabase.Open(path);
        string results = (string)(await database.ReadAsync(static s => s.Scalar("SELECT results FROM sequence_test_decisions WHERE test = 'crash-winner/launch'"), CancellationToken.None))!;
        ImmutableArray<Funnel.Email.VariantResult> tally = System.Text.Json.JsonSerializer.Deserialize<ImmutableArray<Funnel.Email.VariantResult>>(results, FunnelJson.Options);
        tally.Sum(static r => r.Sent).ShouldBe(leads, "each lead's send counted once");
        tally.Sum(static r => r.Converted).ShouldBe(opens, "each open counted once");
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM events WHERE type = 'sequence_test_decided'")!, CancellationToken.None)).ShouldBe(1);
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM events WHERE type = 'email_sent'")!, CancellationToken.None)).ShouldBe(leads);
        (await database.ReadAsync(static s => (long)s.Scalar("SELECT count(*) FROM sequence_test_sends")!, CancellationToken.None)).ShouldBe(0, "the decision ends the tally");
    }

    /// <summary>Starts a dispatching crash host and kills it with SIGKILL once its journal holds <paramref name="target"/> sends (polled at random short intervals); returns whether it was still running.</summary>
    private static async Task<bool> KillAfterAsync(string[] arguments, string journal, int target, Random random)
    {
        using Process child = Start(arguments);
        await WaitForLineAsync(child, "dispatching");
        Stopwatch running = Stopwatch.StartNew();
        while (!child.HasExited && Lines(journal).Count < target && running.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(random.Next(0, 3));
        }

        bool alive = !child.HasExited;
        if (alive)
        {
            child.Kill(); // SIGKILL on Unix: no finally block, no flush, no dispose runs.
        }

        await child.WaitForExitAsync();
        return alive;
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static HashSet<string> Journal(string path) => File.Exists(path) ? Lines(path).ToHashSet(StringComparer.Ordinal) : [];

    /// <summary>The journal's complete lines (a line torn by the kill has no newline and is not a send the sender returned).</summary>
    private static List<string> Lines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        string text = File.ReadAllText(path);
        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : [.. text[..end].Split('\n')];
    }

    private static Dictionary<string, (SendState State, SendState? Outcome)> Outbox(string path)
    {
        using SqliteDatabase database = SqliteTestDatabase.Open(path, static o => o.Migrations = MigrationMode.Validate);
        return database.Read(static s => s.Query(
                "SELECT key, state, outcome FROM outbox",
                static r => (Key: r.GetString(0), State: (SendState)r.GetInt32(1), Outcome: r.IsDBNull(2) ? (SendState?)null : (SendState)r.GetInt32(2))))
            .ToDictionary(static r => r.Key, static r => (r.State, r.Outcome), StringComparer.Ordinal);
    }

    private async Task<int> RunToEndAsync(string[] arguments)
    {
        using Process child = Start(arguments);
        using CancellationTokenSource timeout = new(TimeSpan.FromMinutes(5));
        Task<string> stdout = child.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> stderr = child.StandardError.ReadToEndAsync(timeout.Token);
        await child.WaitForExitAsync(timeout.Token);
        string lines = await stdout;
        output.WriteLine($"{arguments[0]}: exit {child.ExitCode}, {lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length} lines of output {await stderr}");
        return child.ExitCode;
    }

    private static async Task WaitForLineAsync(Process child, string expected)
    {
        using CancellationTokenSource timeout = new(TimeSpan.FromMinutes(1));
        while (await child.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == expected)
            {
                // Keep draining the output, so the child never blocks on a full pipe.
                _ = child.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return;
            }
        }

        throw new InvalidOperationException($"The crash host ended before it printed '{expected}': {await child.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    private static Process Start(string[] arguments)
    {
        ProcessStartInfo start = new(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CrashHostPath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("The crash host did not start.");
    }

    private static string CrashHostPath()
    {
        string path = typeof(SqliteProcessKillTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "CrashHostPath").Value!;
        File.Exists(path).ShouldBeTrue($"the crash host is built with the tests: {path}");
        return path;
    }
}
