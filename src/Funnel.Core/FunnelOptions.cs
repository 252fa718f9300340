using FluentValidation;
using NodaTime;

namespace Funnel;

/// <summary>Options of the Funnel core services, set with <c>services.AddFunnel(options =&gt; …)</c>.</summary>
/// <remarks>The options are validated at start-up (<see cref="FunnelOptionsValidator"/>); an invalid value stops the host with an error that names the option.</remarks>
public sealed class FunnelOptions
{
    /// <summary>Gets or sets the ISO 4217 code of the currency reports are computed in.</summary>
    /// <value>Defaults to <c>USD</c>.</value>
    public string DefaultCurrency { get; set; } = "USD";

    /// <summary>Gets or sets the IANA time zone of the business, such as <c>Europe/Berlin</c>, used where a lead has none.</summary>
    /// <value>Defaults to <c>UTC</c>.</value>
    public string TimeZoneId { get; set; } = "UTC";

    /// <summary>Gets or sets how long after an entry page view another event still counts as engagement rather than a bounce.</summary>
    /// <value>Defaults to 30 minutes; must be positive and at most one day.</value>
    public Duration BounceWindow { get; set; } = Duration.FromMinutes(30);

    /// <summary>Gets or sets the expected customer lifespan, in report periods, for the default CLTV model.</summary>
    /// <value>Defaults to 1; must be positive.</value>
    public decimal CustomerLifespanPeriods { get; set; } = 1m;
}

/// <summary>Validates <see cref="FunnelOptions"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class FunnelOptionsValidator : AbstractValidator<FunnelOptions>
{
    /// <summary>Initializes a validator that checks time zones against the TZDB provider.</summary>
    public FunnelOptionsValidator()
        : this(DateTimeZoneProviders.Tzdb)
    {
    }

    /// <summary>Initializes a validator that checks time zones against the given provider.</summary>
    /// <param name="timeZones">The time zone provider.</param>
    /// <exception cref="ArgumentNullException"><paramref name="timeZones"/> is <see langword="null"/>.</exception>
    public FunnelOptionsValidator(IDateTimeZoneProvider timeZones)
    {
        ArgumentNullException.ThrowIfNull(timeZones);
        RuleFor(o => o.DefaultCurrency).Must(Currency.IsKnown)
            .WithMessage(o => $"'{o.DefaultCurrency}' is not an ISO 4217 currency code (for example USD, EUR, JPY).");
        RuleFor(o => o.TimeZoneId).Must(id => id is not null && timeZones.GetZoneOrNull(id) is not null)
            .WithMessage(o => $"'{o.TimeZoneId}' is not a known IANA time zone id (for example Europe/Berlin).");
        RuleFor(o => o.BounceWindow).Must(d => d > Duration.Zero && d <= Duration.FromDays(1))
            .WithMessage(o => $"{o.BounceWindow} is not a valid bounce window: it must be positive and at most one day.");
        RuleFor(o => o.CustomerLifespanPeriods).GreaterThan(0m)
            .WithMessage(o => $"{o.CustomerLifespanPeriods} is not a valid customer lifespan: it must be positive.");
    }
}
