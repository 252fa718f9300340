using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Offers;

/// <summary>What kind of digital product a <see cref="Product"/> is; decides which platform grants access.</summary>
public enum ProductKind
{
    /// <summary>An online course, such as the Masterclass video lessons.</summary>
    Course = 0,

    /// <summary>An e-book or other single download.</summary>
    EBook = 1,

    /// <summary>A pack of templates, checklists or design files.</summary>
    TemplatePack = 2,

    /// <summary>A one-on-one coaching or strategy session.</summary>
    CoachingSession = 3,

    /// <summary>Access to a private community.</summary>
    CommunityAccess = 4,

    /// <summary>Any other downloadable file.</summary>
    Download = 5,
}

/// <summary>A digital product that offers sell, such as a course or a template pack.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Product
{
    /// <summary>Gets the stable key of the product, such as <c>masterclass-videos</c>; see <see cref="Funnel.Key"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the display name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the kind of product.</summary>
    /// <value>Defaults to <see cref="ProductKind.Course"/>.</value>
    public ProductKind Kind { get; init; } = ProductKind.Course;
}

/// <summary>The place of an offer in the offer path.</summary>
public enum OfferRole
{
    /// <summary>An offer sold on a sales page.</summary>
    Main = 0,

    /// <summary>A low-priced add-on ticked on the checkout form of another offer.</summary>
    OrderBump = 1,

    /// <summary>A higher-priced offer made after a purchase, charged with one click to the payment method on file.</summary>
    Upsell = 2,

    /// <summary>A lower-priced offer made when an upsell is declined or a prospect leaves the sales page.</summary>
    Downsell = 3,

    /// <summary>A related offer suggested at checkout.</summary>
    CrossSell = 4,
}

/// <summary>A payment plan: a number of equal installments charged at a fixed calendar interval.</summary>
/// <remarks>
/// The first installment is due at purchase and installment <em>k</em> (0-based) at the purchase's local date
/// and time in the buyer's time zone plus <em>k</em> × <see cref="Interval"/>, always counted from the purchase
/// (so Jan 31 + 1 month is Feb 28 and + 2 months is Mar 31). Local times that do not exist or exist twice
/// because of a daylight-saving change are resolved with <see cref="NodaTime.TimeZones.Resolvers.LenientResolver"/>:
/// a skipped time moves forward by the length of the gap, an ambiguous time takes the earlier offset.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PaymentPlan
{
    /// <summary>Gets the key that carts use to choose this plan, such as <c>3-monthly</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the number of installments; at least 2.</summary>
    public required int Installments { get; init; }

    /// <summary>Gets the amount of each installment, in the catalogue's currency.</summary>
    public required Money InstallmentAmount { get; init; }

    /// <summary>Gets the installment amounts in the other currencies the offer is priced in, one per currency.</summary>
    /// <remarks>
    /// A plan needs exactly the currencies of its offer's <see cref="Offer.Prices"/>, so a buyer who pays in euros
    /// can choose every plan the offer has. <see cref="Total"/> and <see cref="Schedule(Instant, DateTimeZone)"/>
    /// are in the catalogue's currency; a plan quoted in another currency costs the installment amount in it times
    /// <see cref="Installments"/>.
    /// </remarks>
    /// <value>Defaults to none.</value>
    public ImmutableArray<Money> InstallmentAmounts { get; init; } = [];

    /// <summary>Gets the calendar interval between installments, such as one month.</summary>
    public required Period Interval { get; init; }

    /// <summary>Gets what the plan costs in all.</summary>
    /// <value><see cref="InstallmentAmount"/> × <see cref="Installments"/>.</value>
    /// <exception cref="OverflowException">The total does not fit in a <see cref="long"/> of minor units.</exception>
    public Money Total => InstallmentAmount * Installments;

    /// <summary>Returns how much more the plan costs than paying once.</summary>
    /// <param name="oneTimePrice">The one-time price of the same offer.</param>
    /// <returns><see cref="Total"/> minus <paramref name="oneTimePrice"/>; $810 − $797 = $13 for the Premium plan.</returns>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public Money PremiumOver(Money oneTimePrice) => Total - oneTimePrice;

    /// <summary>Returns the charge schedule of the plan for a purchase at the given instant.</summary>
    /// <param name="purchasedAt">When the buyer bought.</param>
    /// <param name="buyerZone">The buyer's time zone, whose calendar the installments follow.</param>
    /// <returns>One charge per installment, in order, summing to <see cref="Total"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buyerZone"/> is <see langword="null"/>.</exception>
    public ImmutableArray<ScheduledCharge> Schedule(Instant purchasedAt, DateTimeZone buyerZone) => Schedule(Total, purchasedAt, buyerZone);

    /// <summary>Returns the charge schedule for a purchase of the plan at a discounted total.</summary>
    /// <param name="total">The amount to collect, such as the plan total after coupons; split into equal installments, larger ones first.</param>
    /// <param name="purchasedAt">When the buyer bought.</param>
    /// <param name="buyerZone">The buyer's time zone, whose calendar the installments follow.</param>
    /// <returns>One charge per installment, in order, summing exactly to <paramref name="total"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="buyerZone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Installments"/> is less than 1.</exception>
    public ImmutableArray<ScheduledCharge> Schedule(Money total, Instant purchasedAt, DateTimeZone buyerZone)
    {
        ArgumentNullException.ThrowIfNull(buyerZone);
        ArgumentOutOfRangeException.ThrowIfLessThan(Installments, 1);
        ImmutableArray<Money> parts = total.Allocate(Installments);
        LocalDateTime local = purchasedAt.InZone(buyerZone).LocalDateTime;
        var charges = new ScheduledCharge[Installments];
        for (int k = 0; k < Installments; k++)
        {
            charges[k] = new ScheduledCharge(k + 1, ChargeCalendar.DueAt(local, ChargeCalendar.Times(Interval, k), buyerZone), parts[k]);
        }

        return [.. charges];
    }
}

