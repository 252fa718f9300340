using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using Funnel.TestSupport;
using Npgsql;
using Xunit.Abstractions;

namespace Funnel.Storage.PostgreSql.Tests.ScaleOut;

/// <summary>
/// Issue 16, "several instances, real processes": three app processes (<c>Funnel.Storage.PostgreSql.InstanceHost</c>)
/// share one PostgreSQL database and dispatch 100,002 sends to a journalling sender while the test kills one of them
/// with SIGKILL at random points and restarts it, and once stops PostgreSQL with <c>pg_ctl stop -m immediate</c> and
/// starts it again. Meanwhile the same payment webhook is posted to two instances at once, for several orders.
/// </summary>
/// <remarks>
/// The documented duplicate window ("at least once, never lost"): a send the provider accepted whose outcome was not
/// stored yet when its process died, or when the database went away, is sent again once its claim's lease ends. The
/// test takes that set exactly: right after each kill, the keys the dead process journalled whose entries are still
/// open with no outcome (its claims cannot move before their lease ends); right after the database restart, the keys
/// journalled before the restart whose entries are still open with no outcome. Every key sent more than once must be
/// in it.
/// </remarks>
public sealed class InstanceProcessTests(ITestOutputHelper output)
{
    private const int Leads = 33_334;
    private const int Steps = 3;
    private const int Sends = Leads * Steps;
    private const int Instances = 3;
    private const int Kills = 4;
    private const int Orders = 12;

    /// <summary>Counts the partitions of any handler (<c>name#i/6</c>) whose position is before the last event of their partition.</summary>
    private const string LaggingPartitions = """
        SELECT count(*) FROM funnel.event_subscriptions s
        CROSS JOIN LATERAL (SELECT substring(s.name FROM '#([0-9]+)/6$')::int AS i) p
        WHERE p.i IS NOT NULL AND s.name NOT LIKE '$instance%'
          AND (s.document->>'position')::bigint < (SELECT coalesce(max(e.position), 0) FROM funnel.events e WHERE e.partition_key % 6 = p.i)
        """;

    /// <summary>The log rows the analytics segments do not reach yet.</summary>
    private const string SegmentsBehind =
        "SELECT (SELECT coalesce(max(position), 0) FROM funnel.events) - (SELECT position FROM funnel.analytics_progress)";

    /// <summary>Fractions of the sends at which the test kills an instance (randomised a little each run); the database stops after the second.</summary>
    private static readonly double[] KillPoints = [0.12, 0.32, 0.55, 0.75];

