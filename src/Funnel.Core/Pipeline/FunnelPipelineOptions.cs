using FluentValidation;
using NodaTime;

namespace Funnel.Pipeline;

/// <summary>Options of the <see cref="FunnelPipeline"/>, set with <c>services.Configure&lt;FunnelPipelineOptions&gt;(…)</c>.</summary>
/// <remarks>Validated when the host starts; an invalid value stops it with an error naming the option.</remarks>
public sealed class FunnelPipelineOptions
{
    /// <summary>Gets or sets how many events one handler takes from the log in one pass.</summary>
    /// <value>Defaults to 256; 1 to 10,000.</value>
    public int BatchSize { get; set; } = 256;

    /// <summary>Gets or sets how many failed deliveries of one event to one handler park the event.</summary>
    /// <value>Defaults to 8; 1 to 100.</value>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Gets or sets the wait before the first retry of a failed delivery; each further retry waits twice as long.</summary>
    /// <value>Defaults to 1 second; positive.</value>
    public Duration RetryDelay { get; set; } = Duration.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between retries.</summary>
    /// <value>Defaults to 5 minutes; at least <see cref="RetryDelay"/>.</value>
    public Duration MaxRetryDelay { get; set; } = Duration.FromMinutes(5);

    /// <summary>Gets or sets how long a hosted pipeline waits before it looks at the log again once every handler is caught up.</summary>
    /// <value>Defaults to 200 milliseconds; 1 millisecond to 1 minute.</value>
    public Duration PollInterval { get; set; } = Duration.FromMilliseconds(200);
}

/// <summary>Validates <see cref="FunnelPipelineOptions"/>.</summary>
internal sealed class FunnelPipelineOptionsValidator : AbstractValidator<FunnelPipelineOptions>
{
    public FunnelPipelineOptionsValidator()
    {
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 10_000);
        RuleFor(o => o.MaxAttempts).InclusiveBetween(1, 100);
        RuleFor(o => o.RetryDelay).Must(d => d > Duration.Zero).WithMessage("The retry delay must be positive.");
        RuleFor(o => o.MaxRetryDelay).Must((o, d) => d >= o.RetryDelay).WithMessage("The longest retry delay must be at least the retry delay.");
        RuleFor(o => o.PollInterval).Must(d => d >= Duration.FromMilliseconds(1) && d <= Duration.FromMinutes(1))
            .WithMessage("The poll interval must be between 1 millisecond and 1 minute.");
    }
}