/// <summary>One charge of a schedule: its number, when it is due and how much it is.</summary>
/// <param name="Number">The 1-based number of the charge.</param>
/// <param name="DueAt">When the charge is due.</param>
/// <param name="Amount">The amount to charge.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct ScheduledCharge(int Number, Instant DueAt, Money Amount);

/// <summary>Calendar arithmetic for charge schedules.</summary>
internal static class ChargeCalendar
{
    /// <summary>Returns <paramref name="period"/> with every unit multiplied by <paramref name="times"/>.</summary>
    public static Period Times(Period period, int times)
    {
        if (times == 0)
        {
            return Period.Zero;
        }

        if (times == 1)
        {
            return period;
        }

        return new PeriodBuilder
        {
            Years = checked(period.Years * times),
            Months = checked(period.Months * times),
            Weeks = checked(period.Weeks * times),
            Days = checked(period.Days * times),
            Hours = checked(period.Hours * times),
            Minutes = checked(period.Minutes * times),
            Seconds = checked(period.Seconds * times),
            Milliseconds = checked(period.Milliseconds * times),
            Ticks = checked(period.Ticks * times),
            Nanoseconds = checked(period.Nanoseconds * times),
        }.Build();
    }

    public static Instant DueAt(LocalDateTime purchasedLocal, Period offset, DateTimeZone zone) =>
        ResolveLeniently(purchasedLocal + offset, zone);

    /// <summary>
    /// Returns what <c>local.InZone(zone, Resolvers.LenientResolver).ToInstant()</c> returns, without allocating:
    /// NodaTime's <c>MapLocal</c> creates a mapping object per call, which pricing avoids. An ambiguous time takes
    /// the earlier instant; a skipped time is shifted forward by the length of the gap. Checked against NodaTime
    /// by a property test over many zones and instants.
    /// </summary>
    public static Instant ResolveLeniently(LocalDateTime local, DateTimeZone zone)
    {
        NodaTime.TimeZones.ZoneInterval guess = zone.GetZoneInterval(local.InUtc().ToInstant());
        NodaTime.TimeZones.ZoneInterval? earlier = Earlier(guess, zone);
        if (Contains(guess, local))
        {
            // Ambiguous when the interval before also contains the local time: the lenient resolver takes the earlier.
            // (When the interval after contains it too, the guess is already the earlier one.)
            return earlier is not null && Contains(earlier, local) ? At(local, earlier) : At(local, guess);
        }

        if (earlier is not null && Contains(earlier, local))
        {
            return At(local, earlier);
        }

        NodaTime.TimeZones.ZoneInterval? later = Later(guess, zone);
        if (later is not null && Contains(later, local))
        {
            return At(local, later);
        }

        // In a gap: shift forward by the gap, that is, use the offset from before the gap.
        bool gapBefore = guess.HasStart && local < guess.IsoLocalStart;
        return At(local, gapBefore ? earlier! : guess);
    }

