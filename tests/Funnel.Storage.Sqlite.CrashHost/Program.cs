using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Funnel;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Funnel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

// Usage:
//   seed     <database> <leads>                          enrols the leads in the "crash-test" sequence
//   dispatch <database> <leads> <journal> <clockOffsetSeconds>
//            dispatches until nothing is due, journalling each accepted send's key (flushed to disk) before the
//            sender returns; prints "dispatching" once it starts, then one line per dispatch.
// An extra "automation <phase>" (after <leads> for seed, after <clockOffsetSeconds> for dispatch) runs the
// "crash-automation" sequence instead, whose branch asks whether the lead's field "phase" is "1": each process gives
// every lead its own phase, so a branch evaluated again by a later process would take the other path.
//   winner   <database> <leads> <clockOffsetSeconds>
//            the "crash-winner" sequence's automatic winner test: enrols and sends, records the opens (deterministic ids),
//            prints "delivering", runs the pipeline (whose sequences handler tallies the test) to the end, then decides
//            the test and prints "decided <winner> <significant>" or "undecided". Every step is safe to run again.
// The clock is the system clock plus the offset, so a process started after a killed one can be "after the lease"
// without waiting for it. Every process adds the leads (the same ids) if the lead store does not have them yet.
if (args.Length == 4 && args[0] == "winner")
{
    return await WinnerTest.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), Duration.FromSeconds(long.Parse(args[3], CultureInfo.InvariantCulture)));
}

if (args.Length < 3 || args[0] is not ("seed" or "dispatch") || args[0] == "dispatch" && args.Length < 5)
{
    await Console.Error.WriteLineAsync("usage: seed <database> <leads> | dispatch <database> <leads> <journal> <clockOffsetSeconds>");
    return 2;
}

string database = args[1];
int extra = args[0] == "seed" ? 3 : 5;
bool automation = args.Length > extra + 1 && args[extra] == "automation";
string phase = automation ? args[extra + 1] : string.Empty;
SequenceDefinition definition = automation ? CrashTestSequence.Automation : CrashTestSequence.Definition;
int leads = int.Parse(args[2], CultureInfo.InvariantCulture);
bool seed = args[0] == "seed";
Duration offset = seed ? Duration.Zero : Duration.FromSeconds(long.Parse(args[4], CultureInfo.InvariantCulture));
using JournallingSender? journal = seed ? null : new JournallingSender(args[3]);

ServiceCollection services = new();
services.AddSingleton<IClock>(new OffsetClock(offset));
services.AddFunnel(o => o.TimeZoneId = "UTC");
services.AddFunnelSequences();
services.AddSingleton<IEmailSender>(journal ?? (IEmailSender)new RefusingSender());
services.AddSingleton(definition);
services.AddFunnelSqlite("Data Source=" + database);
await using ServiceProvider provider = services.BuildServiceProvider();

ILeadStore leadStore = provider.GetRequiredService<ILeadStore>();
Instant created = Instant.FromUtc(2026, 1, 1, 0, 0);
for (int i = 0; i < leads; i++)
{
    if (automation && await leadStore.FindAsync(CrashTestSequence.Lead(i)) is { } known)
    {
        // The leads are stored in the database by the seeding process: this process gives them its own phase.
        await leadStore.TryUpdateAsync(known, known with { CustomFields = known.CustomFields.SetItem("phase", phase), Version = known.Version + 1 });
        continue;
    }

    await leadStore.TryAddAsync(new LeadProfile
    {
        Id = CrashTestSequence.Lead(i),
        Email = EmailAddress.Parse($"lead{i}@example.com"),
        CreatedAt = created,
        CustomFields = automation ? System.Collections.Immutable.ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("phase", phase) : System.Collections.Immutable.ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal),
    });
}

SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
IClock clock = provider.GetRequiredService<IClock>();
if (seed)
{
    Instant now = clock.GetCurrentInstant();
    await Parallel.ForAsync(0, leads, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        await engine.EnrolAsync(CrashTestSequence.Lead(i), definition.Key, now, cancellationToken: ct));
    Console.WriteLine("seeded " + leads.ToString(CultureInfo.InvariantCulture));
    return 0;
}

Console.WriteLine("dispatching");
while (true)
{
    DispatchResult result = await engine.DispatchDueAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"claimed {result.Claimed} sent {result.Sent} events {result.Events.Length}"));
    if (result.Claimed == 0)
    {
        return 0;
    }
}

/// <summary>The sequence the crash tests dispatch: three emails, each as soon as the previous one is sent.</summary>
internal static class CrashTestSequence
{
    public static SequenceDefinition Definition { get; } = new()
    {
        Key = "crash-test",
        IsMarketing = false,
        Steps =
        [
            new SequenceStep { Key = "one", Subject = "One", TextBody = "First." },
            new SequenceStep { Key = "two", Subject = "Two", TextBody = "Second." },
            new SequenceStep { Key = "three", Subject = "Three", TextBody = "Third." },
        ],
    };

