using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Funnel.Storage.PostgreSql.Analytics;

/// <summary>Writes the analytics segments every <see cref="FunnelPostgreSqlOptions.AnalyticsSegmentInterval"/>, when it is set.</summary>
/// <remarks>
/// The first run starts once the host has started (after the schema's migrations). A failed run is logged as a
/// warning and the next run continues from the same position; the log is never changed, so nothing is lost.
/// </remarks>
internal sealed partial class PgAnalyticsSegmentService : BackgroundService
{
    private readonly FunnelPostgreSqlAnalytics _analytics;
    private readonly TimeSpan? _interval;
    private readonly ILogger _logger;

    public PgAnalyticsSegmentService(
        FunnelPostgreSqlAnalytics analytics, PgDatabase database, ILogger<PgAnalyticsSegmentService>? logger = null)
    {
        _analytics = analytics;
        _interval = database.Options.AnalyticsSegmentInterval;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval is not { } interval)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                long read = await _analytics.WriteAnalyticsSegmentsAsync(stoppingToken).ConfigureAwait(false);
                LogWritten(read);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex);
            }

            try
            {
                await Task.Delay(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Analytics segments: {Rows} log rows read.")]
    private partial void LogWritten(long rows);

    [LoggerMessage(2, LogLevel.Warning, "Writing the analytics segments failed; the next run continues from the same position.")]
    private partial void LogFailed(Exception exception);
}