    private static Instant At(LocalDateTime local, NodaTime.TimeZones.ZoneInterval interval) =>
        local.WithOffset(interval.WallOffset).ToInstant();

    private static bool Contains(NodaTime.TimeZones.ZoneInterval interval, LocalDateTime local) =>
        (!interval.HasStart || interval.IsoLocalStart <= local) && (!interval.HasEnd || local < interval.IsoLocalEnd);

    private static NodaTime.TimeZones.ZoneInterval? Earlier(NodaTime.TimeZones.ZoneInterval interval, DateTimeZone zone) =>
        interval.HasStart ? zone.GetZoneInterval(interval.Start - Duration.Epsilon) : null;

    private static NodaTime.TimeZones.ZoneInterval? Later(NodaTime.TimeZones.ZoneInterval interval, DateTimeZone zone) =>
        interval.HasEnd ? zone.GetZoneInterval(interval.End) : null;

    public static bool IsPositive(Period? period) =>
        period is not null
        && period.Years >= 0 && period.Months >= 0 && period.Weeks >= 0 && period.Days >= 0 && period.Hours >= 0
        && period.Minutes >= 0 && period.Seconds >= 0 && period.Milliseconds >= 0 && period.Ticks >= 0 && period.Nanoseconds >= 0
        && !period.Equals(Period.Zero);
}

/// <summary>A seat limit on an offer, such as a cohort of 30; checkouts hold a seat for a while before paying.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SeatLimit
{
    /// <summary>Gets the number of seats; at least 1.</summary>
    public required int Capacity { get; init; }

    /// <summary>Gets how long a reservation holds a seat before it expires.</summary>
    /// <value>Defaults to 15 minutes; must be positive.</value>
    public Duration HoldFor { get; init; } = Duration.FromMinutes(15);
}

/// <summary>An honest deadline: a fixed instant for everyone, or an evergreen length counted per lead.</summary>
/// <remarks>
/// An evergreen deadline starts at the lead's first (earliest) event matching <see cref="StartsOn"/>, as recorded
/// server-side by an <see cref="IDeadlineStore"/> keyed by <see cref="LeadId"/>: clearing cookies or visiting again
/// does not move it. Set exactly one of <see cref="EndsAt"/> and <see cref="Evergreen"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Deadline
{
    /// <summary>Gets the stable key of the deadline, such as <c>enroll-this-week</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the fixed instant the deadline passes, for a deadline shared by everyone.</summary>
    public Instant? EndsAt { get; init; }

    /// <summary>Gets the length of an evergreen deadline, counted from each lead's first qualifying event.</summary>
    public Duration? Evergreen { get; init; }

    /// <summary>Gets the event that starts an evergreen deadline, such as <c>sales_page_visited:masterclass-basic</c>.</summary>
    public Funnel.Definitions.EventMatch? StartsOn { get; init; }
}

/// <summary>A bonus product that comes with an offer only when bought before a deadline.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LimitedTimeBonus
{
    /// <summary>Gets the key of the bonus product, such as <c>strategy-session</c>.</summary>
    public required string Product { get; init; }

    /// <summary>Gets the deadline after which the bonus is no longer included.</summary>
    public required Deadline Deadline { get; init; }
}

