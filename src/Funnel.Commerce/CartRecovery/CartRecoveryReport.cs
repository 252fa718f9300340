using Funnel.Events;
using Funnel.Kpis;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>Cart-recovery KPIs: checkouts abandoned, how many were recovered, the revenue they brought back, and the recovery rate.</summary>
/// <remarks>
/// <para>
/// Computed from events, each counted once per <see cref="FunnelEvent.Id"/>. An abandonment is a
/// <see cref="CheckoutAbandoned"/>. It is recovered by the first <see cref="OrderPlaced"/> of the same lead for the same
/// offer at or after it and within the recovery window (<see cref="CartRecoveryOptions.RecoveryWindow"/>), and that
/// order's <see cref="OrderPlaced.Total"/> (bumps included, before refunds) is recovered revenue. An order recovers at
/// most one abandonment: the latest one before it that is not recovered yet; an earlier abandonment followed by a newer
/// one of the same offer is not recovered by an order after both.
/// </para>
/// <para>
/// <c>AddFunnelCartRecovery</c> registers the section (key <see cref="SectionKey"/>) for the reporter of
/// <c>AddFunnel</c>; read it with <c>report.Section&lt;CartRecoveryReport&gt;()</c>, or compute it with
/// <see cref="Create"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CartRecoveryReport
{
    /// <summary>The key of the report section in <see cref="FunnelReport.Sections"/>.</summary>
    public const string SectionKey = "cart-recovery";

    /// <summary>Gets the checkouts declared abandoned (<see cref="CheckoutAbandoned"/> events).</summary>
    public required long Abandoned { get; init; }

    /// <summary>Gets the abandoned checkouts followed by an order for the same lead and offer within the recovery window.</summary>
    public required long Recovered { get; init; }

    /// <summary>Gets the totals of the orders that recovered a checkout.</summary>
    public required Money RecoveredRevenue { get; init; }

    /// <summary>Gets the recovery rate: <see cref="Recovered"/> ÷ <see cref="Abandoned"/>.</summary>
    public Ratio RecoveryRate => Ratio.Of(Recovered, Abandoned);

    /// <summary>Computes the report from funnel events.</summary>
    /// <param name="events">The events, in any order; other event types are ignored.</param>
    /// <param name="currency">The currency of the report; every order must be in it.</param>
    /// <param name="recoveryWindow">How long after an abandonment an order counts as recovered.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="recoveryWindow"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">A recovering order is not in <paramref name="currency"/>.</exception>
    public static CartRecoveryReport Create(IEnumerable<FunnelEvent> events, Currency currency, Duration recoveryWindow)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new CartRecoveryReportBuilder(new FunnelReportSettings { Currency = currency }, recoveryWindow);
        var seen = new HashSet<EventId>();
        foreach (FunnelEvent e in events)
        {
            if (seen.Add(e.Id))
            {
                builder.Add(e);
            }
        }

        return builder.Build();
    }

    /// <summary>Creates the report section (key <see cref="SectionKey"/>) for a reporter built by hand.</summary>
    /// <param name="recoveryWindow">How long after an abandonment an order counts as recovered.</param>
    /// <returns>The section; list it in <see cref="FunnelReportSettings.Sections"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="recoveryWindow"/> is negative.</exception>
    public static IFunnelReportSection CreateReportSection(Duration recoveryWindow)
    {
        CheckWindow(recoveryWindow);
        return new CartRecoveryReportSection(recoveryWindow);
    }

    internal static void CheckWindow(Duration recoveryWindow)
    {
        if (recoveryWindow < Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(recoveryWindow), recoveryWindow, "The recovery window must not be negative.");
        }
    }
}

/// <summary>The <c>cart-recovery</c> section of the funnel report.</summary>
internal sealed class CartRecoveryReportSection(Duration recoveryWindow) : IFunnelReportSection
{
    public string Key => CartRecoveryReport.SectionKey;

    public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new CartRecoveryReportBuilder(settings, recoveryWindow);
    }
}

/// <summary>Accumulates the abandonments and orders of each lead and offer, and matches them when built.</summary>
internal sealed class CartRecoveryReportBuilder : IFunnelReportSectionBuilder
{
    private readonly FunnelReportSettings _settings;
    private readonly Duration _window;
    private readonly Dictionary<(LeadId, OfferId), List<FunnelEvent>> _timelines = [];
    private long _abandoned;

    public CartRecoveryReportBuilder(FunnelReportSettings settings, Duration window)
    {
        CartRecoveryReport.CheckWindow(window);
        _settings = settings;
        _window = window;
    }

    public void Add(FunnelEvent funnelEvent)
    {
        switch (funnelEvent)
        {
            case CheckoutAbandoned abandoned:
                _abandoned++;
                Timeline(abandoned.LeadId, abandoned.Offer).Add(abandoned);
                break;
            case OrderPlaced order:
                Timeline(order.LeadId, order.Offer).Add(order);
                break;
        }
    }

    object IFunnelReportSectionBuilder.Build() => Build();

    public CartRecoveryReport Build()
    {
        long recovered = 0;
        long revenue = 0;
        foreach (List<FunnelEvent> timeline in _timelines.Values)
        {
            // Abandonments sort before orders at the same instant: an order at the abandonment's instant recovers it.
            timeline.Sort(static (a, b) =>
            {
                int byTime = a.OccurredAt.CompareTo(b.OccurredAt);
                return byTime != 0 ? byTime : (a is OrderPlaced ? 1 : 0).CompareTo(b is OrderPlaced ? 1 : 0);
            });
            CheckoutAbandoned? pending = null;
            foreach (FunnelEvent e in timeline)
            {
                if (e is CheckoutAbandoned abandoned)
                {
                    pending = abandoned;
                }
                else if (e is OrderPlaced order && pending is not null)
                {
                    if (order.OccurredAt - pending.OccurredAt <= _window)
                    {
                        recovered++;
                        revenue = checked(revenue + InCurrency(order));
                    }

                    pending = null;
                }
            }
        }

        return new CartRecoveryReport { Abandoned = _abandoned, Recovered = recovered, RecoveredRevenue = new Money(revenue, _settings.Currency) };
    }

    private List<FunnelEvent> Timeline(LeadId lead, OfferId offer)
    {
        if (!_timelines.TryGetValue((lead, offer), out List<FunnelEvent>? timeline))
        {
            _timelines[(lead, offer)] = timeline = [];
        }

        return timeline;
    }

    private long InCurrency(OrderPlaced order) => _settings.ToReportCurrency(order.Total, order).MinorUnits;
}
