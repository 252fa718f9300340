using Funnel.Offers;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

/// <summary>A recurring offer cannot be sold once through a cart by mistake.</summary>
public class RecurringOfferCartTests
{
    [Fact]
    public void Price_CartWithARecurringOffer_ThrowsNamingTheLineAndTheSubscriptionService()
    {
        var prices = new PriceBook(SubscriptionTestKit.Catalogue);
        var cart = new Cart { Lines = [new CartLine(SubscriptionTestKit.Monthly, 1)] };

        var error = Should.Throw<ArgumentException>(() => prices.Price(cart, SubscriptionTestKit.T0, DateTimeZone.Utc));

        error.Message.ShouldContain("Lines[0].Offer");
        error.Message.ShouldContain("SubscriptionService.StartAsync");
    }
}