/// <summary>An offer: one or more products (a bundle when several) sold at one price, with optional payment plans.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Offer
{
    /// <summary>Gets the stable key of the offer, such as <c>masterclass-basic</c>.</summary>
    public required OfferId Id { get; init; }

    /// <summary>Gets the display name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the role of the offer in the offer path.</summary>
    /// <value>Defaults to <see cref="OfferRole.Main"/>.</value>
    public OfferRole Role { get; init; } = OfferRole.Main;

    /// <summary>Gets the one-time price, in the catalogue's currency.</summary>
    public required Money Price { get; init; }

    /// <summary>Gets the one-time prices in currencies other than the catalogue's, at most one per currency.</summary>
    /// <remarks>
    /// A cart is quoted in one currency (see <see cref="PriceBook"/>): a buyer whose country's currency every offer of
    /// the cart has a price in pays in it; otherwise the cart is quoted in the catalogue's currency. Each of the
    /// offer's <see cref="PaymentPlans"/> must then have an installment amount in every currency listed here
    /// (<see cref="PaymentPlan.InstallmentAmounts"/>). Seats, deadlines and bonuses do not depend on the currency.
    /// </remarks>
    /// <value>Defaults to none: the offer sells only in the catalogue's currency.</value>
    public ImmutableArray<Money> Prices { get; init; } = [];

    /// <summary>Returns the one-time price in the given currency.</summary>
    /// <param name="currency">The currency.</param>
    /// <returns><see cref="Price"/> when it is in <paramref name="currency"/>, else the entry of <see cref="Prices"/> in it, or <see langword="null"/> when the offer has no price in it.</returns>
    public Money? PriceIn(Currency currency) => PriceLists.Find(Price, Prices, currency);

    /// <summary>Gets the keys of the products the offer grants; several make a bundle.</summary>
    public ImmutableArray<string> Products { get; init; } = [];

    /// <summary>Gets the payment plans a buyer may choose instead of the one-time price.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<PaymentPlan> PaymentPlans { get; init; } = [];

    /// <summary>Gets the seat limit, or <see langword="null"/> for an unlimited offer.</summary>
    public SeatLimit? Seats { get; init; }

    /// <summary>Gets the deadline after which the offer can no longer be bought, or <see langword="null"/> for none.</summary>
    public Deadline? Deadline { get; init; }

    /// <summary>Gets the bonuses included when the offer is bought before their deadline.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<LimitedTimeBonus> Bonuses { get; init; } = [];

    /// <summary>Gets the billing terms of a recurring offer (a membership), or <see langword="null"/> for a one-time offer.</summary>
    /// <remarks>
    /// A recurring offer is sold through <see cref="Subscriptions.SubscriptionService"/>: <see cref="Price"/> is the price
    /// of one billing period, and it cannot have <see cref="PaymentPlans"/>.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Subscriptions.SubscriptionTerms? Recurring { get; init; }
}

