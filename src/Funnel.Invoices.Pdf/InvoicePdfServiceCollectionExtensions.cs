using Funnel.Invoices;
using Funnel.Invoices.Pdf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Funnel;

/// <summary>Registers the PDF renderer of invoices and credit notes.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class InvoicePdfServiceCollectionExtensions
{
    /// <summary>Renders invoices and credit notes as PDF: replaces the <see cref="IInvoiceRenderer"/> with a PDFsharp renderer.</summary>
    /// <remarks>
    /// <para>
    /// Replaces any registered <see cref="IInvoiceRenderer"/>, before or after <c>AddFunnelInvoices</c>; the HTML receipt
    /// stays available through <see cref="HtmlInvoiceRenderer.Render"/>. The PDF is A4, with the text in DejaVu Sans
    /// embedded in this package (its licence ships in the package's <c>fonts/</c> folder), so it renders the same on
    /// servers without fonts.
    /// </para>
    /// <para>
    /// PDFsharp keeps its font resolver in a process-wide setting: this package installs its own as PDFsharp's
    /// <c>GlobalFontSettings.FontResolver</c> on the first render, or as the <c>FallbackFontResolver</c> when the app
    /// set a resolver of its own first. Calling this method again registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelInvoicePdf(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.RemoveAll<IInvoiceRenderer>();
        services.AddSingleton<IInvoiceRenderer, PdfInvoiceRenderer>();
        return services;
    }
}
