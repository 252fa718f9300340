using System.Collections.ObjectModel;
using NodaTime;

namespace Funnel.Payments.Stripe;

/// <summary>Options of the Stripe adapter, set through <c>AddFunnelStripe</c>.</summary>
/// <remarks>Validated when the host starts; an invalid value throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming it.</remarks>
/// <threadsafety>Set while configuring services; read-only afterwards.</threadsafety>
public sealed class FunnelStripeOptions
{
    /// <summary>Gets or sets the secret API key (<c>sk_live_…</c>, <c>sk_test_…</c>) or restricted key (<c>rk_…</c>).</summary>
    /// <value>Required.</value>
    public string? ApiKey { get; set; }

    /// <summary>Gets the webhook signing secrets (<c>whsec_…</c>); several while a secret is being rotated.</summary>
    /// <value>
    /// At least one is required to verify webhooks. Each must be the whole secret, <c>whsec_</c> and at least 16 more
    /// characters without spaces: the bare prefix or a truncated paste fails validation at startup.
    /// </value>
    public Collection<string> WebhookSecrets { get; } = [];

    /// <summary>Gets or sets how far a webhook's signed timestamp may be from now before it is rejected as a replay.</summary>
    /// <value>Defaults to 5 minutes, Stripe's default. Between 1 second and 1 hour.</value>
    public Duration WebhookTolerance { get; set; } = Duration.FromMinutes(5);

    /// <summary>Gets or sets the Stripe product that installment-plan prices belong to (<c>prod_…</c>).</summary>
    /// <value>Required for installment plans; <see langword="null"/> when no plan is sold.</value>
    public string? PlanProduct { get; set; }

    /// <summary>Gets or sets the API base URL.</summary>
    /// <value>Defaults to <see langword="null"/>: Stripe's <c>https://api.stripe.com</c>. Tests point it at a local server.</value>
    public Uri? ApiBase { get; set; }

    /// <summary>Gets or sets how many times Stripe.net retries a request that failed on the network, with the same idempotency key.</summary>
    /// <value>Defaults to 2. Between 0 and 10.</value>
    public int MaxNetworkRetries { get; set; } = 2;
}
