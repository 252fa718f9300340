using FluentValidation;

namespace Funnel.Subscriptions;

/// <summary>How often the renewal job runs and how many subscriptions it reads at a time.</summary>
/// <remarks>Validated when the host starts (<c>ValidateOnStart</c>): an invalid value fails naming the field. Failed renewals follow the registered <see cref="Payments.DunningPolicy"/>.</remarks>
/// <threadsafety>Configure it while building services; read it only afterwards.</threadsafety>
public sealed class SubscriptionOptions
{
    /// <summary>Gets or sets how often the job renews, converts, lapses, ends and resumes the subscriptions due.</summary>
    /// <value>Defaults to one minute; must be between one second and one hour.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most subscriptions one run of the job reads at a time; a run reads batches until none is due.</summary>
    /// <value>Defaults to 100; must be between 1 and 1,000.</value>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Validates <see cref="SubscriptionOptions"/>.</summary>
internal sealed class SubscriptionOptionsValidator : AbstractValidator<SubscriptionOptions>
{
    public SubscriptionOptionsValidator()
    {
        RuleFor(o => o.Interval)
            .Must(i => i >= TimeSpan.FromSeconds(1) && i <= TimeSpan.FromHours(1))
            .WithMessage(o => $"Interval must be between one second and one hour; it is {o.Interval}.");
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 1_000);
    }
}
