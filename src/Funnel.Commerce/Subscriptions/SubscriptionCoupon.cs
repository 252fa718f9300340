namespace Funnel.Subscriptions;

/// <summary>A coupon a subscription was started with: what it takes off each period and for how many more paid periods.</summary>
/// <remarks>
/// The amount is fixed when the coupon is applied (at the start, or again on a plan change) for the plan's price, by the
/// rules of <see cref="Offers.PriceBook.Price"/>: coupons apply in the order entered, a percentage of what the ones before
/// left. A coupon whose periods are used up is removed from <see cref="Subscription.Coupons"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SubscriptionCoupon
{
    /// <summary>Gets the coupon code as defined in the catalogue.</summary>
    public required string Code { get; init; }

    /// <summary>Gets what the coupon takes off each discounted period of the current plan.</summary>
    public required Money AmountOff { get; init; }

    /// <summary>Gets how many more paid periods it discounts, or <see langword="null"/> for every one (<see cref="Offers.CouponDuration.Forever"/>).</summary>
    public int? PeriodsLeft { get; init; }
}
