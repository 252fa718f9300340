using FluentValidation;
using Funnel.Offers;
using Funnel.Payments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers the payment services (called by <c>AddFunnel</c>).</summary>
internal static class PaymentsRegistration
{
    /// <summary>Adds the in-memory webhook event store, the default dunning policy and its validator and, when an <see cref="IPaymentGateway"/> and an <see cref="IWebhookSignatureVerifier"/> are registered, the payment service and webhook processor.</summary>
    public static void AddPayments(IServiceCollection services)
    {
        services.TryAddSingleton<IValidator<DunningPolicy>, DunningPolicyValidator>();
        services.TryAddSingleton(DunningPolicy.Default);
        services.TryAddSingleton<IWebhookEventStore, InMemoryWebhookEventStore>();
        services.TryAddSingleton(sp => new PaymentService(
            sp.GetRequiredService<OrderService>(),
            sp.GetRequiredService<PriceBook>(),
            sp.GetRequiredService<IPaymentGateway>(),
            sp.GetRequiredService<DunningPolicy>(),
            sp.GetRequiredService<IClock>()));
        services.TryAddSingleton(sp => new WebhookProcessor(
            sp.GetRequiredService<IWebhookSignatureVerifier>(),
            sp.GetRequiredService<IWebhookEventStore>(),
            sp.GetRequiredService<PaymentService>(),
            sp.GetRequiredService<IClock>()));
    }
}
