using System.Collections.Immutable;
using Funnel.Definitions;
using NodaTime;

namespace Funnel.Kpis;

/// <summary>How many leads reached one step of a funnel, in order, and how that compares with the steps before.</summary>
/// <param name="Step">The step.</param>
/// <param name="Reached">Distinct leads who reached this step after all earlier steps.</param>
/// <param name="FromPrevious">Step-to-step conversion: <see cref="Reached"/> ÷ the previous step's count; not defined for the first step.</param>
/// <param name="FromStart">Conversion from the first step: <see cref="Reached"/> ÷ the first step's count.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StepResult(StepDefinition Step, long Reached, Ratio FromPrevious, Ratio FromStart);

/// <summary>How many leads reached one stage of a funnel: the count of the stage's first step.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Reached">Distinct leads who reached the stage's first step, or <see langword="null"/> when the stage has no steps.</param>
/// <param name="FromPrevious">Conversion from the previous stage that has steps; not defined for the first one.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StageResult(StageDefinition Stage, long? Reached, Ratio FromPrevious);

/// <summary>Funnel counts, revenue and spend KPIs for all leads, or for one channel or campaign.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelMetrics
{
    /// <summary>Gets the channel or campaign these metrics are for.</summary>
    /// <value><see langword="null"/> for the whole funnel; <c>(none)</c> for leads and spend without one.</value>
    public string? Segment { get; init; }

    /// <summary>Gets the ordered step counts.</summary>
    public required ImmutableArray<StepResult> Steps { get; init; }

    /// <summary>Gets the stage counts.</summary>
    public required ImmutableArray<StageResult> Stages { get; init; }

    /// <summary>Gets the number of leads who reached the first step (for most funnels, the visitors).</summary>
    public long Entered => Steps.IsDefaultOrEmpty ? 0 : Steps[0].Reached;

    /// <summary>Gets the overall conversion: the last step's count ÷ the first step's count.</summary>
    public Ratio OverallConversion => Steps.IsDefaultOrEmpty ? Ratio.Undefined : Kpi.ConversionRate(Steps[^1].Reached, Steps[0].Reached);

    /// <summary>Gets the number of distinct orders placed.</summary>
    public required long Orders { get; init; }

    /// <summary>Gets the number of distinct leads who placed an order.</summary>
    public required long Customers { get; init; }

    /// <summary>Gets the revenue: the sum of the totals of the orders placed.</summary>
    public required Money Revenue { get; init; }

    /// <summary>Gets the sum of the refunds issued on those orders.</summary>
    public required Money Refunds { get; init; }

    /// <summary>Gets revenue minus refunds.</summary>
    public Money NetRevenue => Revenue - Refunds;

    /// <summary>Gets the ad spend recorded.</summary>
    public required Money AdSpend { get; init; }

    /// <summary>Gets the customer acquisition cost: ad spend ÷ customers (see <see cref="Kpi.CustomerAcquisitionCost"/>).</summary>
    public Money? CustomerAcquisitionCost => Kpi.CustomerAcquisitionCost(AdSpend, Customers);

    /// <summary>Gets the return on ad spend: revenue ÷ ad spend (see <see cref="Kpi.ReturnOnAdSpend"/>).</summary>
    public Ratio ReturnOnAdSpend => Kpi.ReturnOnAdSpend(Revenue, AdSpend);

    /// <summary>Gets the return on investment: (revenue − ad spend) ÷ ad spend (see <see cref="Kpi.ReturnOnInvestment"/>).</summary>
    public Ratio ReturnOnInvestment => Kpi.ReturnOnInvestment(Revenue, AdSpend);

    /// <summary>Gets the average order value: revenue ÷ orders.</summary>
    public Money? AverageOrderValue => Kpi.AverageOrderValue(Revenue, Orders);

    /// <summary>Gets the revenue per visitor: revenue ÷ <see cref="Entered"/>.</summary>
    public Money? RevenuePerVisitor => Kpi.RevenuePerVisitor(Revenue, Entered);

    /// <summary>Returns the metrics of a funnel from how many leads reached each step, with the rates <see cref="FunnelReporter"/> gives.</summary>
    /// <param name="segment">The channel or campaign, or <see langword="null"/> for the whole funnel.</param>
    /// <param name="funnel">The funnel.</param>
    /// <param name="reached">How many leads reached each step, in the funnel's order: one count per step.</param>
    /// <param name="orders">The distinct orders placed.</param>
    /// <param name="customers">The distinct leads who placed an order.</param>
    /// <param name="revenue">The sum of the orders' totals.</param>
    /// <param name="refunds">The sum of the refunds on them.</param>
    /// <param name="adSpend">The ad spend.</param>
    /// <returns>
    /// The metrics: each step's conversion from the previous step and from the first, and each stage counted at its
    /// first step, converted from the previous stage that has steps.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnel"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="reached"/> has not one count per step of the funnel.</exception>
    public static FunnelMetrics FromCounts(
        string? segment, FunnelDefinition funnel, ReadOnlySpan<long> reached, long orders, long customers, Money revenue, Money refunds, Money adSpend)
    {
        ArgumentNullException.ThrowIfNull(funnel);
        if (reached.Length != funnel.Steps.Length)
        {
            throw new ArgumentException($"Reached: {reached.Length} counts for a funnel of {funnel.Steps.Length} steps.", nameof(reached));
        }

        var steps = ImmutableArray.CreateBuilder<StepResult>(reached.Length);
        for (int k = 0; k < reached.Length; k++)
        {
            steps.Add(new StepResult(
                funnel.Steps[k],
                reached[k],
                k == 0 ? Ratio.Undefined : Kpi.ConversionRate(reached[k], reached[k - 1]),
                Kpi.ConversionRate(reached[k], reached[0])));
        }

        var stages = ImmutableArray.CreateBuilder<StageResult>(funnel.Stages.Length);
        long? previous = null;
        foreach (StageDefinition stage in funnel.Stages)
        {
            long? count = null;
            for (int k = 0; k < funnel.Steps.Length && count is null; k++)
            {
                count = funnel.Steps[k].Stage == stage.Key ? reached[k] : null;
            }

            stages.Add(new StageResult(stage, count, count is { } c && previous is { } p ? Kpi.ConversionRate(c, p) : Ratio.Undefined));
            previous = count ?? previous;
        }

        return new FunnelMetrics
        {
            Segment = segment,
            Steps = steps.MoveToImmutable(),
            Stages = stages.MoveToImmutable(),
            Orders = orders,
            Customers = customers,
            Revenue = revenue,
            Refunds = refunds,
            AdSpend = adSpend,
        };
    }
}