    [Fact]
    public async Task ThreeInstances_KilledAndDatabaseRestarted_EverySendFinalNoneLostEventsDeliveredGrantsOnce()
    {
        int seed = Environment.TickCount;
        Random random = new(seed);
        string folder = Directory.CreateTempSubdirectory("funnel-scale-out-").FullName;
        output.WriteLine($"random seed {seed}; journals and logs in {folder}");
        await using PostgresServer server = await PostgresServer.StartAsync();
        string connectionString = await server.CreateDatabaseAsync();
        string query = connectionString + ";Pooling=false";
        Stopwatch total = Stopwatch.StartNew();

        (int seeded, string seedOutput) = await InstanceProcess.RunAsync(folder, TimeSpan.FromMinutes(10), "seed", connectionString, Count(Leads));
        seeded.ShouldBe(0, seedOutput);
        TimeSpan seeding = total.Elapsed;
        output.WriteLine($"seeded {Leads} leads and enrolments in {seeding.TotalSeconds:F1} s");

        string secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        int[] ports = [.. Enumerable.Range(0, Instances).Select(_ => FreePort())];
        InstanceProcess[] instances = await Task.WhenAll(Enumerable.Range(0, Instances)
            .Select(i => InstanceProcess.ServeAsync(connectionString, ports[i], $"i{i}", folder, secret)));
        List<InstanceProcess> all = [.. instances];
        Stopwatch running = Stopwatch.StartNew();
        HashSet<string> window = new(StringComparer.Ordinal);
        using HttpClient http = new() { Timeout = TimeSpan.FromSeconds(60) };
        bool passed = false;
        try
        {
            // The same webhook to two instances at once, for each order, while the instances dispatch.
            List<string> orders = [];
            for (int n = 0; n < Orders; n++)
            {
                orders.Add(await CheckoutAndDeliverTwiceAsync(http, ports, n));
            }

            output.WriteLine($"{Orders} orders paid by webhooks posted to two instances at once, {running.Elapsed.TotalSeconds:F1} s in");

            // Kills at random points of the progress, and the database stop after the second.
            for (int kill = 0; kill < Kills; kill++)
            {
                int target = (int)(Sends * (KillPoints[kill] + (random.NextDouble() * 0.06)));
                long sent = await WaitForSentAsync(query, target, all);
                int victim = random.Next(Instances);
                InstanceProcess dead = instances[victim];
                await WithinABatchAsync(dead, folder, random);
                dead.Kill();
                HashSet<string> unrecorded = await UnrecordedAsync(query, JournalKeys(folder, dead, untilMs: long.MaxValue));
                window.UnionWith(unrecorded);
                output.WriteLine($"{running.Elapsed.TotalSeconds,6:F1} s: killed {dead.Name} (pid {dead.Id}) at {sent} sent; "
                    + $"{unrecorded.Count} of its sends had no stored outcome");
                instances[victim] = await InstanceProcess.ServeAsync(connectionString, ports[victim], dead.Name, folder, secret);
                all.Add(instances[victim]);

                if (kill == 1)
                {
                    await WithinABatchAsync(instances[random.Next(Instances)], folder, random);
                    await server.StopImmediateAsync();
                    output.WriteLine($"{running.Elapsed.TotalSeconds,6:F1} s: PostgreSQL stopped (immediate)");
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    await server.StartAgainAsync();
                    long restartedAt = NowMs();
                    HashSet<string> lost = await UnrecordedAsync(query, [.. all.SelectMany(p => JournalKeys(folder, p, restartedAt))]);
                    window.UnionWith(lost);
                    output.WriteLine($"{running.Elapsed.TotalSeconds,6:F1} s: PostgreSQL started again; {lost.Count} sends had no stored outcome");
                }
            }

            // Every key reaches a final state; then every event reaches the journal handler.
            await WaitForAsync(TimeSpan.FromMinutes(10), all, async () =>
                await ScalarAsync(query, "SELECT count(*) FROM funnel.outbox WHERE state IN (0, 1, 3)") == 0
                && await ScalarAsync(query, "SELECT count(*) FROM funnel.outbox") == Sends);
            TimeSpan dispatched = running.Elapsed;
            HashSet<string> logged = [.. await ListAsync(query, "SELECT id::text FROM funnel.events")];
            await WaitForAsync(TimeSpan.FromMinutes(5), all, async () =>
            {
                logged = [.. await ListAsync(query, "SELECT id::text FROM funnel.events")];
                HashSet<string> handled = [.. Lines(folder, "handled-").Select(l => l.Line)];
                return logged.IsSubsetOf(handled) && await ScalarAsync(query, LaggingPartitions) == 0;
            });
            output.WriteLine($"{running.Elapsed.TotalSeconds,6:F1} s: every send final after {dispatched.TotalSeconds:F1} s, every event handled");

            all.Where(p => p.ExitedByItself).ShouldBeEmpty("no instance may exit by itself");
            await AssertSendsAsync(query, folder, window, dispatched);
            await AssertEventsAsync(query, folder, logged);
            await AssertGrantsAsync(query, folder, orders);
            await AssertSegmentsAsync(query, all);
            output.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s (seeding {seeding.TotalSeconds:F1} s)");
            passed = true;
        }
        finally
        {
            foreach (InstanceProcess instance in all)
            {
                instance.Kill();
                instance.Dispose();
            }

            if (passed)
            {
                Directory.Delete(folder, recursive: true); // kept when the test fails, for its journals and logs
            }
        }
    }

