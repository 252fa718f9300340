using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Identifies an affiliate.</summary>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct AffiliateId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static AffiliateId New() => new(Guid.CreateVersion7());

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>Where an affiliate's enrolment stands.</summary>
public enum AffiliateStatus
{
    /// <summary>Applied; clicks on the link are not tracked until approval.</summary>
    Pending = 0,

    /// <summary>Approved: the link is tracked and sales earn commission.</summary>
    Approved = 1,

    /// <summary>Rejected; the link is not tracked.</summary>
    Rejected = 2,
}

/// <summary>An affiliate: a lead (usually a customer) who promotes the products through a tracked link.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Affiliate
{
    /// <summary>Gets the affiliate id.</summary>
    public required AffiliateId Id { get; init; }

    /// <summary>Gets the affiliate's own lead id; a purchase by this lead never pays this affiliate.</summary>
    public required LeadId Lead { get; init; }

    /// <summary>Gets the tracking code carried by the affiliate's links, such as <c>sarah</c>.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the enrolment status.</summary>
    public required AffiliateStatus Status { get; init; }

    /// <summary>Gets when the lead applied.</summary>
    public required Instant AppliedAt { get; init; }

    /// <summary>Gets when the application was approved or rejected.</summary>
    public Instant? DecidedAt { get; init; }

    /// <summary>Gets how many tracked clicks the affiliate's links had.</summary>
    public long Clicks { get; init; }

    /// <summary>Gets how many sale numbers were handed out to orders attributed to the affiliate (the volume tiers count them).</summary>
    public int SalesNumbered { get; init; }

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}

/// <summary>Which click wins when a buyer clicked several affiliate links within the cookie window.</summary>
public enum AffiliateAttributionModel
{
    /// <summary>The latest click wins; of clicks at the same instant, the one recorded last.</summary>
    LastClick = 0,

    /// <summary>The earliest click wins; of clicks at the same instant, the one recorded first.</summary>
    FirstClick = 1,
}

/// <summary>A commission rate that applies from an affiliate's n-th attributed sale onwards (volume tier).</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CommissionTier
{
    /// <summary>Gets the 1-based sale number from which the tier applies, such as 11 for "from the 11th sale"; at least 2.</summary>
    public required int FromSale { get; init; }

    /// <summary>Gets the percentage of each payment paid as commission, such as 40 for 40%; set this or <see cref="Fixed"/>.</summary>
    public decimal? Percent { get; init; }

    /// <summary>Gets the fixed commission per sale, spread over the installments of a plan; set this or <see cref="Percent"/>.</summary>
    public Money? Fixed { get; init; }
}

/// <summary>How much an affiliate earns on the sales of one offer (or of every offer without a rule of its own).</summary>
/// <remarks>
/// <para>Set exactly one of <see cref="Percent"/> and <see cref="Fixed"/>. <see cref="Tiers"/> replace the base
/// rate from a given sale number of the affiliate (counting every attributed sale of the affiliate, in order,
/// this one included); the tier is fixed when the sale is attributed, so every installment of a plan uses it.</para>
/// <para>Commission is earned per payment. For a percentage, the k-th payment of an order earns
/// <c>round(p% × paid so far) − commission already booked on the order</c>; for a fixed amount F on an order
/// total T, <c>round(F × paid so far ÷ T) − already booked</c> (paid so far is capped at T). Rounding is half away
/// from zero, to whole minor units. So the installments of a plan sum exactly to the rule applied once to the
/// plan total, and each installment is within one minor unit of its exact share.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CommissionRule
{
    /// <summary>Gets the offer the rule is for, or <see langword="null"/> for the default rule.</summary>
    public OfferId? Offer { get; init; }

    /// <summary>Gets the percentage of each payment paid as commission, such as 30 for 30%; greater than 0, at most 100.</summary>
    public decimal? Percent { get; init; }

    /// <summary>Gets the fixed commission per sale; positive.</summary>
    public Money? Fixed { get; init; }

    /// <summary>Gets the volume tiers, by ascending <see cref="CommissionTier.FromSale"/>.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<CommissionTier> Tiers { get; init; } = [];
}

