using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using FluentValidation;
using Funnel.Currencies;
using Funnel.Tax;
using NodaTime;

namespace Funnel.Offers;

/// <summary>One line of a cart: an offer, how many, and optionally the payment plan chosen for it.</summary>
/// <param name="Offer">The offer, including bumps and cross-sells the buyer ticked.</param>
/// <param name="Quantity">How many; at least 1.</param>
/// <param name="PaymentPlan">The key of one of the offer's payment plans, or <see langword="null"/> to pay once.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct CartLine(OfferId Offer, int Quantity = 1, string? PaymentPlan = null);

/// <summary>A cart to price: its lines and the coupon codes the buyer entered.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Cart
{
    /// <summary>Gets the lines; the first is the main offer of the order.</summary>
    public required ImmutableArray<CartLine> Lines { get; init; }

    /// <summary>Gets the coupon codes, in the order they apply.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> CouponCodes { get; init; } = [];

    /// <summary>Gets the buyer's location evidence and VAT number, for the tax of the checkout.</summary>
    /// <remarks>Used only when an <see cref="ITaxCalculator"/> is registered; pricing itself ignores it.</remarks>
    /// <value>Defaults to <see langword="null"/>: no evidence, so a checkout with a tax calculator stops with <see cref="OrderRejection.LocationUnresolved"/>.</value>
    public BuyerTaxDetails? Buyer { get; init; }

    /// <summary>Gets the currency the buyer picked, or <see langword="null"/> to choose it from their country.</summary>
    /// <remarks>
    /// A picked currency is binding: every offer of the cart must have a price in it, or <see cref="PriceBook.Price"/>
    /// throws and <see cref="OrderService.StartCheckoutAsync"/> rejects the checkout with
    /// <see cref="OrderRejection.CurrencyNotOffered"/>. Without one, the <see cref="CurrencySelector"/> of
    /// the price book chooses from the country in <see cref="Buyer"/>, falling back to the catalogue's currency.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Currency? Currency { get; init; }
}

/// <summary>A priced line of a <see cref="Quote"/>.</summary>
/// <param name="Offer">The offer.</param>
/// <param name="Role">The offer's role, such as <see cref="OfferRole.OrderBump"/>.</param>
/// <param name="Quantity">How many.</param>
/// <param name="PaymentPlan">The chosen payment plan's key, or <see langword="null"/> for the one-time price.</param>
/// <param name="UnitPrice">The price of one: the one-time price or the plan total.</param>
/// <param name="Subtotal">The unit price times the quantity.</param>
/// <param name="Discount">What the coupons took off this line.</param>
/// <param name="Total">The subtotal minus the discount; never negative.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct QuoteLine(OfferId Offer, OfferRole Role, int Quantity, string? PaymentPlan, Money UnitPrice, Money Subtotal, Money Discount, Money Total);

/// <summary>A coupon that was applied, with what it took off in all.</summary>
/// <param name="Code">The coupon code as defined in the catalogue.</param>
/// <param name="Discount">The total taken off by this coupon.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct AppliedCoupon(string Code, Money Discount);

/// <summary>Why a coupon was not applied.</summary>
public enum CouponRejectionReason
{
    /// <summary>No coupon has this code.</summary>
    Unknown = 0,

    /// <summary>The coupon is not valid yet.</summary>
    NotStarted = 1,

    /// <summary>The coupon has expired.</summary>
    Expired = 2,

    /// <summary>The coupon applies to none of the cart's offers.</summary>
    NotApplicable = 3,

    /// <summary>The coupon does not combine with another coupon in the cart.</summary>
    NotCombinable = 4,

    /// <summary>The code was entered twice.</summary>
    Duplicate = 5,

    /// <summary>The coupon takes a fixed amount off, but has no amount in the quote's currency (see <see cref="Coupon.AmountsOff"/>).</summary>
    NotInCurrency = 6,

    /// <summary>The coupon's redemption limit is reached; reported when a subscription starts (<see cref="Subscriptions.SubscriptionResult.RejectedCoupons"/>), never by a quote.</summary>
    LimitReached = 7,
}

/// <summary>A coupon code that was not applied, and why.</summary>
/// <param name="Code">The code as entered.</param>
/// <param name="Reason">Why it was not applied.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct CouponRejection(string Code, CouponRejectionReason Reason);

