using Funnel.Definitions;
using Funnel.Events;

namespace Funnel.AspNetCore.Dashboard;

/// <summary>Configures the dashboard mapped by <c>MapFunnelDashboard</c>.</summary>
/// <remarks>
/// Validated when the host starts: <see cref="AuthorizationPolicy"/> is required (unless
/// <see cref="AllowAnonymousInDevelopment"/> is set and the environment is Development), and
/// <see cref="PageSize"/> and <see cref="MaxReportEvents"/> must be positive. <c>MapFunnelDashboard</c> also checks
/// that the policy is registered, so a misspelt policy fails the start naming it.
/// </remarks>
/// <threadsafety>Configure once at start-up; the dashboard only reads the options afterwards.</threadsafety>
public sealed class FunnelDashboardOptions
{
    /// <summary>Gets or sets the name of the authorization policy every dashboard request must satisfy.</summary>
    /// <remarks>The policy is added to the endpoint group with <c>RequireAuthorization</c>; register it with <c>AddAuthorization</c>.</remarks>
    /// <value>Defaults to <see langword="null"/>, which fails the start unless anonymous access is allowed in Development.</value>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>Gets or sets whether the dashboard may be served without a policy when the environment is Development.</summary>
    /// <remarks>Outside Development this setting has no effect: a policy is still required.</remarks>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool AllowAnonymousInDevelopment { get; set; }

    /// <summary>Gets or sets whether the dashboard only shows: its retry and cancel buttons are hidden and its actions are refused.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool ReadOnly { get; set; }

    /// <summary>Gets or sets how many rows a list page shows.</summary>
    /// <value>Defaults to 50; must be between 1 and 1,000.</value>
    public int PageSize { get; set; } = 50;

    /// <summary>Gets or sets the most events the Experiments and Affiliates pages read from the event log for their figures.</summary>
    /// <remarks>
    /// Those pages read the oldest events first and say so when they stopped at this limit. The Overview, Payments,
    /// Sequences and Broadcasts pages are not bounded by it: their figures are kept up to date over the whole log
    /// (see <see cref="FiguresWait"/>).
    /// </remarks>
    /// <value>Defaults to 100,000; must be positive.</value>
    public int MaxReportEvents { get; set; } = 100_000;

    /// <summary>Gets or sets how long a page waits for the dashboard's figures to read the events appended since the last page.</summary>
    /// <remarks>
    /// <para>
    /// The Overview, Payments, Sequences and Broadcasts pages show figures over the whole event log, kept in memory by
    /// each app instance and brought up to date from the log in position order: after a start the whole log is read in
    /// the background (from the host's start with <see cref="ReadFiguresAtStart"/>, else from the first such page;
    /// about 10,000,000 events a few minutes, see docs/performance.md), and each later page reads only the events
    /// appended since. A page waits at most this long; when the figures are still
    /// behind, it shows them as they are and says up to which log position they go and how many events are left.
    /// </para>
    /// </remarks>
    /// <value>Defaults to 2 seconds; must be between zero and one minute. Caught up, a page reads only the few events appended since the last page and waits far less.</value>
    public TimeSpan FiguresWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets whether each app instance starts reading the event log into the dashboard's figures as soon as the host has started, instead of at the first page that shows them.</summary>
    /// <remarks>
    /// <para>
    /// Read at start, the figures of the Overview, Payments, Sequences and Broadcasts pages are usually ready by the
    /// time someone opens the dashboard after a deployment or a restart: no page has to wait
    /// <see cref="FiguresWait"/> or show figures that are still catching up. The reading starts when the host's
    /// <c>ApplicationStarted</c> fires, after every hosted service (storage migrations among them) has started, and
    /// runs in the background; a failure is logged as a warning and the next page tries again.
    /// </para>
    /// <para>
    /// The price is paid by every instance, whether or not anyone opens its dashboard: the read of the whole log at
    /// start and the figures' memory (about 0.7 KB per lead id; see docs/dashboard.md). Turn it off on instances that
    /// should not keep them.
    /// </para>
    /// </remarks>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool ReadFiguresAtStart { get; set; } = true;

    /// <summary>Gets or sets the event type that counts as a conversion on the Experiments page.</summary>
    /// <remarks>A lead exposed to an experiment converts when it has an event of this type at or after its first exposure.</remarks>
    /// <value>Defaults to <c>order_placed</c> (<see cref="EventTypes.OrderPlaced"/>); must not be empty.</value>
    public string ExperimentGoal { get; set; } = EventTypes.OrderPlaced;

    /// <summary>Gets or sets the funnel the overview reports on.</summary>
    /// <value>Defaults to <see langword="null"/>: the overview shows event counts but no funnel chart.</value>
    public FunnelDefinition? Funnel { get; set; }
}
