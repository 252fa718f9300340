using Funnel.Currencies;
using Funnel.Kpis;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Figures;

/// <summary>
/// The figures of the Overview, Payments, Sequences and Broadcasts pages, kept in memory and brought up to date from the
/// event log in position order: a projection of the log, one per app instance.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is stored: after a start, <see cref="DashboardFiguresStartup"/> (or, with
/// <see cref="FunnelDashboardOptions.ReadFiguresAtStart"/> off, the first page that needs the figures) starts reading
/// the log from its first event (in batches of <see cref="BatchSize"/>), and each page reads on from the last position applied, so every
/// instance agrees with the log it reads. A page waits at most <see cref="FunnelDashboardOptions.FiguresWait"/> for
/// the reading; when it is still behind, the page shows the figures so far and says how far they are.
/// </para>
/// <para>One reader at a time; pages read the state under the same lock, between two batches.</para>
/// </remarks>
/// <threadsafety>Safe to share between threads: registered as a singleton.</threadsafety>
internal sealed class DashboardFigures
{
    /// <summary>How many events one read of the log takes.</summary>
    public const int BatchSize = 5_000;

    /// <summary>How far behind the page counts exactly; beyond, it says "N+".</summary>
    public const int BehindCountLimit = 100_000;

    private readonly object _gate = new();
    private readonly IServiceProvider _services;
    private readonly CancellationToken _stopping;
    private FigureState? _state;
    private Task? _reading;
    private long _position;

    public DashboardFigures(IServiceProvider services)
    {
        _services = services;
        _stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
    }

    /// <summary>Gets the position of the last event applied (0: none).</summary>
    public long Position
    {
        get
        {
            lock (_gate)
            {
                return _position;
            }
        }
    }

    /// <summary>Brings the figures up to date, waiting at most <paramref name="wait"/>, and says how far they are.</summary>
    /// <param name="log">The event log.</param>
    /// <param name="wait">How long to wait for the reading.</param>
    /// <param name="cancellationToken">Cancels the wait (not the reading, which other pages share).</param>
    /// <returns>Where the figures stand.</returns>
    public async Task<FiguresProgress> CatchUpAsync(IFunnelEventLog log, TimeSpan wait, CancellationToken cancellationToken)
    {
        Task reading;
        lock (_gate)
        {
            _state ??= CreateState();
            if (_reading is null || _reading.IsCompleted)
            {
                _reading = Task.Run(() => ReadAsync(log), CancellationToken.None);
            }

            reading = _reading;
        }

        try
        {
            await reading.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still reading: the page shows what there is and says so.
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new FiguresProgress(Position, 0, e.Message);
        }

        if (reading.IsCompletedSuccessfully)
        {
            return new FiguresProgress(Position, 0, null);
        }

        long position = Position;
        int behind = await log.CountAsync(position, BehindCountLimit, LogPartition.All, cancellationToken).ConfigureAwait(false);
        return new FiguresProgress(position, Math.Max(behind, 1), null);
    }

    /// <summary>Runs a function over the figures, between two batches.</summary>
    public T Read<T>(Func<FigureState, T> read)
    {
        lock (_gate)
        {
            return read(_state ??= CreateState());
        }
    }

    /// <summary>Runs an action over the figures, between two batches.</summary>
    public void Read(Action<FigureState> read)
    {
        lock (_gate)
        {
            read(_state ??= CreateState());
        }
    }

    private async Task ReadAsync(IFunnelEventLog log)
    {
        while (true)
        {
            IReadOnlyList<LoggedEvent> read = await log.ReadAsync(Position, BatchSize, _stopping).ConfigureAwait(false);
            if (read.Count > 0)
            {
                lock (_gate)
                {
                    foreach (LoggedEvent logged in read)
                    {
                        if (logged.Position > _position)
                        {
                            _state!.Apply(logged);
                            _position = logged.Position;
                        }
                    }
                }
            }

            if (read.Count < BatchSize)
            {
                return;
            }
        }
    }

    private FigureState CreateState()
    {
        FunnelOptions funnel = _services.GetService<IOptions<FunnelOptions>>()?.Value ?? new FunnelOptions();
        FunnelDashboardOptions dashboard = _services.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value;
        IDateTimeZoneProvider zones = _services.GetService<IDateTimeZoneProvider>() ?? DateTimeZoneProviders.Tzdb;
        DateTimeZone zone = zones.GetZoneOrNull(funnel.TimeZoneId) ?? DateTimeZone.Utc;
        var settings = new FunnelReportSettings
        {
            Currency = Currency.IsKnown(funnel.DefaultCurrency) ? Currency.FromCode(funnel.DefaultCurrency) : Currency.USD,
            ExchangeRates = _services.GetService<IExchangeRates>(),
            CustomerLifetimeValue = _services.GetService<ICustomerLifetimeValueModel>()
                ?? new SimpleCustomerLifetimeValueModel(funnel.CustomerLifespanPeriods),
        };
        return new FigureState(dashboard.Funnel, settings, zone);
    }
}

/// <summary>Where the figures stand after a page's wait.</summary>
/// <param name="Position">The log position of the last event in the figures.</param>
/// <param name="Behind">How many events the log has after it (0: up to date), counted up to <see cref="DashboardFigures.BehindCountLimit"/>.</param>
/// <param name="Error">Why reading the log failed, if it did; the figures are those read before.</param>
internal readonly record struct FiguresProgress(long Position, int Behind, string? Error);