    private async Task AssertSendsAsync(string query, string folder, HashSet<string> window, TimeSpan dispatched)
    {
        Dictionary<string, (int State, int? Outcome)> outbox = await OutboxAsync(query);
        outbox.Count.ShouldBe(Sends);
        outbox.Values.Count(e => e.State != 2).ShouldBe(0, "every key is sent (state 2)");

        List<(string File, string Line)> journalled = Lines(folder, "sends-");
        List<(string Key, long At, string File)> sends = [.. journalled.Select(j => (j.Line.Split(' ')[0], long.Parse(j.Line.Split(' ')[1], CultureInfo.InvariantCulture), j.File))];
        sends.Select(s => s.Key).ToHashSet(StringComparer.Ordinal).SetEquals(outbox.Keys).ShouldBeTrue("every key was sent at least once, and no other");
        List<IGrouping<string, (string Key, long At, string File)>> repeated = [.. sends.GroupBy(s => s.Key).Where(g => g.Count() > 1)];
        foreach (IGrouping<string, (string Key, long At, string File)> key in repeated)
        {
            window.ShouldContain(key.Key, $"{key.Key} was sent {key.Count()} times ({string.Join(", ", key.Select(s => Path.GetFileName(s.File)))}), "
                + "but its outcome had been stored before any kill or database stop");
        }

        long first = sends.Min(s => s.At), last = sends.Max(s => s.At);
        double seconds = (last - first) / 1000.0;
        output.WriteLine($"sends: {sends.Count} accepted for {Sends} keys in {seconds:F1} s ({Sends / seconds:F0} keys/s across {Instances} instances, "
            + $"{dispatched.TotalSeconds:F1} s until every key was final); per process: "
            + string.Join(", ", journalled.GroupBy(j => Path.GetFileNameWithoutExtension(j.File)[6..]).Select(g => $"{g.Key} {g.Count()}")));
        output.WriteLine($"duplicates: {sends.Count - Sends} extra sends of {repeated.Count} keys, all within the window of {window.Count} sends "
            + "accepted but not recorded when a process died or the database stopped");
    }

    private async Task AssertEventsAsync(string query, string folder, HashSet<string> logged)
    {
        List<(string File, string Line)> handled = Lines(folder, "handled-");
        HashSet<string> distinct = [.. handled.Select(h => h.Line)];
        logged.IsSubsetOf(distinct).ShouldBeTrue("every event reached the journal handler");
        (await ScalarAsync(query, "SELECT count(*) FROM funnel.parked_events")).ShouldBe(0, "no handler parked an event");
        (await ScalarAsync(query, LaggingPartitions)).ShouldBe(0, "every handler's every partition is at the end of its events");
        long partitions = await ScalarAsync(query, "SELECT count(*) FROM funnel.event_subscriptions WHERE name ~ '#[0-9]+/6$' AND name NOT LIKE '$instance%'");
        partitions.ShouldBeGreaterThanOrEqualTo(6, "the journal handler's 6 partitions at least are stored");
        (await ScalarAsync(query, "SELECT count(*) FROM funnel.outbox_events")).ShouldBe(0, "every dispatch event was handed out and acknowledged");
        (await ScalarAsync(query, "SELECT count(*) FROM funnel.enrolments WHERE status <> 1")).ShouldBe(0, "every enrolment completed");
        output.WriteLine($"events: {logged.Count} in the log; {partitions} handler partitions all at the end; handed to the journal handler {handled.Count} "
            + $"times ({handled.Count - distinct.Count} redeliveries); per process: "
            + string.Join(", ", handled.GroupBy(h => Path.GetFileNameWithoutExtension(h.File)[8..]).Select(g => $"{g.Key} {g.Count()}")));
    }

