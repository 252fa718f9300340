using FluentValidation;

namespace Funnel.Payments.Stripe;

/// <summary>Options of Stripe Billing for subscriptions, set through <c>AddFunnelStripeBilling</c>.</summary>
/// <remarks>Validated when the host starts; an invalid value throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming it.</remarks>
/// <threadsafety>Set while configuring services; read-only afterwards.</threadsafety>
public sealed class StripeBillingOptions
{
    /// <summary>Gets or sets the Stripe product (<c>prod_…</c>) that subscription prices belong to.</summary>
    /// <value>Required, unless <see cref="OfferProducts"/> names a product for every recurring offer sold.</value>
    public string? Product { get; set; }

    /// <summary>Gets the Stripe product of each recurring offer, by offer id, when offers should show as separate products in Stripe.</summary>
    /// <value>Empty by default: every offer is priced under <see cref="Product"/>.</value>
    public Dictionary<string, string> OfferProducts { get; } = new(StringComparer.Ordinal);

    /// <summary>The product an offer's prices belong to.</summary>
    internal string ProductFor(OfferId offer) =>
        OfferProducts.TryGetValue(offer.Value, out string? product) ? product
        : Product ?? throw new PaymentGatewayException(
            $"StripeBillingOptions has no product for offer '{offer}': set Product or OfferProducts[\"{offer}\"].") { Code = "configuration" };
}

/// <summary>Validates <see cref="StripeBillingOptions"/>, and that the Stripe adapter it calls through is configured.</summary>
internal sealed class StripeBillingOptionsValidator : AbstractValidator<StripeBillingOptions>
{
    /// <param name="stripe">The Stripe adapter's options, or <see langword="null"/> when <c>AddFunnelStripe</c> was not called.</param>
    public StripeBillingOptionsValidator(FunnelStripeOptions? stripe)
    {
        RuleFor(o => o).Must(_ => !string.IsNullOrEmpty(stripe?.ApiKey)).WithName("ApiKey")
            .WithMessage("AddFunnelStripeBilling calls Stripe with the Stripe adapter's key: call AddFunnelStripe(o => o.ApiKey = \"sk_…\") too.");
        RuleFor(o => o.Product).NotEmpty().When(o => o.OfferProducts.Count == 0)
            .WithMessage("'Product' must name the Stripe product (prod_…) that subscription prices belong to.");
        RuleFor(o => o.Product).Must(IsProduct).When(o => o.Product is not null)
            .WithMessage("'Product' must be a Stripe product id (prod_…).");
        RuleForEach(o => o.OfferProducts).Must(p => IsProduct(p.Value)).WithName("OfferProducts")
            .WithMessage("Each of 'OfferProducts' must be a Stripe product id (prod_…).");
    }

    private static bool IsProduct(string? id) => id is { Length: > 5 } p && p.StartsWith("prod_", StringComparison.Ordinal) && !p.Any(char.IsWhiteSpace);
}
