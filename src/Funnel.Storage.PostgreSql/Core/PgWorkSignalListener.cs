using Funnel.Pipeline;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Funnel.Storage.PostgreSql.Core;

/// <summary>Forwards PostgreSQL notifications of new work to the in-process <see cref="FunnelWorkSignal"/>.</summary>
/// <remarks>
/// <para>
/// Holds one connection of the data source that <c>LISTEN</c>s on <c>&lt;schema&gt;_events</c> (sent by every append
/// to the event log) and <c>&lt;schema&gt;_sends</c> (sent when sends become due), and calls
/// <see cref="FunnelWorkSignal.Notify"/> with <see cref="FunnelWorkSignal.Events"/> or <see cref="FunnelWorkSignal.Sends"/>,
/// so an event appended by one app instance wakes the pipeline of every instance at once instead of after its poll.
/// </para>
/// <para>
/// A signal is only a hint. When the connection breaks (a PostgreSQL restart, <c>pg_terminate_backend</c>, a network
/// failure) the listener reconnects with a backoff doubling from <see cref="FirstRetryDelay"/> to
/// <see cref="MaxRetryDelay"/>, and after every (re)connect notifies both topics once, because notifications sent while
/// it was away are lost. An idle connection is checked every <see cref="KeepAliveInterval"/>, so a silently dropped
/// one is found. It stops with the host.
/// </para>
/// </remarks>
/// <threadsafety>Started and stopped by the host; its members are safe to read from any thread.</threadsafety>
internal sealed partial class PgWorkSignalListener : BackgroundService
{
    /// <summary>The wait before the first reconnect attempt.</summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between reconnect attempts.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(15);

    /// <summary>How long the connection may be idle before a <c>SELECT 1</c> checks it.</summary>
    internal static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(30);

    private readonly PgDatabase _database;
    private readonly FunnelWorkSignal? _signal;
    private readonly ILogger _logger;
    private readonly string _eventsChannel;
    private readonly string _sendsChannel;
    private int _processId;
    private int _connects;

    public PgWorkSignalListener(PgDatabase database, FunnelWorkSignal? signal = null, ILogger<PgWorkSignalListener>? logger = null)
    {
        _database = database;
        _signal = signal;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _eventsChannel = PgFunnelEventLog.EventsChannel(database.Schema);
        _sendsChannel = SendsChannel(database.Schema);
    }

    /// <summary>Gets the backend process id of the listening connection, or 0 while it is not connected.</summary>
    internal int ProcessId => Volatile.Read(ref _processId);

    /// <summary>Gets how many times the listener has connected, listened and notified both topics.</summary>
    internal int Connects => Volatile.Read(ref _connects);

    /// <summary>Returns the channel notified when sends become due: <c>&lt;schema&gt;_sends</c>.</summary>
    public static string SendsChannel(string schema) => schema + "_sends";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_signal is null)
        {
            return;
        }

        TimeSpan delay = FirstRetryDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(_signal, () => delay = FirstRetryDelay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                LogConnectionLost(_logger, ex, delay);
            }
            finally
            {
                Volatile.Write(ref _processId, 0);
            }

            try
            {
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    private async Task ListenAsync(FunnelWorkSignal signal, Action connected, CancellationToken stoppingToken)
    {
        await using NpgsqlConnection connection = await _database.DataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
        connection.Notification += (_, e) =>
        {
            if (string.Equals(e.Channel, _eventsChannel, StringComparison.Ordinal))
            {
                signal.Notify(FunnelWorkSignal.Events);
            }
            else if (string.Equals(e.Channel, _sendsChannel, StringComparison.Ordinal))
            {
                signal.Notify(FunnelWorkSignal.Sends);
            }
        };
        await using (NpgsqlCommand listen = new($"LISTEN {_eventsChannel}; LISTEN {_sendsChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
        }

        // Whatever was notified while no connection listened is lost: let every loop look once.
        signal.Notify(FunnelWorkSignal.Events);
        signal.Notify(FunnelWorkSignal.Sends);
        connected();
        Volatile.Write(ref _processId, connection.ProcessID);
        Interlocked.Increment(ref _connects);
        while (true)
        {
            if (!await connection.WaitAsync(KeepAliveInterval, stoppingToken).ConfigureAwait(false))
            {
                await using NpgsqlCommand ping = new("SELECT 1", connection);
                await ping.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funnel lost its PostgreSQL LISTEN connection; it reconnects in {Delay}. Until then instances wake on their poll interval.")]
    private static partial void LogConnectionLost(ILogger logger, Exception exception, TimeSpan delay);
}