    /// <summary>The instances' analytics segment writers, killed mid-transaction and cut off by the restart, hold every lead event once.</summary>
    private async Task AssertSegmentsAsync(string query, List<InstanceProcess> all)
    {
        await WaitForAsync(TimeSpan.FromMinutes(2), all, async () => await ScalarAsync(query, SegmentsBehind) == 0);
        long events = await ScalarAsync(query, "SELECT count(*) FROM funnel.events WHERE lead_id IS NOT NULL OR type = 'ad_spend_recorded'");
        (await ScalarAsync(query, "SELECT coalesce(sum(event_count), 0) FROM funnel.analytics_segments")).ShouldBe(events, "every lead event is in one segment");
        (await ScalarAsync(query, """
            SELECT count(*) FROM (SELECT type, count(*) AS n FROM funnel.events WHERE lead_id IS NOT NULL OR type = 'ad_spend_recorded' GROUP BY type) e
            FULL JOIN (SELECT type, sum(event_count) AS n FROM funnel.analytics_segments GROUP BY type) s USING (type)
            WHERE e.n IS DISTINCT FROM s.n
            """)).ShouldBe(0, "each type's segments hold exactly its lead events");
        output.WriteLine($"analytics segments: {events} lead events in {await ScalarAsync(query, "SELECT count(*) FROM funnel.analytics_segments")} segments");
    }

    private async Task AssertGrantsAsync(string query, string folder, List<string> orders)
    {
        List<(string File, string Line)> grants = Lines(folder, "grants-");
        foreach (string order in orders)
        {
            grants.Count(g => g.Line.StartsWith(order, StringComparison.Ordinal)).ShouldBe(1, $"order {order} is granted once");
        }

        grants.Count.ShouldBe(orders.Count);
        (await ScalarAsync(query, "SELECT count(*) FROM funnel.events WHERE type = 'entitlement_granted'")).ShouldBe(orders.Count);
        output.WriteLine($"grants: {grants.Count} for {orders.Count} orders, each webhook posted to two instances at once");
    }

    /// <summary>Places and pays an order on one instance, then posts its "payment succeeded" webhook to the two others at once.</summary>
    private static async Task<string> CheckoutAndDeliverTwiceAsync(HttpClient http, int[] ports, int n)
    {
        using HttpResponseMessage placed = await http.PostAsync(Url(ports[n % ports.Length], $"/test/checkout/{n}"), null);
        placed.StatusCode.ShouldBe(HttpStatusCode.OK, await placed.Content.ReadAsStringAsync());
        WebhookCopy webhook = (await placed.Content.ReadFromJsonAsync<WebhookCopy>())!;
        HttpStatusCode[] answers = await Task.WhenAll(
            PostWebhookAsync(http, ports[(n + 1) % ports.Length], webhook), PostWebhookAsync(http, ports[(n + 2) % ports.Length], webhook));
        answers.ShouldAllBe(a => a == HttpStatusCode.OK);
        return webhook.Order;
    }

