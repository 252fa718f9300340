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
    /// <value>Defaults to 1 second; positive and at most <see cref="MaxRetryDelay"/>.</value>
    public Duration RetryDelay { get; set; } = Duration.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between retries.</summary>
    /// <value>Defaults to 5 minutes; at least <see cref="RetryDelay"/> and at most 30 days.</value>
    public Duration MaxRetryDelay { get; set; } = Duration.FromMinutes(5);

    /// <summary>Gets or sets how long a hosted pipeline waits before it looks at the log again once every handler is caught up.</summary>
    /// <value>Defaults to 200 milliseconds; 1 millisecond to 1 minute.</value>
    public Duration PollInterval { get; set; } = Duration.FromMilliseconds(200);

    /// <summary>Gets or sets how many partitions (by lead) each handler's work is split into, for several app instances to share.</summary>
    /// <remarks>
    /// Each partition of each handler is leased to one instance at a time and instances take a fair share each, so with
    /// several instances on one database set it to at least the number of instances (twice that lets a share move when
    /// one instance stops). The events of one lead are always in the same partition, so they reach a handler in order.
    /// Changing it later starts the new partitions at the position of the slowest old one: events after it are
    /// delivered again (at least once).
    /// </remarks>
    /// <value>Defaults to 1 (one instance at a time delivers to each handler); 1 to 1,024.</value>
    public int Partitions { get; set; } = 1;

    /// <summary>Gets or sets how long an instance holds a partition without renewing it; after it, another instance may take the partition over.</summary>
    /// <remarks>
    /// An instance renews its leases as it works and gives them back when it stops; one that dies holds its partitions
    /// until the lease ends. A batch of <see cref="BatchSize"/> events should be handled in well under half of it:
    /// another instance may deliver the same events again once it has passed.
    /// </remarks>
    /// <value>Defaults to 30 seconds; at least 1 second and at least twice <see cref="PollInterval"/>, at most 1 day.</value>
    public Duration LeaseDuration { get; set; } = Duration.FromSeconds(30);

    /// <summary>Gets or sets the name this app instance holds leases under, shown in the stored subscriptions.</summary>
    /// <value>Defaults to <see langword="null"/>: the machine name, process id and a random suffix, unique per process.</value>
    public string? InstanceId { get; set; }
}

/// <summary>Validates <see cref="FunnelPipelineOptions"/>.</summary>
internal sealed class FunnelPipelineOptionsValidator : AbstractValidator<FunnelPipelineOptions>
{
    public FunnelPipelineOptionsValidator()
    {
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 10_000);
        RuleFor(o => o.MaxAttempts).InclusiveBetween(1, 100);
        RuleFor(o => o.RetryDelay).Must(d => d > Duration.Zero).WithMessage("The retry delay must be positive.");
        RuleFor(o => o.MaxRetryDelay).Must((o, d) => d >= o.RetryDelay).WithMessage("The longest retry delay must be at least the retry delay.")
            .Must(d => d <= Duration.FromDays(30)).WithMessage("The longest retry delay must be at most 30 days.");
        RuleFor(o => o.PollInterval).Must(d => d >= Duration.FromMilliseconds(1) && d <= Duration.FromMinutes(1))
            .WithMessage("The poll interval must be between 1 millisecond and 1 minute.");
        RuleFor(o => o.Partitions).InclusiveBetween(1, 1_024);
        RuleFor(o => o.LeaseDuration).Must((o, d) => d >= Duration.FromSeconds(1) && d >= o.PollInterval + o.PollInterval)
            .WithMessage("The lease duration must be at least 1 second and at least twice the poll interval.")
            .Must(d => d <= Duration.FromDays(1)).WithMessage("The lease duration must be at most 1 day.");
        RuleFor(o => o.InstanceId).Must(id => !string.IsNullOrWhiteSpace(id) && id.Length <= 200)
            .When(o => o.InstanceId is not null, ApplyConditionTo.CurrentValidator)
            .WithMessage("The instance id must not be blank and at most 200 characters.");
    }
}
