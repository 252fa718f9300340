using FluentValidation;
using Funnel.Tax;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers EU and UK VAT for checkouts.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class TaxServiceCollectionExtensions
{
    /// <summary>Adds VAT to checkouts: the shipped <see cref="VatRateTable"/> and a <see cref="VatCalculator"/> as the <see cref="ITaxCalculator"/>.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered, <see cref="VatRateTable.Default"/> and the <see cref="ITaxCalculator"/>, which
    /// uses an <see cref="IVatNumberVerifier"/> when one is registered; <c>AddFunnelCommerce</c>'s
    /// <c>OrderService</c> then taxes every checkout and upsell. Register your own <see cref="VatRateTable"/> (a newer
    /// table, see <see cref="VatRateTable.Parse"/>) or <see cref="ITaxCalculator"/> to replace them.
    /// </para>
    /// <para>
    /// <see cref="TaxOptions"/> are validated when the host starts (<c>ValidateOnStart</c>): a missing or unknown
    /// <see cref="TaxOptions.SellerCountry"/> fails with an <see cref="OptionsValidationException"/> naming it. Calling
    /// this method again only adds another <paramref name="configure"/>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the seller's country and whether prices include tax.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelTax(this IServiceCollection services, Action<TaxOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddFunnelCommerce();
        services.AddOptions<TaxOptions>().Configure(configure).ValidateOnStart();
        services.TryAddSingleton(VatRateTable.Default);
        services.TryAddSingleton<IValidator<TaxOptions>>(sp => new TaxOptionsValidator(sp.GetRequiredService<VatRateTable>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaxOptions>, Funnel.DependencyInjection.FluentValidateOptions<TaxOptions>>());
        services.TryAddSingleton<ITaxCalculator>(sp => new VatCalculator(
            sp.GetRequiredService<VatRateTable>(),
            sp.GetRequiredService<IOptions<TaxOptions>>().Value,
            sp.GetService<IVatNumberVerifier>()));
        return services;
    }
}