/// <summary>Email engagement, counting each message (lead and email key) once.</summary>
/// <remarks>
/// Only messages with an <c>email_sent</c> event count. Delivered = sent − bounced. A click counts as an open
/// too (images may be blocked), and opens, clicks and unsubscribes count only for delivered messages, so every
/// rate stays between 0 and 1.
/// </remarks>
/// <param name="Sent">Messages sent.</param>
/// <param name="Bounced">Messages that bounced.</param>
/// <param name="UniqueOpens">Delivered messages opened or clicked at least once.</param>
/// <param name="UniqueClicks">Delivered messages clicked at least once.</param>
/// <param name="Unsubscribes">Delivered messages through which the lead unsubscribed.</param>
/// <param name="Complaints">Delivered messages marked as spam.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailMetrics(long Sent, long Bounced, long UniqueOpens, long UniqueClicks, long Unsubscribes, long Complaints)
{
    /// <summary>Gets the unique clicks per message and link: the distinct links clicked in delivered messages, each counted once however often it was requested.</summary>
    /// <value>Defaults to 0 when built by hand; the reporter sets it.</value>
    public long UniqueLinkClicks { get; init; }

    /// <summary>Gets the messages delivered: sent − bounced.</summary>
    public long Delivered => Sent - Bounced;

    /// <summary>Gets the open rate: unique opens ÷ delivered.</summary>
    public Ratio OpenRate => Kpi.OpenRate(UniqueOpens, Delivered);

    /// <summary>Gets the click rate: unique clicks ÷ delivered.</summary>
    public Ratio ClickRate => Kpi.ClickRate(UniqueClicks, Delivered);

    /// <summary>Gets the click-to-open rate: unique clicks ÷ unique opens.</summary>
    public Ratio ClickToOpenRate => Kpi.ClickToOpenRate(UniqueClicks, UniqueOpens);

    /// <summary>Gets the unsubscribe rate: unsubscribes ÷ delivered.</summary>
    public Ratio UnsubscribeRate => Kpi.UnsubscribeRate(Unsubscribes, Delivered);

    /// <summary>Gets the bounce rate: bounced ÷ sent.</summary>
    public Ratio BounceRate => Kpi.EmailBounceRate(Bounced, Sent);

    /// <summary>Gets the complaint rate: complaints ÷ delivered.</summary>
    public Ratio ComplaintRate => Ratio.Of(Complaints, Delivered);
}

