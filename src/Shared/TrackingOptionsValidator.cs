using System.Text;
using FluentValidation;

namespace Funnel.Email;

/// <summary>Validates <see cref="TrackingOptions"/>: an absolute http(s) base URL and a key of at least 32 bytes.</summary>
internal sealed class TrackingOptionsValidator : AbstractValidator<TrackingOptions>
{
    public const int MinimumKeyBytes = 32;

    public TrackingOptionsValidator()
    {
        RuleFor(o => o.BaseUrl).NotEmpty()
            .Must(u => Uri.TryCreate(u, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            .WithMessage("'BaseUrl' must be an absolute http or https URL.");
        RuleFor(o => o.SigningKey).NotEmpty()
            .Must(k => k is not null && Encoding.UTF8.GetByteCount(k) >= MinimumKeyBytes)
            .WithMessage($"'SigningKey' must be at least {MinimumKeyBytes} bytes in UTF-8.");
    }
}