/// <summary>The exact price of a cart: every line, every discount and the charge schedule.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Quote
{
    /// <summary>Gets the currency of every amount: the cart's currency as <see cref="PriceBook.ChooseCurrency"/> chose it.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the instant the cart was priced at (coupons' windows are checked against it; the schedule starts at it).</summary>
    public required Instant PricedAt { get; init; }

    /// <summary>Gets the priced lines, in cart order.</summary>
    public required ImmutableArray<QuoteLine> Lines { get; init; }

    /// <summary>Gets the coupons applied, in the order they applied.</summary>
    public required ImmutableArray<AppliedCoupon> Coupons { get; init; }

    /// <summary>Gets the coupon codes that were not applied, with the reason.</summary>
    public required ImmutableArray<CouponRejection> RejectedCoupons { get; init; }

    /// <summary>Gets the sum of the line subtotals.</summary>
    public required Money Subtotal { get; init; }

    /// <summary>Gets the sum of all discounts.</summary>
    public required Money Discount { get; init; }

    /// <summary>Gets what the buyer pays in all: <see cref="Subtotal"/> minus <see cref="Discount"/>, never negative, plus the tax when prices exclude it.</summary>
    public required Money Total { get; init; }

    /// <summary>Gets the charges, in time order, summing to <see cref="Total"/>; the first is due at <see cref="PricedAt"/>.</summary>
    public required ImmutableArray<ScheduledCharge> Schedule { get; init; }

    /// <summary>Gets the tax of each line and where the sale is taxed.</summary>
    /// <value><see langword="null"/> when no tax was calculated (no <see cref="ITaxCalculator"/> is registered).</value>
    public TaxBreakdown? Tax { get; init; }

    /// <summary>Returns this quote with its tax: the breakdown recorded and, when prices exclude tax, the tax added to the total and the schedule.</summary>
    /// <param name="tax">The breakdown from an <see cref="ITaxCalculator"/> for this quote.</param>
    /// <returns>The taxed quote.</returns>
    /// <remarks>
    /// When prices include tax, <see cref="Total"/> and <see cref="Schedule"/> stay as they are: the tax is part of them.
    /// When they exclude it, the tax is added to <see cref="Total"/> and spread over the charges of the schedule in
    /// proportion to their amounts (largest remainder), so the schedule still sums exactly to the total.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="tax"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The quote already has tax, the place of supply is not settled, or the breakdown does not match the lines (one per line, same currency, gross = net + tax, and the line total as gross or net); the message names the line.</exception>
    public Quote WithTax(TaxBreakdown tax)
    {
        ArgumentNullException.ThrowIfNull(tax);
        if (Tax is not null)
        {
            throw new ArgumentException("The quote already has tax.", nameof(tax));
        }

        if (!tax.IsResolved)
        {
            throw new ArgumentException($"PlaceOfSupply: the place of supply is not settled ({tax.PlaceOfSupply.Status}).", nameof(tax));
        }

        if (tax.Lines.IsDefault || tax.Lines.Length != Lines.Length)
        {
            throw new ArgumentException($"Lines: the breakdown has {(tax.Lines.IsDefault ? 0 : tax.Lines.Length)} lines for {Lines.Length} quote lines.", nameof(tax));
        }

        long sum = 0;
        for (int i = 0; i < Lines.Length; i++)
        {
            TaxLine line = tax.Lines[i];
            Money expected = tax.PricesIncludeTax ? line.Gross : line.Net;
            if (line.Offer != Lines[i].Offer || line.Net.Currency != Currency || line.Tax.Currency != Currency || line.Gross.Currency != Currency
                || line.Tax.IsNegative || line.Net.IsNegative || line.Net.MinorUnits + line.Tax.MinorUnits != line.Gross.MinorUnits || expected != Lines[i].Total)
            {
                throw new ArgumentException($"Lines[{i}]: the tax line ({line.Net} + {line.Tax} = {line.Gross}) does not fit quote line {Lines[i].Offer} of {Lines[i].Total}.", nameof(tax));
            }

            sum = checked(sum + line.Tax.MinorUnits);
        }

        if (sum != tax.Tax.MinorUnits || tax.Tax.Currency != Currency)
        {
            throw new ArgumentException($"Tax: the breakdown's tax {tax.Tax} is not the sum of its lines' tax ({sum}).", nameof(tax));
        }

        if (tax.PricesIncludeTax || sum == 0)
        {
            return this with { Tax = tax };
        }

        var schedule = new ScheduledCharge[Schedule.Length];
        if (schedule.Length == 1)
        {
            schedule[0] = Schedule[0] with { Amount = Schedule[0].Amount + tax.Tax };
        }
        else
        {
            var ratios = new long[schedule.Length];
            for (int k = 0; k < ratios.Length; k++)
            {
                ratios[k] = Schedule[k].Amount.MinorUnits;
            }

            ImmutableArray<Money> shares = tax.Tax.Allocate(ratios);
            for (int k = 0; k < schedule.Length; k++)
            {
                schedule[k] = Schedule[k] with { Amount = Schedule[k].Amount + shares[k] };
            }
        }

        return this with { Tax = tax, Total = Total + tax.Tax, Schedule = ImmutableCollectionsMarshal.AsImmutableArray(schedule) };
    }
}

