using System.Collections.Concurrent;
using Funnel.Events;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.AspNetCore;

/// <summary>Keeps repeated opens, clicks and page views from growing the event log: one event per window, and a cap on anonymous page views.</summary>
/// <remarks>
/// <para>
/// The event of an open, a click or a page view gets an id derived from the lead (or visitor), what was opened,
/// clicked or viewed and the fixed window of <see cref="FunnelAspNetCoreOptions.TrackingWindow"/> it falls in. The event
/// log appends idempotently by id, so a repeat in the same window, on any instance, appends nothing. Two requests
/// either side of a window boundary record two events; the KPIs count unique opens and clicks per message anyway.
/// </para>
/// <para>
/// Page views are also capped at <see cref="FunnelAspNetCoreOptions.MaxPageViewsPerVisitor"/> requests per
/// visitor and window, counted in this process (so per instance); the rest are not recorded.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
internal sealed class TrackingDeduplication(IOptions<FunnelAspNetCoreOptions> options)
{
    private readonly ConcurrentDictionary<(Guid Visitor, long Window), int> _pageViews = new();
    private long _currentWindow = long.MinValue;

    /// <summary>The id of the event for <paramref name="what"/> by <paramref name="lead"/> at <paramref name="now"/>: the same within one window.</summary>
    public EventId IdOf(LeadId lead, string kind, string what, Instant now) =>
        EventId.Derive(new EventId(lead.Value), $"funnel:{kind}:{WindowOf(now)}:{what}");

    /// <summary>Takes one of the visitor's page views of this window; <see langword="false"/> when the cap is reached.</summary>
    public bool TryTakePageView(LeadId visitor, Instant now)
    {
        long window = WindowOf(now);
        long seen = Interlocked.Exchange(ref _currentWindow, window);
        if (seen != window)
        {
            // A new window: forget the counts of the old ones, so memory stays bounded by one window's visitors.
            foreach ((Guid, long Window) key in _pageViews.Keys)
            {
                if (key.Window < window)
                {
                    _pageViews.TryRemove(key, out _);
                }
            }
        }

        int count = _pageViews.AddOrUpdate((visitor.Value, window), 1, static (_, n) => n == int.MaxValue ? n : n + 1);
        return count <= options.Value.MaxPageViewsPerVisitor;
    }

    private long WindowOf(Instant now) => now.ToUnixTimeTicks() / options.Value.TrackingWindow.Ticks;
}