    private static async Task<HttpStatusCode> PostWebhookAsync(HttpClient http, int port, WebhookCopy webhook)
    {
        using ByteArrayContent content = new(Convert.FromBase64String(webhook.Body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using HttpRequestMessage request = new(HttpMethod.Post, Url(port, "/funnel/webhooks/test")) { Content = content };
        request.Headers.TryAddWithoutValidation("Funnel-Test-Signature", webhook.Signature);
        using HttpResponseMessage response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>
    /// Returns once the process's journal has grown by a random number of sends (up to two batches), watching it every
    /// millisecond: its sends come in bursts of a claimed batch, so a kill or a database stop right after mostly lands
    /// among the sends of a batch, before all their outcomes are stored, rather than between batches.
    /// </summary>
    private static async Task WithinABatchAsync(InstanceProcess process, string folder, Random random)
    {
        FileInfo journal = new(SendsJournal(folder, process));
        long target = (journal.Exists ? journal.Length : 0) + random.Next(1, 1000) * 50L;
        Stopwatch waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            journal.Refresh();
            if (journal.Exists && journal.Length >= target)
            {
                break;
            }

            await Task.Delay(1);
        }
    }

    private static async Task<long> WaitForSentAsync(string query, int target, List<InstanceProcess> all)
    {
        long sent = 0;
        await WaitForAsync(TimeSpan.FromMinutes(5), all, async () => (sent = await ScalarAsync(query, "SELECT count(*) FROM funnel.outbox WHERE state = 2")) >= target,
            TimeSpan.FromMilliseconds(100));
        return sent;
    }

    private static async Task WaitForAsync(TimeSpan timeout, List<InstanceProcess> all, Func<Task<bool>> done, TimeSpan? poll = null)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!await done())
        {
            if (all.FirstOrDefault(p => p.ExitedByItself) is { } exited)
            {
                throw new InvalidOperationException($"{exited.Name} (pid {exited.Id}) exited by itself with code {exited.ExitCode}:\n{exited.Tail()}");
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"Not done after {timeout}. Logs:\n" + string.Join("\n", all.Select(p => $"--- {p.Name} ({p.Id})\n{p.Tail()}")));
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>Of the given keys, those whose entries are still open with no stored outcome.</summary>
    private static async Task<HashSet<string>> UnrecordedAsync(string query, IEnumerable<string> keys)
    {
        await using NpgsqlConnection connection = new(query);
        await connection.OpenAsync();
        await using NpgsqlCommand command = new("SELECT key FROM funnel.outbox WHERE key = ANY($1) AND state IN (0, 1, 3) AND outcome IS NULL", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = keys.Distinct().ToArray() });
        HashSet<string> open = new(StringComparer.Ordinal);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            open.Add(reader.GetString(0));
        }

        return open;
    }

    private static async Task<Dictionary<string, (int State, int? Outcome)>> OutboxAsync(string query)
    {
        await using NpgsqlConnection connection = new(query);
        await connection.OpenAsync();
        await using NpgsqlCommand command = new("SELECT key, state, outcome FROM funnel.outbox", connection);
        Dictionary<string, (int, int?)> rows = new(StringComparer.Ordinal);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = (reader.GetInt16(1), reader.IsDBNull(2) ? null : reader.GetInt16(2));
        }

        return rows;
    }

    private static async Task<long> ScalarAsync(string query, string sql)
    {
        await using NpgsqlConnection connection = new(query);
        await connection.OpenAsync();
        await using NpgsqlCommand command = new(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task<List<string>> ListAsync(string query, string sql)
    {
        await using NpgsqlConnection connection = new(query);
        await connection.OpenAsync();
        await using NpgsqlCommand command = new(sql, connection);
        List<string> values = [];
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>The keys a process journalled up to a time (unix ms).</summary>
    private static IEnumerable<string> JournalKeys(string folder, InstanceProcess process, long untilMs) =>
        CompleteLines(SendsJournal(folder, process))
            .Select(l => l.Split(' '))
            .Where(p => long.Parse(p[1], CultureInfo.InvariantCulture) <= untilMs)
            .Select(p => p[0]);

    private static string SendsJournal(string folder, InstanceProcess process) =>
        Path.Combine(folder, $"sends-{process.Name}-{process.Id.ToString(CultureInfo.InvariantCulture)}.log");

    /// <summary>The complete lines of every journal whose name starts with <paramref name="prefix"/>.</summary>
    private static List<(string File, string Line)> Lines(string folder, string prefix) =>
        [.. Directory.GetFiles(folder, prefix + "*.log").SelectMany(f => CompleteLines(f).Select(l => (f, l)))];

    /// <summary>A journal's complete lines: a line torn by a kill has no newline and is not a call that returned.</summary>
    private static List<string> CompleteLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using StreamReader reader = new(file);
        string text = reader.ReadToEnd();
        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : [.. text[..end].Split('\n')];
    }

    private static Uri Url(int port, string path) => new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}{path}");

    private static long NowMs() => NodaTime.SystemClock.Instance.GetCurrentInstant().ToUnixTimeMilliseconds();

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The host's answer to <c>POST /test/checkout/{n}</c>.</summary>
    private sealed record WebhookCopy(string Order, string Body, string Signature);
}
