using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Funnel.AspNetCore;

/// <summary>Names the meter and activity source Funnel reports through, for OpenTelemetry's <c>AddMeter</c> and <c>AddSource</c>.</summary>
/// <remarks>
/// <para>Instruments of the <c>Funnel</c> meter:</para>
/// <list type="bullet">
/// <item><c>funnel.opt_ins</c> (counter, tag <c>funnel.magnet</c>): accepted opt-ins.</item>
/// <item><c>funnel.orders</c> (counter, tag <c>funnel.offer</c>): placed orders.</item>
/// <item><c>funnel.revenue</c> (counter, tag <c>funnel.currency</c>): collected payments in minor units, such as cents.</item>
/// <item><c>funnel.events</c> (counter, tag <c>funnel.event_type</c>): every recorded event.</item>
/// <item><c>funnel.opt_ins.rejected</c> (counter, tag <c>funnel.reason</c>): honeypot hits and invalid submissions.</item>
/// <item><c>funnel.job.runs</c> (counter, tags <c>funnel.job</c>, <c>funnel.outcome</c>): background job runs.</item>
/// </list>
/// <para>Activities of the <c>Funnel</c> source: <c>funnel.opt_in</c>, <c>funnel.confirm</c>, <c>funnel.page_view</c> and <c>funnel.job</c>.</para>
/// </remarks>
/// <threadsafety>This type has no state.</threadsafety>
public static class FunnelDiagnostics
{
    /// <summary>The name of the meter, <c>Funnel</c>.</summary>
    public const string MeterName = "Funnel";

    /// <summary>The name of the activity source, <c>Funnel</c>.</summary>
    public const string ActivitySourceName = "Funnel";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
    internal static readonly Meter Meter = new(MeterName);
    internal static readonly Counter<long> OptIns = Meter.CreateCounter<long>("funnel.opt_ins", "{opt-in}", "Accepted opt-ins.");
    internal static readonly Counter<long> OptInsRejected = Meter.CreateCounter<long>("funnel.opt_ins.rejected", "{opt-in}", "Opt-ins rejected as bots or invalid input.");
    internal static readonly Counter<long> Orders = Meter.CreateCounter<long>("funnel.orders", "{order}", "Placed orders.");
    internal static readonly Counter<long> Revenue = Meter.CreateCounter<long>("funnel.revenue", "{minor unit}", "Collected payments in minor units of the currency.");
    internal static readonly Counter<long> Events = Meter.CreateCounter<long>("funnel.events", "{event}", "Recorded funnel events.");
    internal static readonly Counter<long> JobRuns = Meter.CreateCounter<long>("funnel.job.runs", "{run}", "Background job runs.");
}