/// <summary>The settings of an affiliate program.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AffiliateProgramSettings
{
    /// <summary>Gets the currency of every sale, commission and payout.</summary>
    public required Currency Currency { get; init; }

    /// <summary>Gets the commission rules: at most one per offer and at most one default (no offer).</summary>
    /// <remarks>A sale of an offer without a rule, when there is no default rule, is attributed but earns nothing.</remarks>
    public required ImmutableArray<CommissionRule> Rules { get; init; }

    /// <summary>Gets how long after a click a purchase is still attributed to it.</summary>
    /// <value>Defaults to 30 days.</value>
    public Duration CookieWindow { get; init; } = Duration.FromDays(30);

    /// <summary>Gets which click wins.</summary>
    /// <value>Defaults to <see cref="AffiliateAttributionModel.LastClick"/>.</value>
    public AffiliateAttributionModel Attribution { get; init; } = AffiliateAttributionModel.LastClick;

    /// <summary>Gets how long a commission stays pending after the payment it was earned on (the refund window).</summary>
    /// <value>Defaults to 30 days.</value>
    public Duration RefundWindow { get; init; } = Duration.FromDays(30);

    /// <summary>Gets the smallest approved balance that is paid out.</summary>
    /// <value>Defaults to <see langword="null"/>: any positive balance is paid.</value>
    public Money? MinimumPayout { get; init; }
}

/// <summary>Validates <see cref="AffiliateProgramSettings"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class AffiliateProgramSettingsValidator : AbstractValidator<AffiliateProgramSettings>
{
    /// <summary>Initializes the validator.</summary>
    public AffiliateProgramSettingsValidator()
    {
        RuleFor(s => s.Currency).Must(c => c != default).WithMessage("'Currency' must be set.");
        RuleFor(s => s.CookieWindow).Must(d => d > Duration.Zero).WithMessage("'CookieWindow' must be positive.");
        RuleFor(s => s.RefundWindow).Must(d => d >= Duration.Zero).WithMessage("'RefundWindow' must not be negative.");
        RuleFor(s => s.Attribution).IsInEnum();
        RuleFor(s => s.MinimumPayout).Must((s, m) => m is null || (!m.Value.IsNegative && m.Value.Currency == s.Currency))
            .WithMessage("'MinimumPayout' must not be negative and must be in the program's currency.");
        RuleFor(s => s.Rules).Must(r => !r.IsDefault).WithMessage("'Rules' must be set.");
        RuleFor(s => s.Rules).Must(r => r.IsDefault || r.GroupBy(x => x.Offer).All(g => g.Count() == 1))
            .WithMessage("'Rules' must have at most one rule per offer and one default rule.");
        RuleForEach(s => s.Rules).ChildRules(rule =>
        {
            rule.RuleFor(r => r).Must(r => (r.Percent is null) != (r.Fixed is null)).WithName("Rate")
                .WithMessage("Set exactly one of 'Percent' and 'Fixed'.");
            rule.RuleFor(r => r.Percent).Must(p => p is null || (p > 0 && p <= 100)).WithMessage("'Percent' must be greater than 0 and at most 100.");
            rule.RuleFor(r => r.Fixed).Must(f => f is null || f.Value.IsPositive).WithMessage("'Fixed' must be positive.");
            rule.RuleFor(r => r.Tiers).Must(t => t.IsDefault || t.Select(x => x.FromSale).SequenceEqual(t.Select(x => x.FromSale).Order().Distinct()))
                .WithMessage("'Tiers' must be in ascending, distinct 'FromSale' order.");
            rule.RuleForEach(r => r.Tiers).ChildRules(tier =>
            {
                tier.RuleFor(t => t.FromSale).GreaterThanOrEqualTo(2);
                tier.RuleFor(t => t).Must(t => (t.Percent is null) != (t.Fixed is null)).WithName("Rate")
                    .WithMessage("Set exactly one of 'Percent' and 'Fixed'.");
                tier.RuleFor(t => t.Percent).Must(p => p is null || (p > 0 && p <= 100)).WithMessage("'Percent' must be greater than 0 and at most 100.");
                tier.RuleFor(t => t.Fixed).Must(f => f is null || f.Value.IsPositive).WithMessage("'Fixed' must be positive.");
            });
        });
        RuleForEach(s => s.Rules).Must((s, r) => (r.Fixed is null || r.Fixed.Value.Currency == s.Currency)
                && (r.Tiers.IsDefault || r.Tiers.All(t => t.Fixed is null || t.Fixed.Value.Currency == s.Currency)))
            .WithMessage("Fixed commissions must be in the program's currency.");
    }
}

