using FluentValidation;
using Funnel;
using Funnel.Invoices;
using Funnel.Leads;
using Funnel.Offers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers invoices and credit notes for paid and refunded orders.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class InvoicesServiceCollectionExtensions
{
    /// <summary>Issues an invoice for every paid order and a credit note for every refund, numbered without gaps.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: an in-memory <see cref="IInvoiceStore"/> (the SQLite and PostgreSQL storage
    /// packages replace it with a durable one), the <see cref="InvoiceService"/>, the <see cref="HtmlInvoiceRenderer"/> as
    /// <see cref="IInvoiceRenderer"/>, and the <c>invoices</c> pipeline handler, which issues the invoice on
    /// <c>payment_succeeded</c> and a credit note on <c>refund_issued</c>: the host writes no code to issue them.
    /// Dates are printed in the <see cref="FunnelOptions.TimeZoneId"/> zone.
    /// </para>
    /// <para>
    /// <see cref="InvoiceOptions"/> are validated when the host starts (<c>ValidateOnStart</c>): a missing seller name,
    /// address or country, an invalid VAT number or a bad series fails with an <see cref="OptionsValidationException"/>
    /// naming the field. Calls <c>AddFunnelCommerce()</c>; calling this method again only adds another
    /// <paramref name="configure"/>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the seller and the series.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelInvoices(this IServiceCollection services, Action<InvoiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddFunnelCommerce();
        services.AddOptions<InvoiceOptions>().Configure(configure).ValidateOnStart();
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.TryAddSingleton<IValidator<InvoiceOptions>, InvoiceOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InvoiceOptions>, Funnel.DependencyInjection.FluentValidateOptions<InvoiceOptions>>());
        services.TryAddSingleton<IInvoiceStore, InMemoryInvoiceStore>();
        services.TryAddSingleton<IInvoiceRenderer, HtmlInvoiceRenderer>();
        services.TryAddSingleton(sp => new InvoiceService(
            sp.GetRequiredService<IInvoiceStore>(),
            sp.GetRequiredService<IOrderStore>(),
            sp.GetRequiredService<ILeadStore>(),
            sp.GetRequiredService<IOptions<InvoiceOptions>>().Value,
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IDateTimeZoneProvider>()[sp.GetRequiredService<IOptions<FunnelOptions>>().Value.TimeZoneId],
            sp.GetRequiredService<Funnel.Pipeline.IFunnelEventLog>(),
            sp.GetService<Catalogue>()));
        services.AddFunnelHandler<InvoicesHandler>(InvoicesHandler.Name);
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelInvoices"/> ran.</summary>
    private sealed class Marker;
}
