using FluentValidation;
using NodaTime;

namespace Funnel.Waitlists;

/// <summary>How long a released seat is held for the next lead in line, how often lapsed holds are passed on, and how long a line may grow.</summary>
/// <remarks>Validated when the host starts (<c>ValidateOnStart</c>): an invalid value fails naming the field.</remarks>
/// <threadsafety>Configure it while building services; read it only afterwards.</threadsafety>
public sealed class WaitlistOptions
{
    /// <summary>Gets or sets how long a released seat is held for the lead it is offered to.</summary>
    /// <value>Defaults to 24 hours; must be between one minute and 30 days.</value>
    public Duration HoldFor { get; set; } = Duration.FromHours(24);

    /// <summary>Gets or sets how often the job passes lapsed holds on to the next lead in line.</summary>
    /// <value>Defaults to one minute; must be between one second and one hour.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most leads one offer's waitlist holds; a join beyond it is refused.</summary>
    /// <value>Defaults to 10,000; must be between 1 and 100,000.</value>
    public int MaxWaiting { get; set; } = 10_000;

    /// <summary>Gets or sets the most waitlists one run of the job reads at a time; a run reads batches until none is due.</summary>
    /// <value>Defaults to 100; must be between 1 and 1,000.</value>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Validates <see cref="WaitlistOptions"/>.</summary>
internal sealed class WaitlistOptionsValidator : AbstractValidator<WaitlistOptions>
{
    public WaitlistOptionsValidator()
    {
        RuleFor(o => o.HoldFor)
            .Must(d => d >= Duration.FromMinutes(1) && d <= Duration.FromDays(30))
            .WithMessage(o => $"HoldFor must be between one minute and 30 days; it is {o.HoldFor}.");
        RuleFor(o => o.Interval)
            .Must(i => i >= TimeSpan.FromSeconds(1) && i <= TimeSpan.FromHours(1))
            .WithMessage(o => $"Interval must be between one second and one hour; it is {o.Interval}.");
        RuleFor(o => o.MaxWaiting).InclusiveBetween(1, 100_000);
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 1_000);
    }
}
