using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Funnel.Email;

namespace Funnel.Benchmarks;

/// <summary>The configuration of the durable dispatch benchmarks: one launch, one warm-up and five measured dispatches (each is seconds long and needs a fresh database).</summary>
internal sealed class DispatchBenchmarkConfig : ManualConfig
{
    public DispatchBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(5));
        AddColumn(new SendsPerSecondColumn());
    }
}

/// <summary>The benchmark's <c>Sends</c> parameter divided by the mean time of one dispatch.</summary>
internal sealed class SendsPerSecondColumn : IColumn
{
    public string Id => nameof(SendsPerSecondColumn);

    public string ColumnName => "Sends/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Sends per second: Sends / Mean";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        object? sends = benchmarkCase.Parameters["Sends"];
        return meanNs is > 0 && sends is int n
            ? (n / (meanNs.Value / 1e9)).ToString("N0", CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>A sender that accepts every message at once and does nothing.</summary>
internal sealed class NoOpSender : IEmailSender
{
    private static readonly Task<EmailSendResult> Sent = Task.FromResult(EmailSendResult.Sent());

    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) => Sent;
}
