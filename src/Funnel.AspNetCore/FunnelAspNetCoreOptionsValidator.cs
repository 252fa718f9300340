using FluentValidation;
using Funnel.Leads;

namespace Funnel.AspNetCore;

/// <summary>Checks <see cref="FunnelAspNetCoreOptions"/>; errors name the option, such as <c>LeadMagnets[1].Key</c>.</summary>
internal sealed class FunnelAspNetCoreOptionsValidator : AbstractValidator<FunnelAspNetCoreOptions>
{
    public FunnelAspNetCoreOptionsValidator()
    {
        RuleFor(o => o.LeadMagnets).NotEmpty().WithMessage("Add at least one lead magnet for the opt-in form to name.");
        RuleForEach(o => o.LeadMagnets).NotNull().SetValidator(new LeadMagnetValidator());
        RuleFor(o => o.LeadMagnets)
            .Must(m => m.Where(x => x is not null).Select(x => x.Key).Distinct(StringComparer.Ordinal).Count() == m.Count(x => x is not null))
            .WithMessage("Lead magnet keys must be unique.");
        RuleFor(o => o.MagnetFiles).NotNull()
            .WithMessage(o =>
                $"'MagnetFiles' must be set: lead magnet '{o.LeadMagnets.First(m => m?.AssetFile is not null).Key}' serves an asset file.")
            .When(o => o.LeadMagnets.Any(m => m?.AssetFile is not null));
        RuleFor(o => o.MagnetLinkLifetime).InclusiveBetween(TimeSpan.FromMinutes(1), TimeSpan.FromDays(365))
            .WithMessage("'MagnetLinkLifetime' must be from 1 minute to 365 days.");
        RuleFor(o => o.HoneypotField).NotEmpty();
        RuleFor(o => o.VisitorCookieName).NotEmpty();
        RuleFor(o => o.OptInRedirect).Must(FunnelEndpoints.IsLocalPath!).When(o => o.OptInRedirect is not null)
            .WithMessage("'{PropertyName}' must be a local path starting with a single '/'.");
        RuleFor(o => o.ConfirmedRedirect).Must(FunnelEndpoints.IsLocalPath!).When(o => o.ConfirmedRedirect is not null)
            .WithMessage("'{PropertyName}' must be a local path starting with a single '/'.");
        RuleFor(o => o.PublicOrigin).Must(IsOrigin!).When(o => o.PublicOrigin is not null)
            .WithMessage("'{PropertyName}' must be an absolute http or https URL with no path, query or fragment, such as 'https://shop.example'.");
        RuleFor(o => o.UnprocessableWebhooksThreshold).GreaterThanOrEqualTo(1);
        RuleFor(o => o.TrackingWindow).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        RuleFor(o => o.MaxPageViewsPerVisitor).GreaterThanOrEqualTo(1);
        RuleFor(o => o.RateLimits.FormPermitLimit).GreaterThanOrEqualTo(1).OverridePropertyName("RateLimits.FormPermitLimit");
        RuleFor(o => o.RateLimits.TrackingPermitLimit).GreaterThanOrEqualTo(1).OverridePropertyName("RateLimits.TrackingPermitLimit");
        RuleFor(o => o.RateLimits.Window).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)).OverridePropertyName("RateLimits.Window");
    }

    private static bool IsOrigin(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0;
}
