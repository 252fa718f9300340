using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Funnel.Hosting;

/// <summary>Warns at start-up when a production host keeps Funnel's data in memory.</summary>
internal sealed partial class FunnelStartupWarnings(FunnelStorageCheck storage, IHostEnvironment environment, ILogger<FunnelStartupWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (environment.IsProduction() && storage.InMemoryStores.Count > 0)
        {
            LogInMemory(logger, string.Join(", ", storage.InMemoryStores));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funnel runs in Production on in-memory stores ({Stores}): every lead, order, email and event is lost when the process stops. Register a storage package, such as AddFunnelSqlite(...).")]
    private static partial void LogInMemory(ILogger logger, string stores);
}
