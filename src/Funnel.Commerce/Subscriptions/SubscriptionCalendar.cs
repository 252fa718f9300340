using Funnel.Offers;
using NodaTime;

namespace Funnel.Subscriptions;

/// <summary>The buyer's calendar of a subscription's periods, counted like a <see cref="PaymentPlan"/>'s installments.</summary>
/// <remarks>
/// Period <em>k</em> starts at the anchor's local date and time in the buyer's zone plus <em>k</em> intervals, always
/// counted from the anchor (Jan 31 + 1 month is Feb 28, + 2 months is Mar 31; Feb 29 + 1 year is Feb 28). A local time
/// that a daylight-saving change skips or repeats is resolved leniently (forward by the gap; the earlier offset).
/// </remarks>
internal static class SubscriptionCalendar
{
    /// <summary>Returns the calendar period of one billing interval.</summary>
    public static Period PeriodOf(BillingInterval interval) => interval switch
    {
        BillingInterval.Month => Period.FromMonths(1),
        BillingInterval.Year => Period.FromYears(1),
        _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "The billing interval is not defined."),
    };

    /// <summary>Returns the start of period <paramref name="cycle"/> counted from <paramref name="anchor"/>.</summary>
    public static Instant StartOf(Instant anchor, int cycle, BillingInterval interval, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentOutOfRangeException.ThrowIfNegative(cycle);
        if (cycle == 0)
        {
            return anchor;
        }

        LocalDateTime local = anchor.InZone(zone).LocalDateTime;
        return ChargeCalendar.DueAt(local, ChargeCalendar.Times(PeriodOf(interval), cycle), zone);
    }

    /// <summary>Returns the end of a free trial of <paramref name="days"/> calendar days started at <paramref name="start"/>.</summary>
    public static Instant TrialEnd(Instant start, int days, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        LocalDateTime local = start.InZone(zone).LocalDateTime;
        return ChargeCalendar.DueAt(local, Period.FromDays(days), zone);
    }
}
