using System.Globalization;
using FluentValidation;
using NodaTime;

namespace Funnel.Offers;

/// <summary>Validates a <see cref="Catalogue"/>; every error names its path, such as <c>Offers[1].PaymentPlans[0].Installments</c>.</summary>
/// <remarks>
/// Checks keys and names, unique product keys, offer ids and coupon codes (ignoring case), that offers reference
/// known products, that every amount is positive and in the catalogue's currency, payment plans (at least 2
/// installments, a positive interval), seat limits, deadlines, and coupons (exactly one kind of discount, a
/// percentage above 0 and at most 100, a start before the expiry, positive limits, known offers).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class CatalogueValidator : AbstractValidator<Catalogue>
{
    /// <summary>Initializes the validator.</summary>
    public CatalogueValidator()
    {
        RuleFor(c => c).Custom(Validate);
    }

    private static void Validate(Catalogue catalogue, ValidationContext<Catalogue> context)
    {
        Currency currency = catalogue.Currency;
        var products = new HashSet<string>(StringComparer.Ordinal);
        if (catalogue.Products.IsDefault)
        {
            context.AddFailure(nameof(Catalogue.Products), "Products must not be default; use [] for none.");
        }
        else
        {
            for (int i = 0; i < catalogue.Products.Length; i++)
            {
                Product? p = catalogue.Products[i];
                string path = Path("Products", i);
                if (p is null)
                {
                    context.AddFailure(path, "A product must not be null.");
                    continue;
                }

                if (!Key.IsValid(p.Key))
                {
                    context.AddFailure(path + ".Key", $"'{p.Key}' is not a valid product key: use 1 to {Key.MaxLength} lowercase letters, digits, '-', '_' or '.'.");
                }
                else if (!products.Add(p.Key))
                {
                    context.AddFailure(path + ".Key", $"Duplicate product key '{p.Key}'.");
                }

                if (string.IsNullOrWhiteSpace(p.Name))
                {
                    context.AddFailure(path + ".Name", $"Product '{p.Key}' needs a name.");
                }
            }
        }

        var offers = new HashSet<OfferId>();
        if (catalogue.Offers.IsDefaultOrEmpty)
        {
            context.AddFailure(nameof(Catalogue.Offers), "The catalogue needs at least one offer.");
        }
        else
        {
            for (int i = 0; i < catalogue.Offers.Length; i++)
            {
                ValidateOffer(catalogue.Offers[i], Path("Offers", i), currency, products, offers, context);
            }
        }

        if (catalogue.Coupons.IsDefault)
        {
            context.AddFailure(nameof(Catalogue.Coupons), "Coupons must not be default; use [] for none.");
            return;
        }

        var codes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < catalogue.Coupons.Length; i++)
        {
            ValidateCoupon(catalogue.Coupons[i], Path("Coupons", i), currency, offers, codes, context);
        }

        ValidatePriceLists(catalogue, context);
    }

    /// <summary>Prices in other currencies: offers' <see cref="Offer.Prices"/>, plans' installment amounts in the same currencies, coupons' fixed amounts.</summary>
    private static void ValidatePriceLists(Catalogue catalogue, ValidationContext<Catalogue> context)
    {
        Currency main = catalogue.Currency;
        for (int i = 0; !catalogue.Offers.IsDefault && i < catalogue.Offers.Length; i++)
        {
            if (catalogue.Offers[i] is not { } offer)
            {
                continue;
            }

            string path = Path("Offers", i);
            string owner = $"Offer '{offer.Id.Value}'";
            HashSet<Currency> priced = CheckOtherAmounts(offer.Prices, path + ".Prices", owner, "a price", main, allowZero: true, context);
            for (int p = 0; !offer.PaymentPlans.IsDefault && p < offer.PaymentPlans.Length; p++)
            {
                if (offer.PaymentPlans[p] is not { } plan)
                {
                    continue;
                }

                string planPath = Path(path + ".PaymentPlans", p) + ".InstallmentAmounts";
                string planOwner = $"Payment plan '{plan.Key}' of offer '{offer.Id.Value}'";
                HashSet<Currency> planned = CheckOtherAmounts(plan.InstallmentAmounts, planPath, planOwner, "an installment amount", main, allowZero: false, context);
                foreach (Currency missing in priced.Except(planned).OrderBy(c => c.Code, StringComparer.Ordinal))
                {
                    context.AddFailure(planPath, $"{planOwner} has no installment amount in {missing.Code}, which the offer is priced in; add one, so buyers paying in {missing.Code} can choose the plan.");
                }

                foreach (Currency extra in planned.Except(priced).OrderBy(c => c.Code, StringComparer.Ordinal))
                {
                    context.AddFailure(planPath, $"{planOwner} has an installment amount in {extra.Code}, but the offer has no price in {extra.Code} (Offer.Prices).");
                }
            }
        }

        for (int i = 0; !catalogue.Coupons.IsDefault && i < catalogue.Coupons.Length; i++)
        {
            if (catalogue.Coupons[i] is not { } coupon)
            {
                continue;
            }

            string path = Path("Coupons", i) + ".AmountsOff";
            if (!coupon.AmountsOff.IsDefaultOrEmpty && coupon.AmountOff is null)
            {
                context.AddFailure(path, $"Coupon '{coupon.Code}' has amounts off in other currencies but no AmountOff; set AmountOff in {main.Code} for a fixed-amount coupon.");
            }

            CheckOtherAmounts(coupon.AmountsOff, path, $"Coupon '{coupon.Code}'", "an amount off", main, allowZero: false, context);
        }
    }

    /// <summary>Checks amounts meant for currencies other than the catalogue's: one per currency, none in the catalogue's, each positive (or zero when allowed).</summary>
    /// <returns>The currencies listed.</returns>
    private static HashSet<Currency> CheckOtherAmounts(System.Collections.Immutable.ImmutableArray<Money> amounts, string path, string owner, string what,
        Currency main, bool allowZero, ValidationContext<Catalogue> context)
    {
        var seen = new HashSet<Currency>();
        if (amounts.IsDefault)
        {
            context.AddFailure(path, $"{path.Split('.')[^1]} must not be default; use [] for none.");
            return seen;
        }

        for (int k = 0; k < amounts.Length; k++)
        {
            Money amount = amounts[k];
            string at = Path(path, k);
            if (amount.Currency == default)
            {
                context.AddFailure(at, $"{owner} has {what} with no currency (XXX).");
            }
            else if (amount.Currency == main)
            {
                context.AddFailure(at, $"{owner} lists {what} in {main.Code}, the catalogue's currency; that amount belongs in the main property, and this list holds the other currencies.");
            }
            else if (!seen.Add(amount.Currency))
            {
                context.AddFailure(at, $"{owner} has more than one {what[(what.IndexOf(' ', StringComparison.Ordinal) + 1)..]} in {amount.Currency.Code}; list one per currency.");
            }

            if (amount.IsNegative || (!allowZero && amount.IsZero))
            {
                context.AddFailure(at, $"{owner} has {what} of {amount} in {amount.Currency.Code}; it must be {(allowZero ? "zero or more" : "positive")}.");
            }
        }

        return seen;
    }

    private static void ValidateOffer(Offer? offer, string path, Currency currency, HashSet<string> products, HashSet<OfferId> offers, ValidationContext<Catalogue> context)
    {
        if (offer is null)
        {
            context.AddFailure(path, "An offer must not be null.");
            return;
        }

        string id = offer.Id.Value;
        if (!Key.IsValid(id))
        {
            context.AddFailure(path + ".Id", $"'{id}' is not a valid offer key: use 1 to {Key.MaxLength} lowercase letters, digits, '-', '_' or '.'.");
        }
        else if (!offers.Add(offer.Id))
        {
            context.AddFailure(path + ".Id", $"Duplicate offer id '{id}'.");
        }

        if (string.IsNullOrWhiteSpace(offer.Name))
        {
            context.AddFailure(path + ".Name", $"Offer '{id}' needs a name.");
        }

        if (!Enum.IsDefined(offer.Role))
        {
            context.AddFailure(path + ".Role", $"Offer '{id}' has an unknown role {offer.Role}.");
        }

        CheckAmount(offer.Price, path + ".Price", $"Offer '{id}'", currency, allowZero: true, context);
        if (offer.Products.IsDefaultOrEmpty)
        {
            context.AddFailure(path + ".Products", $"Offer '{id}' must sell at least one product.");
        }
        else
        {
            for (int p = 0; p < offer.Products.Length; p++)
            {
                if (offer.Products[p] is not { } product || !products.Contains(product))
                {
                    context.AddFailure(Path(path + ".Products", p), $"Offer '{id}' sells product '{offer.Products[p]}', which the catalogue does not define.");
                }
            }
        }

        if (offer.PaymentPlans.IsDefault)
        {
            context.AddFailure(path + ".PaymentPlans", "PaymentPlans must not be default; use [] for none.");
        }
        else
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (int p = 0; p < offer.PaymentPlans.Length; p++)
            {
                string planPath = Path(path + ".PaymentPlans", p);
                PaymentPlan? plan = offer.PaymentPlans[p];
                if (plan is null)
                {
                    context.AddFailure(planPath, "A payment plan must not be null.");
                    continue;
                }

                if (!Key.IsValid(plan.Key))
                {
                    context.AddFailure(planPath + ".Key", $"'{plan.Key}' is not a valid payment plan key.");
                }
                else if (!keys.Add(plan.Key))
                {
                    context.AddFailure(planPath + ".Key", $"Offer '{id}' has two payment plans with key '{plan.Key}'.");
                }

                if (plan.Installments < 2)
                {
                    context.AddFailure(planPath + ".Installments", $"Payment plan '{plan.Key}' of offer '{id}' has {plan.Installments} installments; a payment plan needs at least 2 (use the offer's Price for one payment).");
                }

                CheckAmount(plan.InstallmentAmount, planPath + ".InstallmentAmount", $"Payment plan '{plan.Key}' of offer '{id}'", currency, allowZero: false, context);
                if (!ChargeCalendar.IsPositive(plan.Interval))
                {
                    context.AddFailure(planPath + ".Interval", $"Payment plan '{plan.Key}' of offer '{id}' needs a positive interval, such as Period.FromMonths(1).");
                }
            }
        }

        if (offer.Seats is { } seats)
        {
            if (seats.Capacity < 1)
            {
                context.AddFailure(path + ".Seats.Capacity", $"Offer '{id}' has a seat capacity of {seats.Capacity}; it must be at least 1.");
            }

            if (seats.HoldFor <= Duration.Zero)
            {
                context.AddFailure(path + ".Seats.HoldFor", $"Offer '{id}' must hold reserved seats for a positive duration.");
            }
        }

        if (offer.Deadline is { } deadline)
        {
            ValidateDeadline(deadline, path + ".Deadline", context);
        }

        if (offer.Recurring is { } recurring)
        {
            ValidateRecurring(offer, recurring, path, context);
        }

        if (offer.Bonuses.IsDefault)
        {
            context.AddFailure(path + ".Bonuses", "Bonuses must not be default; use [] for none.");
            return;
        }

        for (int b = 0; b < offer.Bonuses.Length; b++)
        {
            string bonusPath = Path(path + ".Bonuses", b);
            if (offer.Bonuses[b] is not { } bonus)
            {
                context.AddFailure(bonusPath, "A bonus must not be null.");
                continue;
            }

            if (bonus.Product is null || !products.Contains(bonus.Product))
            {
                context.AddFailure(bonusPath + ".Product", $"Bonus of offer '{id}' grants product '{bonus.Product}', which the catalogue does not define.");
            }

            if (bonus.Deadline is null)
            {
                context.AddFailure(bonusPath + ".Deadline", $"Bonus '{bonus.Product}' of offer '{id}' needs a deadline.");
            }
            else
            {
                ValidateDeadline(bonus.Deadline, bonusPath + ".Deadline", context);
            }
        }
    }

    private static void ValidateRecurring(Offer offer, Subscriptions.SubscriptionTerms recurring, string path, ValidationContext<Catalogue> context)
    {
        string id = offer.Id.Value;
        if (!Enum.IsDefined(recurring.Interval))
        {
            context.AddFailure(path + ".Recurring.Interval", $"Recurring offer '{id}' has an unknown billing interval {recurring.Interval}.");
        }

        if (recurring.TrialDays is < 0 or > Subscriptions.SubscriptionTerms.MaxTrialDays)
        {
            context.AddFailure(path + ".Recurring.TrialDays",
                $"Recurring offer '{id}' has a trial of {recurring.TrialDays} days; it must be between 0 (no trial) and {Subscriptions.SubscriptionTerms.MaxTrialDays}.");
        }

        if (!recurring.TrialRequiresCard && recurring.TrialDays == 0)
        {
            context.AddFailure(path + ".Recurring.TrialRequiresCard",
                $"Recurring offer '{id}' lets a trial start without a card but has no trial; set TrialDays or leave TrialRequiresCard true.");
        }

        if (!offer.PaymentPlans.IsDefaultOrEmpty)
        {
            context.AddFailure(path + ".PaymentPlans",
                $"Recurring offer '{id}' cannot also have payment plans: its Price is already charged every {recurring.Interval}.");
        }

        if (offer.Price.MinorUnits <= 0)
        {
            context.AddFailure(path + ".Price", $"Recurring offer '{id}' needs a positive price per period; a free membership is not a subscription.");
        }
    }

    private static void ValidateDeadline(Deadline deadline, string path, ValidationContext<Catalogue> context)
    {
        if (!Key.IsValid(deadline.Key))
        {
            context.AddFailure(path + ".Key", $"'{deadline.Key}' is not a valid deadline key.");
        }

        if (deadline.EndsAt.HasValue == deadline.Evergreen.HasValue)
        {
            context.AddFailure(path, $"Deadline '{deadline.Key}' must set exactly one of EndsAt (fixed) and Evergreen (per lead).");
        }

        if (deadline.Evergreen is { } length)
        {
            if (length <= Duration.Zero)
            {
                context.AddFailure(path + ".Evergreen", $"Deadline '{deadline.Key}' needs a positive evergreen length.");
            }

            if (deadline.StartsOn is null || string.IsNullOrEmpty(deadline.StartsOn.EventType))
            {
                context.AddFailure(path + ".StartsOn", $"Evergreen deadline '{deadline.Key}' needs the event that starts it (StartsOn).");
            }
        }
    }

    private static void ValidateCoupon(Coupon? coupon, string path, Currency currency, HashSet<OfferId> offers, HashSet<string> codes, ValidationContext<Catalogue> context)
    {
        if (coupon is null)
        {
            context.AddFailure(path, "A coupon must not be null.");
            return;
        }

        string code = coupon.Code;
        if (string.IsNullOrWhiteSpace(code) || code.Length > 64 || code.Any(char.IsWhiteSpace))
        {
            context.AddFailure(path + ".Code", $"'{code}' is not a valid coupon code: use 1 to 64 characters without spaces.");
        }
        else if (!codes.Add(code))
        {
            context.AddFailure(path + ".Code", $"Duplicate coupon code '{code}' (codes are matched ignoring case).");
        }

        if (coupon.PercentOff.HasValue == coupon.AmountOff.HasValue)
        {
            context.AddFailure(path, $"Coupon '{code}' must set exactly one of PercentOff and AmountOff.");
        }

        if (coupon.PercentOff is { } percent && (percent <= 0m || percent > 100m || decimal.Round(percent, 4) != percent))
        {
            context.AddFailure(path + ".PercentOff", string.Create(CultureInfo.InvariantCulture,
                $"Coupon '{code}' takes {percent}% off; it must be above 0 and at most 100, with at most 4 decimals."));
        }

        if (coupon.AmountOff is { } amount)
        {
            CheckAmount(amount, path + ".AmountOff", $"Coupon '{code}'", currency, allowZero: false, context);
        }

        if (coupon.StartsAt is { } start && coupon.ExpiresAt is { } end && start >= end)
        {
            context.AddFailure(path + ".ExpiresAt", $"Coupon '{code}' expires at {end}, not after it starts at {start}.");
        }

        if (coupon.MaxRedemptions is < 1)
        {
            context.AddFailure(path + ".MaxRedemptions", $"Coupon '{code}' allows {coupon.MaxRedemptions} redemptions; it must be at least 1 or null for no limit.");
        }

        if (coupon.MaxRedemptionsPerLead is < 1)
        {
            context.AddFailure(path + ".MaxRedemptionsPerLead", $"Coupon '{code}' allows {coupon.MaxRedemptionsPerLead} redemptions per lead; it must be at least 1 or null for no limit.");
        }

        if (!Enum.IsDefined(coupon.Stacking))
        {
            context.AddFailure(path + ".Stacking", $"Coupon '{code}' has an unknown stacking rule {coupon.Stacking}.");
        }

        if (!Enum.IsDefined(coupon.Duration))
        {
            context.AddFailure(path + ".Duration", $"Coupon '{code}' has an unknown duration {coupon.Duration}.");
        }
        else if (coupon.Duration == CouponDuration.Repeating && coupon.DurationInPeriods is not >= 1)
        {
            context.AddFailure(path + ".DurationInPeriods",
                $"Coupon '{code}' repeats for {coupon.DurationInPeriods?.ToString(CultureInfo.InvariantCulture) ?? "null"} periods; a Repeating coupon needs DurationInPeriods of at least 1.");
        }
        else if (coupon.Duration != CouponDuration.Repeating && coupon.DurationInPeriods is not null)
        {
            context.AddFailure(path + ".DurationInPeriods",
                $"Coupon '{code}' sets DurationInPeriods but its duration is {coupon.Duration}; set Duration = Repeating, or leave DurationInPeriods null.");
        }

        if (coupon.AppliesTo.IsDefault)
        {
            context.AddFailure(path + ".AppliesTo", "AppliesTo must not be default; use [] for every offer.");
            return;
        }

        for (int i = 0; i < coupon.AppliesTo.Length; i++)
        {
            if (!offers.Contains(coupon.AppliesTo[i]))
            {
                context.AddFailure(Path(path + ".AppliesTo", i), $"Coupon '{code}' applies to offer '{coupon.AppliesTo[i]}', which the catalogue does not define.");
            }
        }
    }

    private static void CheckAmount(Money amount, string path, string owner, Currency currency, bool allowZero, ValidationContext<Catalogue> context)
    {
        if (amount.Currency != currency)
        {
            context.AddFailure(path, $"{owner} is priced in {amount.Currency.Code}, but the catalogue's currency is {currency.Code}; a catalogue cannot mix currencies.");
        }
        else if (amount.IsNegative || (!allowZero && amount.IsZero))
        {
            context.AddFailure(path, $"{owner} has amount {amount}; it must be {(allowZero ? "zero or more" : "positive")}.");
        }
    }

    private static string Path(string collection, int index) => string.Create(CultureInfo.InvariantCulture, $"{collection}[{index}]");
}