/// <summary>Where a commission stands in the payout ledger.</summary>
public enum CommissionStatus
{
    /// <summary>Earned, inside the refund window; a refund claws it back.</summary>
    Pending = 0,

    /// <summary>Past the refund window (or a clawback debt), counted in the next payout.</summary>
    Approved = 1,

    /// <summary>Included in a payout.</summary>
    Paid = 2,
}

/// <summary>One entry of an affiliate's payout ledger: a commission earned on a payment, or a clawback debt.</summary>
/// <remarks>A clawback first reduces the order's pending commissions (<see cref="ClawedBack"/>); what it cannot take from them (because they were approved or paid already) becomes a negative, approved entry, deducted from the next payout.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record CommissionEntry
{
    /// <summary>Gets the entry id.</summary>
    public required Guid Id { get; init; }

    /// <summary>Gets the affiliate.</summary>
    public required AffiliateId Affiliate { get; init; }

    /// <summary>Gets the order the commission is for.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the amount owed after clawbacks; negative for a clawback debt.</summary>
    public required Money Amount { get; init; }

    /// <summary>Gets the amount clawed back from this entry.</summary>
    public required Money ClawedBack { get; init; }

    /// <summary>Gets when it was earned.</summary>
    public required Instant EarnedAt { get; init; }

    /// <summary>Gets when the refund window ends and the entry can be approved.</summary>
    public required Instant ClearsAt { get; init; }

    /// <summary>Gets the status.</summary>
    public required CommissionStatus Status { get; init; }

    /// <summary>Gets the payout that included the entry.</summary>
    public Guid? Payout { get; init; }
}

/// <summary>A payment to an affiliate of their approved balance.</summary>
/// <param name="Id">The payout id.</param>
/// <param name="Affiliate">The affiliate.</param>
/// <param name="Amount">The amount paid: the sum of the approved entries it includes.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Entries">The ledger entries it includes.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
/// <remarks>The document of <see cref="IAffiliatePayoutStore"/>, keyed by <see cref="Id"/>.</remarks>
public sealed record Payout(Guid Id, AffiliateId Affiliate, Money Amount, Instant CreatedAt, ImmutableArray<Guid> Entries)
{
    /// <summary>Gets the stored version: 0 when new.</summary>
    public long Version { get; init; }
}

/// <summary>An affiliate's KPIs: clicks, conversions, sales, commission, EPC and commission cost per sale.</summary>
/// <param name="Affiliate">The affiliate.</param>
/// <param name="Clicks">Tracked clicks on the affiliate's links.</param>
/// <param name="Conversions">Orders attributed to the affiliate.</param>
/// <param name="Sales">The totals of those orders, in the program's currency: each converted at its sale's rate (<see cref="AffiliateSale.ExchangeRate"/>) when in another.</param>
/// <param name="Commission">Commission earned, net of clawbacks (pending, approved and paid).</param>
/// <param name="Paid">Commission paid out.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AffiliateStats(AffiliateId Affiliate, long Clicks, long Conversions, Money Sales, Money Commission, Money Paid)
{
    /// <summary>Gets the conversion rate: conversions ÷ clicks.</summary>
    public Ratio ConversionRate => Ratio.Of(Conversions, Clicks);

    /// <summary>Gets the earnings per click (EPC): commission ÷ clicks, rounded half away from zero.</summary>
    /// <value><see langword="null"/> when there were no clicks.</value>
    public Money? EarningsPerClick => Clicks == 0 ? null : Commission.Divide(Clicks, MidpointRounding.AwayFromZero);

    /// <summary>Gets the commission cost per sale: commission ÷ conversions, rounded half away from zero.</summary>
    /// <value><see langword="null"/> when there were no conversions.</value>
    public Money? CommissionCostPerSale => Conversions == 0 ? null : Commission.Divide(Conversions, MidpointRounding.AwayFromZero);
}