/// <summary>The pricing engine: a validated, precompiled catalogue that prices carts.</summary>
/// <remarks>
/// <para>
/// Pricing is pure: the same cart, instant and time zone always give the same quote, and nothing is stored.
/// Each line costs the offer's one-time price, or the chosen payment plan's total, times the quantity. Coupons
/// then apply in the order entered, each to the lines it is valid for: a percentage takes that share of each
/// line's remaining amount (rounded half away from zero, per line); a fixed amount takes off up to its value
/// from the eligible lines in cart order, never more than what remains, so no line and no total goes below zero.
/// </para>
/// <para>
/// A coupon is rejected (listed in <see cref="Quote.RejectedCoupons"/>, not an error) when its code is unknown or
/// repeated, it is outside its window at the pricing instant, it fits no line, or stacking forbids it: an
/// <see cref="CouponStacking.Exclusive"/> coupon applies only when it is the first accepted coupon, and then no
/// other coupon applies. Redemption limits are checked when the order is placed.
/// </para>
/// <para>
/// The schedule puts every one-time line and the first installment of every plan at the pricing instant; later
/// installments follow each plan's calendar in the buyer's time zone (see <see cref="PaymentPlan"/>). A plan
/// line's total after discounts is split into equal installments, larger ones first. Charges due at the same
/// instant are merged.
/// </para>
/// <para>
/// A quote is in one currency, chosen by <see cref="ChooseCurrency"/>: the cart's <see cref="Cart.Currency"/> when the
/// buyer picked one (every offer must be priced in it); otherwise the currency <see cref="CurrencySelector"/> gives
/// for the buyer's country when every offer of the cart has a price in it (<see cref="Offer.Prices"/>); otherwise the
/// catalogue's currency. Every line, plan and fixed discount is then taken in that currency: an offer's price and its
/// plans' installment amounts in it, and a fixed coupon's amount in it (a fixed coupon with none is rejected with
/// <see cref="CouponRejectionReason.NotInCurrency"/>); a percentage applies in any currency. No exchange rate is ever
/// applied to a price.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class PriceBook
{
    private const long PercentScale = 10_000; // a percentage with up to 4 decimals, as a whole number
    private readonly FrozenDictionary<OfferId, int> offerIndex;
    private readonly FrozenDictionary<string, int> offerIndexByValue; // the same, keyed by the id's string: a faster lookup for pricing
    private readonly CompiledOffer[] offers;
    private readonly FrozenDictionary<string, int> couponIndex;
    private readonly CompiledCoupon[] coupons;
    private readonly FrozenDictionary<Currency, int> currencyIndex;

    /// <summary>Validates and compiles a catalogue, choosing buyers' currencies with <see cref="CurrencySelector.Default"/>.</summary>
    /// <param name="catalogue">The catalogue.</param>
    /// <exception cref="ArgumentNullException"><paramref name="catalogue"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The catalogue is not valid; the errors name the offending paths.</exception>
    public PriceBook(Catalogue catalogue)
        : this(catalogue, CurrencySelector.Default)
    {
    }

    /// <summary>Validates and compiles a catalogue, choosing buyers' currencies with the given selector.</summary>
    /// <param name="catalogue">The catalogue.</param>
    /// <param name="currencySelector">Maps a buyer's country to the currency to quote in; <see cref="CurrencySelector.Empty"/> quotes every cart that names no currency in the catalogue's.</param>
    /// <exception cref="ArgumentNullException"><paramref name="catalogue"/> or <paramref name="currencySelector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The catalogue is not valid; the errors name the offending paths.</exception>
    public PriceBook(Catalogue catalogue, CurrencySelector currencySelector)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(currencySelector);
        new CatalogueValidator().ValidateAndThrow(catalogue);
        Catalogue = catalogue;
        CurrencySelector = currencySelector;
        Currencies = [catalogue.Currency, .. catalogue.Offers.SelectMany(o => o.Prices).Select(p => p.Currency)
            .Where(c => c != catalogue.Currency).Distinct().OrderBy(c => c.Code, StringComparer.Ordinal)];
        currencyIndex = Currencies.Select((c, i) => KeyValuePair.Create(c, i)).ToFrozenDictionary();
        offers = [.. catalogue.Offers.Select(o => new CompiledOffer(o, Currencies))];
        offerIndex = catalogue.Offers.Select((o, i) => KeyValuePair.Create(o.Id, i)).ToFrozenDictionary();
        offerIndexByValue = catalogue.Offers.Select((o, i) => KeyValuePair.Create(o.Id.Value, i)).ToFrozenDictionary(StringComparer.Ordinal);
        coupons = [.. catalogue.Coupons.Select(c => new CompiledCoupon(c, offerIndex, Currencies))];
        couponIndex = catalogue.Coupons.Select((c, i) => KeyValuePair.Create(c.Code, i)).ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Gets the catalogue this price book was compiled from.</summary>
    public Catalogue Catalogue { get; }

    /// <summary>Gets the catalogue's currency: the default currency of quotes.</summary>
    public Currency Currency => Catalogue.Currency;

    /// <summary>Gets every currency some offer is priced in: the catalogue's first, then the others by code.</summary>
    /// <remarks>For a currency picker; an offer's own currencies are <see cref="Offer.PriceIn"/> those that are not <see langword="null"/>.</remarks>
    public ImmutableArray<Currency> Currencies { get; }

    /// <summary>Gets the selector that maps a buyer's country to the currency of their quote.</summary>
    public CurrencySelector CurrencySelector { get; }

    /// <summary>Returns the currency a cart is quoted in.</summary>
    /// <param name="cart">The cart.</param>
    /// <returns>
    /// <see cref="Cart.Currency"/> when set; otherwise the currency of the buyer's country (billing, else IP, else card
    /// country in <see cref="Cart.Buyer"/>) when every offer of the cart has a price in it; otherwise <see cref="Currency"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="cart"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The cart names a currency that an offer of it has no price in, or the buyer's country is not a two-letter code; the message names the offer or field.</exception>
    public Currency ChooseCurrency(Cart cart)
    {
        ArgumentNullException.ThrowIfNull(cart);
        return Currencies[ChooseCurrencyIndex(cart)];
    }

    /// <summary>Prices a cart.</summary>
    /// <param name="cart">The cart.</param>
    /// <param name="pricedAt">The instant to price at, usually "now" from the checkout's <see cref="IClock"/>.</param>
    /// <param name="buyerZone">The buyer's time zone, for the installment calendar.</param>
    /// <returns>The quote.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="cart"/> or <paramref name="buyerZone"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The cart has no lines, a line names an unknown or recurring offer or payment plan, or a quantity is below 1; the message names the line, such as <c>Lines[2].Offer</c>. Or the cart picks a currency (<see cref="Cart.Currency"/>) an offer of it has no price in, or the buyer's country is not a two-letter code; the message names the offer and currency.</exception>
    /// <exception cref="OverflowException">An amount does not fit in a <see cref="long"/> of minor units.</exception>
    public Quote Price(Cart cart, Instant pricedAt, DateTimeZone buyerZone)
    {
        ArgumentNullException.ThrowIfNull(cart);
        ArgumentNullException.ThrowIfNull(buyerZone);
        ImmutableArray<CartLine> cartLines = cart.Lines;
        if (cartLines.IsDefaultOrEmpty)
        {
            throw new ArgumentException("Lines: the cart has no lines.", nameof(cart));
        }

        int ci = ChooseCurrencyIndex(cart);
        int n = cartLines.Length;
        Span<int> lineOffer = n <= 64 ? stackalloc int[n] : new int[n];
        Span<int> linePlan = n <= 64 ? stackalloc int[n] : new int[n];
        Span<long> net = n <= 64 ? stackalloc long[n] : new long[n];
        long subtotal = 0;
        int laterCharges = 0;
        for (int i = 0; i < n; i++)
        {
            CartLine line = cartLines[i];
            if (line.Offer.Value is not { } offerKey || !offerIndexByValue.TryGetValue(offerKey, out int o))
            {
                throw new ArgumentException(LineError(i, "Offer", $"offer '{line.Offer}' is not in the catalogue."), nameof(cart));
            }

            CompiledOffer offer = offers[o];
            if (offer.IsRecurring)
            {
                throw new ArgumentException(
                    LineError(i, "Offer", $"offer '{line.Offer}' is recurring: a cart sells it once; start it with SubscriptionService.StartAsync."), nameof(cart));
            }

            if (line.Quantity < 1)
            {
                throw new ArgumentException(LineError(i, "Quantity", $"the quantity is {line.Quantity}; it must be at least 1."), nameof(cart));
            }

            int plan = -1;
            long unit = offer.Prices[ci];
            if (line.PaymentPlan is not null)
            {
                plan = offer.FindPlan(line.PaymentPlan);
                if (plan < 0)
                {
                    throw new ArgumentException(LineError(i, "PaymentPlan", $"offer '{line.Offer}' has no payment plan '{line.PaymentPlan}'."), nameof(cart));
                }

                unit = offer.Plans[plan].Totals[ci];
                laterCharges += offer.Plans[plan].Offsets.Length - 1;
            }

            lineOffer[i] = o;
            linePlan[i] = plan;
            net[i] = checked(unit * line.Quantity);
            subtotal = checked(subtotal + net[i]);
        }

        ImmutableArray<string> codes = cart.CouponCodes.IsDefault ? [] : cart.CouponCodes;
        Span<int> accepted = codes.Length <= 16 ? stackalloc int[codes.Length] : new int[codes.Length];
        int acceptedCount = 0;
        List<CouponRejection>? rejections = null;
        for (int j = 0; j < codes.Length; j++)
        {
            CouponRejectionReason? reason = Accept(codes[j], pricedAt, lineOffer, accepted[..acceptedCount], ci, out int c);
            if (reason is { } r)
            {
                (rejections ??= []).Add(new CouponRejection(codes[j] ?? string.Empty, r));
            }
            else
            {
                accepted[acceptedCount++] = c;
            }
        }

        var applied = new AppliedCoupon[acceptedCount];
        Span<long> lineDiscount = n <= 64 ? stackalloc long[n] : new long[n];
        lineDiscount.Clear();
        long discount = 0;
        for (int a = 0; a < acceptedCount; a++)
        {
            CompiledCoupon coupon = coupons[accepted[a]];
            long taken = 0;
            long amountOff = coupon.IsFixed ? coupon.AmountsOff[ci] : 0;
            long remaining = amountOff;
            for (int i = 0; i < n; i++)
            {
                if (!coupon.AppliesTo(lineOffer[i]))
                {
                    continue;
                }

                long d = amountOff > 0 ? Math.Min(remaining, net[i]) : PercentOf(net[i], coupon.PercentScaled);
                net[i] -= d;
                lineDiscount[i] += d;
                remaining -= amountOff > 0 ? d : 0;
                taken += d;
            }

            applied[a] = new AppliedCoupon(coupon.Code, new Money(taken, Currencies[ci]));
            discount += taken;
        }

        Currency currency = Currencies[ci];
        var lines = new QuoteLine[n];
        long nowAmount = 0;
        Span<(Instant At, long Amount)> later = laterCharges <= 64 ? stackalloc (Instant, long)[laterCharges] : new (Instant, long)[laterCharges];
        int laterCount = 0;
        LocalDateTime local = laterCharges > 0 ? pricedAt.InZone(buyerZone).LocalDateTime : default;
        for (int i = 0; i < n; i++)
        {
            CartLine line = cartLines[i];
            CompiledOffer offer = offers[lineOffer[i]];
            long unit = offer.Prices[ci];
            if (linePlan[i] >= 0)
            {
                CompiledPlan plan = offer.Plans[linePlan[i]];
                unit = plan.Totals[ci];
                int parts = plan.Offsets.Length;
                long q = net[i] / parts;
                long r = net[i] % parts;
                nowAmount += q + (r > 0 ? 1 : 0);
                for (int k = 1; k < parts; k++)
                {
                    later[laterCount++] = (ChargeCalendar.DueAt(local, plan.Offsets[k], buyerZone), q + (k < r ? 1 : 0));
                }
            }
            else
            {
                nowAmount += net[i];
            }

            lines[i] = new QuoteLine(line.Offer, offer.Role, line.Quantity, line.PaymentPlan,
                new Money(unit, currency), new Money(checked(unit * line.Quantity), currency), new Money(lineDiscount[i], currency), new Money(net[i], currency));
        }

        return new Quote
        {
            Currency = currency,
            PricedAt = pricedAt,
            Lines = ImmutableCollectionsMarshal.AsImmutableArray(lines),
            Coupons = ImmutableCollectionsMarshal.AsImmutableArray(applied),
            RejectedCoupons = rejections is null ? [] : [.. rejections],
            Subtotal = new Money(subtotal, currency),
            Discount = new Money(discount, currency),
            Total = new Money(subtotal - discount, currency),
            Schedule = BuildSchedule(pricedAt, nowAmount, later[..laterCount], currency),
        };
    }

    /// <summary>Returns the offer with the given id.</summary>
    /// <param name="id">The offer id.</param>
    /// <returns>The offer.</returns>
    /// <exception cref="ArgumentException">The catalogue has no offer with that id.</exception>
    public Offer GetOffer(OfferId id) =>
        offerIndex.TryGetValue(id, out int i) ? Catalogue.Offers[i] : throw new ArgumentException($"Offer '{id}' is not in the catalogue.", nameof(id));

    internal Coupon? FindCoupon(string code) => couponIndex.TryGetValue(code, out int i) ? Catalogue.Coupons[i] : null;

    /// <summary>
    /// Applies coupons to one period of a recurring offer at its catalogue price, by the rules of <see cref="Price"/>
    /// (window at <paramref name="at"/>, restrictions, currency, stacking, then the discounts in order).
    /// </summary>
    internal (ImmutableArray<AppliedCoupon> Applied, ImmutableArray<CouponRejection> Rejected) PricePeriod(OfferId offer, ImmutableArray<string> codes, Instant at)
    {
        const int ci = 0; // a subscription is priced in the catalogue's currency
        ReadOnlySpan<int> lineOffer = [offerIndex[offer]];
        long net = offers[lineOffer[0]].Prices[ci];
        var accepted = new List<int>();
        var applied = ImmutableArray.CreateBuilder<AppliedCoupon>();
        var rejected = ImmutableArray.CreateBuilder<CouponRejection>();
        foreach (string code in codes.IsDefault ? [] : codes)
        {
            if (Accept(code, at, lineOffer, CollectionsMarshal.AsSpan(accepted), ci, out int c) is { } reason)
            {
                rejected.Add(new CouponRejection(code ?? string.Empty, reason));
                continue;
            }

            accepted.Add(c);
            CompiledCoupon coupon = coupons[c];
            long d = coupon.IsFixed ? Math.Min(coupon.AmountsOff[ci], net) : PercentOf(net, coupon.PercentScaled);
            net -= d;
            applied.Add(new AppliedCoupon(coupon.Code, new Money(d, Currencies[ci])));
        }

        return (applied.ToImmutable(), rejected.ToImmutable());
    }

    /// <summary>Returns the first offer of the cart with no price in <paramref name="currency"/>, or <see langword="null"/> when all have one (unknown offers are skipped).</summary>
    internal OfferId? FirstUnpriced(Cart cart, Currency currency)
    {
        int c = currencyIndex.TryGetValue(currency, out int found) ? found : -1;
        foreach (CartLine line in cart.Lines.IsDefault ? [] : cart.Lines)
        {
            if (offerIndex.TryGetValue(line.Offer, out int o) && (c < 0 || offers[o].Prices[c] < 0))
            {
                return line.Offer;
            }
        }

        return null;
    }

    private int ChooseCurrencyIndex(Cart cart)
    {
        if (cart.Currency is { } wanted)
        {
            if (FirstUnpriced(cart, wanted) is { } missing)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Currency: offer '{missing}' has no price in {wanted.Code}; it sells in {string.Join(", ", PricedIn(missing))}."), nameof(cart));
            }

            return currencyIndex.TryGetValue(wanted, out int index)
                ? index
                : throw new ArgumentException($"Currency: the catalogue has no price in {wanted.Code}; it sells in {string.Join(", ", Currencies)}.", nameof(cart));
        }

        if (Currencies.Length == 1 || cart.Buyer is null)
        {
            return 0;
        }

        if (CurrencySelector.ForCountry(CurrencySelector.CountryOf(cart.Buyer)) is { } local
            && currencyIndex.TryGetValue(local, out int c) && FirstUnpriced(cart, local) is null)
        {
            return c;
        }

        return 0;
    }

    private IEnumerable<string> PricedIn(OfferId offer)
    {
        CompiledOffer compiled = offers[offerIndex[offer]];
        for (int c = 0; c < Currencies.Length; c++)
        {
            if (compiled.Prices[c] >= 0)
            {
                yield return Currencies[c].Code;
            }
        }
    }

    private CouponRejectionReason? Accept(string? code, Instant at, ReadOnlySpan<int> lineOffers, ReadOnlySpan<int> acceptedSoFar, int currency, out int index)
    {
        if (code is null || !couponIndex.TryGetValue(code, out index))
        {
            index = -1;
            return CouponRejectionReason.Unknown;
        }

        CompiledCoupon coupon = coupons[index];
        bool anyExclusive = false;
        foreach (int a in acceptedSoFar)
        {
            if (a == index)
            {
                return CouponRejectionReason.Duplicate;
            }

            anyExclusive |= coupons[a].Exclusive;
        }

        if (coupon.StartsAt is { } start && at < start)
        {
            return CouponRejectionReason.NotStarted;
        }

        if (coupon.ExpiresAt is { } end && at >= end)
        {
            return CouponRejectionReason.Expired;
        }

        bool fits = false;
        foreach (int o in lineOffers)
        {
            fits |= coupon.AppliesTo(o);
        }

        if (!fits)
        {
            return CouponRejectionReason.NotApplicable;
        }

        if (coupon.IsFixed && coupon.AmountsOff[currency] <= 0)
        {
            return CouponRejectionReason.NotInCurrency;
        }

        if (anyExclusive || (coupon.Exclusive && acceptedSoFar.Length > 0))
        {
            return CouponRejectionReason.NotCombinable;
        }

        return null;
    }

    private static ImmutableArray<ScheduledCharge> BuildSchedule(Instant now, long nowAmount, Span<(Instant At, long Amount)> later, Currency currency)
    {
        // Insertion sort: schedules are short, and this keeps pricing free of allocations beyond the quote.
        for (int i = 1; i < later.Length; i++)
        {
            var item = later[i];
            int j = i - 1;
            while (j >= 0 && later[j].At > item.At)
            {
                later[j + 1] = later[j];
                j--;
            }

            later[j + 1] = item;
        }

        int count = 1;
        for (int i = 0; i < later.Length; i++)
        {
            count += i == 0 ? (later[0].At == now ? 0 : 1) : (later[i].At == later[i - 1].At ? 0 : 1);
        }

        var charges = new ScheduledCharge[count];
        charges[0] = new ScheduledCharge(1, now, new Money(nowAmount, currency));
        int c = 0;
        foreach (var (at, amount) in later)
        {
            if (charges[c].DueAt != at)
            {
                c++;
                charges[c] = new ScheduledCharge(c + 1, at, new Money(0, currency));
            }

            charges[c] = charges[c] with { Amount = new Money(charges[c].Amount.MinorUnits + amount, currency) };
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(charges);
    }

    private static long PercentOf(long amount, long percentScaled)
    {
        if (amount is >= 0 and <= int.MaxValue && percentScaled is >= 0 and <= int.MaxValue)
        {
            // Both below 2^31, so the product fits in 62 bits: the common case, without 128-bit division.
            long quotient64 = Math.DivRem(amount * percentScaled, 100 * PercentScale, out long remainder64);
            return remainder64 * 2 >= 100 * PercentScale ? quotient64 + 1 : quotient64;
        }

        Int128 product = (Int128)amount * percentScaled;
        Int128 denominator = 100 * PercentScale;
        Int128 quotient = product / denominator;
        Int128 remainder = product % denominator;
        if (remainder * 2 >= denominator)
        {
            quotient++;
        }

        return (long)quotient;
    }

    private static string LineError(int line, string field, string problem) =>
        string.Create(CultureInfo.InvariantCulture, $"Lines[{line}].{field}: {problem}");

    private sealed class CompiledOffer
    {
        public CompiledOffer(Offer offer, ImmutableArray<Currency> currencies)
        {
            Prices = [.. currencies.Select(c => offer.PriceIn(c)?.MinorUnits ?? -1)];
            Role = offer.Role;
            IsRecurring = offer.Recurring is not null;
            Plans = [.. offer.PaymentPlans.Select(p => new CompiledPlan(p, currencies))];
        }

        /// <summary>The one-time price per currency of the price book, in minor units; -1 where the offer has none.</summary>
        public long[] Prices { get; }

        public OfferRole Role { get; }

        public bool IsRecurring { get; }

        public CompiledPlan[] Plans { get; }

        public int FindPlan(string key)
        {
            for (int p = 0; p < Plans.Length; p++)
            {
                if (string.Equals(Plans[p].Key, key, StringComparison.Ordinal))
                {
                    return p;
                }
            }

            return -1;
        }
    }

    private sealed class CompiledPlan(PaymentPlan plan, ImmutableArray<Currency> currencies)
    {
        public string Key { get; } = plan.Key;

        /// <summary>The plan total per currency of the price book, in minor units; -1 where the plan has no installment amount.</summary>
        public long[] Totals { get; } = [.. currencies.Select(c =>
            PriceLists.Find(plan.InstallmentAmount, plan.InstallmentAmounts, c) is { } amount ? checked(amount.MinorUnits * plan.Installments) : -1)];

        /// <summary>The calendar offset of each installment from the purchase, precomputed so pricing never builds a period.</summary>
        public Period[] Offsets { get; } = [.. Enumerable.Range(0, plan.Installments).Select(k => ChargeCalendar.Times(plan.Interval, k))];
    }

    private sealed class CompiledCoupon
    {
        private readonly bool[]? appliesTo;

        public CompiledCoupon(Coupon coupon, FrozenDictionary<OfferId, int> offerIndex, ImmutableArray<Currency> currencies)
        {
            Code = coupon.Code;
            PercentScaled = coupon.PercentOff is { } p ? (long)(p * PercentScale) : 0;
            IsFixed = coupon.AmountOff is not null;
            AmountsOff = coupon.AmountOff is { } off
                ? [.. currencies.Select(c => PriceLists.Find(off, coupon.AmountsOff, c)?.MinorUnits ?? 0)]
                : [];
            StartsAt = coupon.StartsAt;
            ExpiresAt = coupon.ExpiresAt;
            Exclusive = coupon.Stacking == CouponStacking.Exclusive;
            if (!coupon.AppliesTo.IsEmpty)
            {
                appliesTo = new bool[offerIndex.Count];
                foreach (OfferId id in coupon.AppliesTo)
                {
                    appliesTo[offerIndex[id]] = true;
                }
            }
        }

        public string Code { get; }

        /// <summary>The percentage times <see cref="PercentScale"/>: 20% is 200,000, exact to 4 decimals.</summary>
        public long PercentScaled { get; }

        /// <summary>Gets whether the coupon takes a fixed amount off (rather than a percentage).</summary>
        public bool IsFixed { get; }

        /// <summary>The fixed amount off per currency of the price book, in minor units; 0 where the coupon has none.</summary>
        public long[] AmountsOff { get; }

        public Instant? StartsAt { get; }

        public Instant? ExpiresAt { get; }

        public bool Exclusive { get; }

        public bool AppliesTo(int offer) => appliesTo is null || appliesTo[offer];
    }
}
