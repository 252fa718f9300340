using FluentValidation;
using NodaTime;

namespace Funnel.CartRecovery;

/// <summary>When a checkout counts as abandoned, how often it is checked, and how long after it an order counts as recovered.</summary>
/// <remarks>Validated when the host starts (<c>ValidateOnStart</c>): an invalid value fails naming the field.</remarks>
/// <threadsafety>Configure it while building services; read it only afterwards.</threadsafety>
public sealed class CartRecoveryOptions
{
    /// <summary>Gets or sets how long after a checkout starts, with no order for its offer, it is declared abandoned.</summary>
    /// <value>Defaults to one hour; must be between one minute and 30 days.</value>
    public Duration AbandonAfter { get; set; } = Duration.FromHours(1);

    /// <summary>Gets or sets how long after a <see cref="Events.CheckoutAbandoned"/> an order for the same lead and offer counts as recovered.</summary>
    /// <value>Defaults to 7 days; must be positive and at most 365 days.</value>
    public Duration RecoveryWindow { get; set; } = Duration.FromDays(7);

    /// <summary>Gets or sets how often the job looks for checkouts that are due.</summary>
    /// <value>Defaults to one minute; must be between one second and one hour.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most checkouts one claim takes; a run claims batches until none is due.</summary>
    /// <value>Defaults to 100; must be between 1 and 1,000.</value>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Validates <see cref="CartRecoveryOptions"/>.</summary>
internal sealed class CartRecoveryOptionsValidator : AbstractValidator<CartRecoveryOptions>
{
    public CartRecoveryOptionsValidator()
    {
        RuleFor(o => o.AbandonAfter)
            .Must(d => d >= Duration.FromMinutes(1) && d <= Duration.FromDays(30))
            .WithMessage(o => $"AbandonAfter must be between one minute and 30 days; it is {o.AbandonAfter}.");
        RuleFor(o => o.RecoveryWindow)
            .Must(d => d > Duration.Zero && d <= Duration.FromDays(365))
            .WithMessage(o => $"RecoveryWindow must be positive and at most 365 days; it is {o.RecoveryWindow}.");
        RuleFor(o => o.Interval)
            .Must(i => i >= TimeSpan.FromSeconds(1) && i <= TimeSpan.FromHours(1))
            .WithMessage(o => $"Interval must be between one second and one hour; it is {o.Interval}.");
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 1_000);
    }
}