/// <summary>The funnel report: ordered step and stage counts, revenue, spend and every KPI, overall and per channel and campaign.</summary>
/// <remarks>Create one with <see cref="IFunnelReporter"/>. All figures are computed from the events given; see the concepts guide for each formula.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FunnelReport
{
    /// <summary>Gets the funnel the report is about.</summary>
    public required FunnelDefinition Funnel { get; init; }

    /// <summary>Gets the currency of every amount in the report.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the instant of the earliest event read.</summary>
    /// <value><see langword="null"/> when there were no events.</value>
    public Instant? From { get; init; }

    /// <summary>Gets the instant of the latest event read.</summary>
    /// <value><see langword="null"/> when there were no events.</value>
    public Instant? To { get; init; }

    /// <summary>Gets the number of distinct events read (replays with the same id count once).</summary>
    public required long EventCount { get; init; }

    /// <summary>Gets the metrics over all leads.</summary>
    public required FunnelMetrics Overall { get; init; }

    /// <summary>Gets the metrics per first-touch channel, ordered by channel name.</summary>
    /// <remarks>A lead belongs to the channel of its earliest event that has one; spend belongs to the channel of its attribution.</remarks>
    public required ImmutableArray<FunnelMetrics> ByChannel { get; init; }

    /// <summary>Gets the metrics per first-touch campaign, ordered by campaign name.</summary>
    public required ImmutableArray<FunnelMetrics> ByCampaign { get; init; }

    /// <summary>Gets how many leads ended in each lifecycle stage, by the reporter's lifecycle rules.</summary>
    /// <value>Every stage is present, with 0 when no lead ended in it.</value>
    public required ImmutableDictionary<LifecycleStage, long> Lifecycle { get; init; }

    /// <summary>Gets the email engagement metrics.</summary>
    public required EmailMetrics Email { get; init; }

    /// <summary>Gets the views of the entry page: page views that match the first step, when its trigger is <c>page_viewed</c>.</summary>
    public required long EntryPageViews { get; init; }

    /// <summary>Gets the entry page views after which the lead did nothing else within the bounce window.</summary>
    public required long EntryPageBounces { get; init; }

    /// <summary>Gets the landing-page bounce rate: <see cref="EntryPageBounces"/> ÷ <see cref="EntryPageViews"/>.</summary>
    public Ratio LandingPageBounceRate => Kpi.PageBounceRate(EntryPageBounces, EntryPageViews);

    /// <summary>Gets the leads who started a checkout.</summary>
    public required long CheckoutsStarted { get; init; }

    /// <summary>Gets the leads who started a checkout and placed no order at or after it.</summary>
    public required long CheckoutsAbandoned { get; init; }

    /// <summary>Gets the cart abandonment rate: <see cref="CheckoutsAbandoned"/> ÷ <see cref="CheckoutsStarted"/>.</summary>
    public Ratio CartAbandonmentRate => Kpi.CartAbandonmentRate(CheckoutsAbandoned, CheckoutsStarted);

    /// <summary>Gets the number of orders with at least one refund.</summary>
    public required long RefundedOrders { get; init; }

    /// <summary>Gets the refund rate: <see cref="RefundedOrders"/> ÷ orders.</summary>
    public Ratio RefundRate => Kpi.RefundRate(RefundedOrders, Overall.Orders);

    /// <summary>Gets the customer lifetime value estimated by the configured model from the whole report period.</summary>
    /// <value><see langword="null"/> when there are no customers.</value>
    public Money? CustomerLifetimeValue { get; init; }

    /// <summary>Gets the sections contributed by packages, by <see cref="IFunnelReportSection.Key"/>.</summary>
    /// <remarks>
    /// Funnel.Commerce contributes <c>payments</c> (<c>PaymentMetrics</c>), Funnel.Sequences <c>email-delivery</c>
    /// (<c>SequenceEmailMetrics</c>) and Funnel.Advocacy <c>advocacy</c> (<c>AdvocacyMetrics</c>) when they are
    /// registered or listed in <see cref="FunnelReportSettings.Sections"/>.
    /// </remarks>
    /// <value>Defaults to an empty dictionary.</value>
    public ImmutableDictionary<string, object> Sections { get; init; } = ImmutableDictionary.Create<string, object>(StringComparer.Ordinal);

    /// <summary>Returns the section of a type, such as <c>report.Section&lt;PaymentMetrics&gt;()</c>.</summary>
    /// <typeparam name="T">The type of the section.</typeparam>
    /// <returns>The first section (by key, in ordinal order) of that type, or <see langword="null"/> when there is none.</returns>
    public T? Section<T>()
        where T : class =>
        Sections.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).OfType<T>().FirstOrDefault();
}
