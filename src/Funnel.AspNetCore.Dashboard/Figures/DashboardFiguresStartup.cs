using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore.Dashboard.Figures;

/// <summary>Starts reading the event log into the <see cref="DashboardFigures"/> once the host has started, when <see cref="FunnelDashboardOptions.ReadFiguresAtStart"/> is set.</summary>
/// <remarks>
/// It waits for <c>ApplicationStarted</c>, so the hosted services registered before and after it (a storage package's
/// migrations among them) have started, then catches the figures up in the background; the host's start does not wait
/// for it. Without an <see cref="IFunnelEventLog"/> (no <c>AddFunnel</c>) there is nothing to read.
/// </remarks>
internal sealed partial class DashboardFiguresStartup(
    DashboardFigures figures,
    IServiceProvider services,
    IOptions<FunnelDashboardOptions> options,
    ILogger<DashboardFiguresStartup> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenRegistration _started;
    private CancellationToken _applicationStopping;
    private Task _reading = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ReadFiguresAtStart || services.GetService<IFunnelEventLog>() is not { } log)
        {
            return Task.CompletedTask;
        }

        if (services.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            _applicationStopping = lifetime.ApplicationStopping;
            _started = lifetime.ApplicationStarted.Register(() => _reading = ReadAsync(log));
        }
        else
        {
            _reading = ReadAsync(log);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _started.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _reading.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
    }

    private async Task ReadAsync(IFunnelEventLog log)
    {
        await Task.Yield(); // off ApplicationStarted's callback: the host's start does not wait for the reading.
        try
        {
            FiguresProgress progress = await figures.CatchUpAsync(log, Timeout.InfiniteTimeSpan, _stopping.Token).ConfigureAwait(false);
            // A reading the host's stop cancelled has not failed.
            if (progress.Error is { } error && !_applicationStopping.IsCancellationRequested)
            {
                LogReadFailed(error);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The host is stopping; the reading itself stops with ApplicationStopping.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogReadFailed(e.Message);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "The dashboard could not read the event log into its figures at start: {Error} The next page that shows them tries again.")]
    private partial void LogReadFailed(string error);
}