    /// <summary>An automation: an email, a branch on the lead's field <c>phase</c>, one email per path, a tag, and a last email.</summary>
    public static SequenceDefinition Automation { get; } = new()
    {
        Key = "crash-automation",
        IsMarketing = false,
        Steps =
        [
            new SequenceStep { Key = "one", Subject = "One", TextBody = "First." },
            new SequenceStep
            {
                Key = "phase-one",
                If = new Funnel.Segments.FieldRule("phase", Funnel.Segments.FieldOperator.Equal, "1"),
                Then = [new SequenceStep { Key = "two-then", Subject = "Two", TextBody = "Then." }],
                Else = [new SequenceStep { Key = "two-else", Subject = "Two", TextBody = "Else." }],
            },
            new SequenceStep { Key = "tag", Action = new AddTag("done") },
            new SequenceStep { Key = "three", Subject = "Three", TextBody = "Third." },
        ],
    };

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9));
}

/// <summary>The system clock moved by a fixed offset.</summary>
internal sealed class OffsetClock(Duration offset) : IClock
{
    public Instant GetCurrentInstant() => SystemClock.Instance.GetCurrentInstant() + offset;
}

/// <summary>The mail server of the test: each accepted send's key is appended to the journal and flushed to disk before the send returns.</summary>
internal sealed class JournallingSender(string path) : IEmailSender, IDisposable
{
    private readonly FileStream _journal = new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 4096, FileOptions.None);
    private readonly Lock _gate = new();

    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        byte[] line = Encoding.UTF8.GetBytes(message.IdempotencyKey + "\n");
        lock (_gate)
        {
            _journal.Write(line);
            _journal.Flush(flushToDisk: true);
        }

        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + "@crash-test>"));
    }

    public void Dispose() => _journal.Dispose();
}

/// <summary>The sender of the seeding process, which must send nothing.</summary>
internal sealed class RefusingSender : IEmailSender
{
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("The seeding process does not send.");
}


/// <summary>The "winner" mode: a sequence email's automatic winner test run to its decision by processes that may be killed.</summary>
internal static class WinnerTest
{
    public const string Test = "crash-winner/launch";

    public static SequenceDefinition Definition { get; } = new()
    {
        Key = "crash-winner",
        IsMarketing = false,
        Steps =
        [
            new SequenceStep
            {
                Key = "launch",
                Subject = "Doors are open",
                TextBody = "Open.",
                Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Subject = "Open" }],
                WinnerTest = new StepWinnerTest { Wait = Duration.FromHours(1), MinimumSamplePerVariant = 50 },
            },
        ],
    };

    /// <summary>Whether lead <paramref name="n"/> opens the launch email: 3 in 5 readers of "short", 3 in 20 of the control.</summary>
    public static bool Opens(int n) =>
        EmailVariants.Assign(Test, CrashTestSequence.Lead(n), Definition.Steps[0].Variants)!.Key == "short" ? n % 5 < 3 : n % 20 < 3;

    public static async Task<int> RunAsync(string database, int leads, Duration offset)
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(new OffsetClock(offset));
        services.AddFunnel(o => o.TimeZoneId = "UTC");
        services.AddFunnelSequences();
        services.AddFunnelAnalytics();
        services.AddSingleton<IEmailSender>(new AcceptingSender());
        services.AddSingleton(Definition);
        services.AddFunnelSqlite("Data Source=" + database);
        await using ServiceProvider provider = services.BuildServiceProvider();
        ILeadStore leadStore = provider.GetRequiredService<ILeadStore>();
        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        Instant start = Instant.FromUtc(2026, 1, 1, 0, 0);
        for (int i = 0; i < leads; i++)
        {
            if (await leadStore.FindAsync(CrashTestSequence.Lead(i)) is null)
            {
                await leadStore.TryAddAsync(new LeadProfile { Id = CrashTestSequence.Lead(i), Email = EmailAddress.Parse($"lead{i}@example.com"), CreatedAt = start });
                await engine.EnrolAsync(CrashTestSequence.Lead(i), Definition.Key, start);
            }
        }

        while ((await engine.DispatchDueAsync()).Claimed > 0)
        {
        }

        // Opens with ids derived from the lead: a later process appends them again and the log keeps each once.
        Instant opened = start + Duration.FromMinutes(5);
        await provider.GetRequiredService<Funnel.Pipeline.IFunnelEventLog>().AppendAsync([.. Enumerable.Range(0, leads).Where(Opens).Select(i => (Funnel.Events.FunnelEvent)new Funnel.Events.EmailOpened
        {
            Id = Funnel.EventId.Derive(new Funnel.EventId(CrashTestSequence.Lead(i).Value), "crash-winner:opened"),
            LeadId = CrashTestSequence.Lead(i),
            OccurredAt = opened,
            Email = "launch",
        })]);
        Console.WriteLine("delivering");
        await provider.GetRequiredService<Funnel.Pipeline.FunnelPipeline>().DeliverAllAsync();
        ImmutableArray<Funnel.Events.FunnelEvent> decided = await engine.DecideTestsAsync();
        Console.WriteLine(decided.OfType<SequenceTestDecided>().FirstOrDefault() is { } d
            ? string.Create(CultureInfo.InvariantCulture, $"decided {d.Winner} {d.Significant}")
            : "undecided");
        return 0;
    }

    /// <summary>A mail server that accepts everything.</summary>
    private sealed class AcceptingSender : IEmailSender
    {
        public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) =>
            Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + "@crash-test>"));
    }
}