/// <summary>A coupon: a percentage or fixed amount off, optionally restricted to offers, a time window and a number of redemptions.</summary>
/// <remarks>
/// Set exactly one of <see cref="PercentOff"/> and <see cref="AmountOff"/>. Codes are matched ignoring case.
/// The pricing engine checks the time window, restrictions and stacking; the redemption limits are enforced
/// atomically when an order is placed (<see cref="ICouponRedemptionStore"/>), since a quote is not a redemption.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Coupon
{
    /// <summary>Gets the code buyers enter, such as <c>LAUNCH20</c>.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the percentage off, such as 20 for 20%; greater than 0, at most 100, at most 4 decimals.</summary>
    public decimal? PercentOff { get; init; }

    /// <summary>Gets the fixed amount off, in the catalogue's currency.</summary>
    public Money? AmountOff { get; init; }

    /// <summary>Gets the fixed amounts off in other currencies, one per currency, for a coupon with <see cref="AmountOff"/>.</summary>
    /// <remarks>
    /// A fixed-amount coupon applies to a quote only in a currency it has an amount in (<see cref="AmountOff"/> or
    /// one of these); in any other currency it is rejected with <see cref="CouponRejectionReason.NotInCurrency"/>,
    /// since no exchange rate is applied at checkout. A <see cref="PercentOff"/> coupon applies in every currency.
    /// </remarks>
    /// <value>Defaults to none: the fixed amount applies only in the catalogue's currency.</value>
    public ImmutableArray<Money> AmountsOff { get; init; } = [];

    /// <summary>Gets the offers the coupon applies to; empty means every offer.</summary>
    /// <value>Defaults to empty (every offer).</value>
    public ImmutableArray<OfferId> AppliesTo { get; init; } = [];

    /// <summary>Gets the instant from which the coupon is valid, or <see langword="null"/> for no start.</summary>
    public Instant? StartsAt { get; init; }

    /// <summary>Gets the instant at which the coupon stops being valid (exclusive), or <see langword="null"/> for never.</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>Gets how many orders may use the coupon in all, or <see langword="null"/> for no limit.</summary>
    public int? MaxRedemptions { get; init; }

    /// <summary>Gets how many orders of one lead may use the coupon, or <see langword="null"/> for no limit.</summary>
    public int? MaxRedemptionsPerLead { get; init; }

    /// <summary>Gets whether the coupon combines with other coupons.</summary>
    /// <value>Defaults to <see cref="CouponStacking.Stackable"/>.</value>
    public CouponStacking Stacking { get; init; } = CouponStacking.Stackable;

    /// <summary>Gets how many paid periods of a subscription the coupon discounts.</summary>
    /// <remarks>
    /// Applies only to subscriptions (<see cref="Subscriptions.SubscriptionService.StartAsync"/>), counted in paid
    /// periods: a free trial is not a period, so a <see cref="CouponDuration.Once"/> coupon on a plan with a trial
    /// discounts the first paid period. A one-time cart ignores it: the coupon applies to that one order.
    /// </remarks>
    /// <value>Defaults to <see cref="CouponDuration.Once"/>, as in Stripe Billing.</value>
    public CouponDuration Duration { get; init; } = CouponDuration.Once;

    /// <summary>Gets how many paid periods a <see cref="CouponDuration.Repeating"/> coupon discounts; at least 1.</summary>
    /// <remarks>Set it exactly when <see cref="Duration"/> is <see cref="CouponDuration.Repeating"/>.</remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public int? DurationInPeriods { get; init; }
}

/// <summary>How many paid periods of a subscription a coupon discounts (Stripe's coupon <c>duration</c>).</summary>
public enum CouponDuration
{
    /// <summary>The first paid period only.</summary>
    Once = 0,

    /// <summary>The first <see cref="Coupon.DurationInPeriods"/> paid periods.</summary>
    Repeating = 1,

    /// <summary>Every paid period, for as long as the subscription keeps the plan the coupon applies to.</summary>
    Forever = 2,
}

/// <summary>Whether a coupon combines with others in one cart.</summary>
public enum CouponStacking
{
    /// <summary>The coupon combines with other stackable coupons.</summary>
    Stackable = 0,

    /// <summary>The coupon must be the only coupon in the cart.</summary>
    Exclusive = 1,
}

/// <summary>A catalogue: the products, the offers that sell them and the coupons, priced in one default currency and optionally others.</summary>
/// <remarks>Validate it with <see cref="CatalogueValidator"/>; <see cref="PriceBook"/> does so when it compiles it.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Catalogue
{
    /// <summary>Gets the default currency: that of every <see cref="Offer.Price"/>, installment amount and fixed discount.</summary>
    /// <remarks>Prices in other currencies are listed per offer in <see cref="Offer.Prices"/>.</remarks>
    public required Currency Currency { get; init; }

    /// <summary>Gets the products.</summary>
    public ImmutableArray<Product> Products { get; init; } = [];

    /// <summary>Gets the offers.</summary>
    public ImmutableArray<Offer> Offers { get; init; } = [];

    /// <summary>Gets the coupons.</summary>
    public ImmutableArray<Coupon> Coupons { get; init; } = [];

    /// <summary>Returns the offer with the given id.</summary>
    /// <param name="id">The offer id.</param>
    /// <returns>The offer, or <see langword="null"/> when the catalogue has none with that id.</returns>
    public Offer? FindOffer(OfferId id)
    {
        foreach (Offer offer in Offers)
        {
            if (offer.Id == id)
            {
                return offer;
            }
        }

        return null;
    }
}
