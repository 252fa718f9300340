using Funnel.Events;
using Funnel.Offers;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/offers.md (the waitlist ones are in Waitlists.cs).</summary>
internal static class OfferSnippets
{
    public static Offer Define(Deadline enrollThisWeek)
    {
        return
        // <snippet:offers-offer>
        new Offer
        {
            Id = "masterclass-basic",
            Name = "Basic Masterclass",
            Price = Money.FromMajor(497m, Currency.USD),
            Products = ["masterclass-videos", "masterclass-templates", "masterclass-community"],
            PaymentPlans =
            [
                new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = Money.FromMajor(180m, Currency.USD), Interval = Period.FromMonths(1) },
            ],
            Bonuses = [new LimitedTimeBonus { Product = "strategy-call-30", Deadline = enrollThisWeek }],
        };
        // </snippet:offers-offer>
    }

    public static Quote Price(Catalogue catalogue, IClock clock, DateTimeZone buyerZone)
    {
        // <snippet:offers-price>
        var prices = new PriceBook(catalogue);                     // validate and precompile once
        var cart = new Cart
        {
            Lines = [new CartLine("masterclass-basic"), new CartLine("cover-design-pack")],
            CouponCodes = ["LAUNCH20"],
        };
        Quote quote = prices.Price(cart, clock.GetCurrentInstant(), buyerZone);
        // Basic $497 - $99.40 = $397.60, bump $27 - $5.40 = $21.60; total $419.20, one charge now.
        // </snippet:offers-price>
        return quote;
    }

    public static async Task OrderAsync(OrderService orders, LeadId lead, Cart cart, DateTimeZone buyerZone, OrderId orderId)
    {
        // <snippet:offers-order>
        Checkout checkout = await orders.StartCheckoutAsync(lead, cart, buyerZone);      // CheckoutStarted; holds seats
        OrderResult placed = await orders.PlaceOrderAsync(checkout, paymentMethod: "pm_…"); // OrderPlaced, AddOnAccepted
        await orders.RecordPaymentAsync(placed.Order!.Id, placed.Order.Schedule[0].Amount); // PaymentSucceeded, EntitlementGranted
        OrderResult premium = await orders.AcceptUpsellAsync(placed.Order.Id, "masterclass-premium", buyerZone); // UpsellAccepted, OrderPlaced
        UpsellDecision next = await orders.DeclineUpsellAsync(placed.Order.Id, "masterclass-premium");         // UpsellDeclined; next = mini kit
        await orders.RefundAsync(orderId, Money.FromMajor(27m, Currency.USD), ["cover-design-pack"]);           // RefundIssued, EntitlementRevoked
        // </snippet:offers-order>
    }
}
