using Funnel.Events;
using Funnel.Offers;
using Funnel.Waitlists;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of the Waitlists section of docs/offers.md.</summary>
internal static class WaitlistSnippets
{
    public static void Register(IServiceCollection services)
    {
        // <snippet:waitlists-register>
        services.AddFunnelCommerce();
        services.AddFunnelWaitlists(o =>
        {
            o.HoldFor = Duration.FromHours(24);        // a released seat is held this long for the next lead in line
            o.Interval = TimeSpan.FromMinutes(1);      // how often the waitlist-holds job passes lapsed holds on
        });
        // </snippet:waitlists-register>
    }

    public static async Task JoinAsync(OrderService orders, WaitlistService waitlists, LeadId lead, DateTimeZone zone)
    {
        // <snippet:waitlists-join>
        Checkout checkout = await orders.StartCheckoutAsync(lead, new Cart { Lines = [new CartLine("masterclass-cohort")] }, zone);
        if (checkout.Rejection == OrderRejection.SoldOut)
        {
            WaitlistJoinResult join = await waitlists.JoinAsync("masterclass-cohort", lead);
            Console.WriteLine(join.Rejection is null
                ? $"You are number {join.Position} on the waitlist."   // waitlist_joined
                : join.Reason);                                          // e.g. a seat freed up meanwhile: buy it
        }

        // Later, on waitlist_seat_offered (email the lead its ExpiresAt): the holder's checkout gets the held seat.
        WaitlistHold? hold = await waitlists.FindHoldAsync("masterclass-cohort", lead);
        // </snippet:waitlists-join>
    }

    public static void Report(IReadOnlyList<FunnelEvent> events)
    {
        // <snippet:waitlists-report>
        WaitlistReport waitlist = WaitlistReport.Compute(events, "masterclass-cohort", Currency.USD);
        Console.WriteLine($"{waitlist.Waiting} waiting, {waitlist.OffersMade} seats offered, {waitlist.Conversions} bought, "
            + $"{waitlist.Expiries} lapsed ({waitlist.ConversionRate}); recovered {waitlist.RecoveredRevenue}");
        // </snippet:waitlists-report>
    }
}
