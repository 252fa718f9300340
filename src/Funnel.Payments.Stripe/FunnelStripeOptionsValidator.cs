using FluentValidation;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Payments.Stripe;

/// <summary>Validates <see cref="FunnelStripeOptions"/>.</summary>
internal sealed class FunnelStripeOptionsValidator : AbstractValidator<FunnelStripeOptions>
{
    public FunnelStripeOptionsValidator()
    {
        RuleFor(o => o.ApiKey).NotEmpty()
            .Must(k => k!.StartsWith("sk_", StringComparison.Ordinal) || k.StartsWith("rk_", StringComparison.Ordinal))
            .When(o => !string.IsNullOrEmpty(o.ApiKey))
            .WithMessage("'ApiKey' must be a secret key (sk_…) or a restricted key (rk_…), never a publishable key.");
        RuleFor(o => o.WebhookSecrets).NotEmpty().WithMessage("'WebhookSecrets' must hold at least one webhook signing secret (whsec_…).");
        RuleForEach(o => o.WebhookSecrets).Must(IsWebhookSecret)
            .WithMessage($"'{{PropertyName}}' must be a whole webhook signing secret: whsec_ followed by at least {MinSecretLength} characters without spaces (copy it from the Dashboard or 'stripe listen').");
        RuleFor(o => o.WebhookTolerance).InclusiveBetween(Duration.FromSeconds(1), Duration.FromHours(1));
        RuleFor(o => o.PlanProduct).Must(p => p!.StartsWith("prod_", StringComparison.Ordinal)).When(o => o.PlanProduct is not null)
            .WithMessage("'PlanProduct' must be a Stripe product id (prod_…).");
        RuleFor(o => o.ApiBase).Must(u => u!.IsAbsoluteUri && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp)).When(o => o.ApiBase is not null)
            .WithMessage("'ApiBase' must be an absolute http(s) URL.");
        RuleFor(o => o.MaxNetworkRetries).InclusiveBetween(0, 10);
    }

    /// <summary>The fewest characters after <c>whsec_</c>: Stripe's secrets have 32 (Dashboard) or 64 (<c>stripe listen</c>).</summary>
    internal const int MinSecretLength = 16;

    /// <summary>Returns whether <paramref name="secret"/> is a whole signing secret rather than its public prefix or a pasted fragment.</summary>
    private static bool IsWebhookSecret(string? secret) =>
        secret is not null
        && secret.StartsWith("whsec_", StringComparison.Ordinal)
        && secret.Length - "whsec_".Length >= MinSecretLength
        && !secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
}
