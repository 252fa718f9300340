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
/// <item><c>funnel.email.sends</c> (counter, tags <c>funnel.outcome</c> = <c>sent</c>, <c>failed</c> or <c>suppressed</c>, and <c>funnel.email</c>): sequence email sends.</item>
/// <item><c>funnel.email.engagements</c> (counter, tags <c>funnel.action</c> = <c>opened</c>, <c>clicked</c> or <c>unsubscribed</c>, and <c>funnel.email</c>): tracked email engagement.</item>
/// <item><c>funnel.payments</c> (counter, tags <c>funnel.outcome</c> = <c>succeeded</c> or <c>failed</c>, and <c>funnel.currency</c>): payments and failed payment attempts.</item>
/// <item><c>funnel.refunds</c> (counter, tag <c>funnel.currency</c>): refunded amounts in minor units.</item>
/// <item><c>funnel.webhooks</c> (counter, tags <c>funnel.provider</c>, <c>funnel.outcome</c>): payment webhook requests by outcome;
/// <c>funnel.outcome</c> = <c>unprocessable</c> counts the events parked because they can never apply (unknown order, unreadable metadata).</item>
/// <item><c>funnel.rate_limited</c> (counter, tag <c>funnel.policy</c> = <c>funnel-forms</c> or <c>funnel-tracking</c>): requests answered 429.</item>
/// <item><c>funnel.tracking.deduplicated</c> (counter, tag <c>funnel.event_type</c>): repeated opens, clicks and page views within the window, not recorded again.</item>
/// </list>
/// <para>
/// Activities of the <c>Funnel</c> source: <c>funnel.opt_in</c>, <c>funnel.confirm</c>, <c>funnel.page_view</c>,
/// <c>funnel.email.open</c>, <c>funnel.email.click</c>, <c>funnel.email.unsubscribe</c>, <c>funnel.webhook</c>,
/// <c>funnel.job</c> and, inside it, <c>funnel.sequence.dispatch</c>.
/// </para>
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
    internal static readonly Counter<long> EmailSends = Meter.CreateCounter<long>("funnel.email.sends", "{email}", "Sequence email sends by outcome.");
    internal static readonly Counter<long> EmailEngagements = Meter.CreateCounter<long>("funnel.email.engagements", "{event}", "Tracked email opens, clicks and unsubscribes.");
    internal static readonly Counter<long> Payments = Meter.CreateCounter<long>("funnel.payments", "{payment}", "Payments and failed payment attempts.");
    internal static readonly Counter<long> Refunds = Meter.CreateCounter<long>("funnel.refunds", "{minor unit}", "Refunded amounts in minor units of the currency.");
    internal static readonly Counter<long> RateLimited = Meter.CreateCounter<long>("funnel.rate_limited", "{request}", "Requests refused by a Funnel rate limit.");
    internal static readonly Counter<long> TrackingDeduplicated = Meter.CreateCounter<long>("funnel.tracking.deduplicated", "{request}", "Repeated opens, clicks and page views not recorded again.");
    internal static readonly Counter<long> Webhooks = Meter.CreateCounter<long>("funnel.webhooks", "{request}", "Payment webhook requests by outcome.");
}
