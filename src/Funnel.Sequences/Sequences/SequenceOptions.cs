using System.Net.Mail;
using FluentValidation;
using Funnel.Email;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>How the sequence dispatcher sends: batch size, concurrency, lease, retries, frequency cap, retention, sender address and tracking.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class SequenceOptions
{
    /// <summary>Gets or sets the most sends one dispatch claims.</summary>
    /// <value>Defaults to 500.</value>
    public int BatchSize { get; set; } = 500;

    /// <summary>Gets or sets how long a claim lasts; a crashed dispatcher's claims are due again after it.</summary>
    /// <value>
    /// Defaults to 5 minutes; positive and at most 1 day. A batch starts sends only until <see cref="LeaseSafetyMargin"/> before the lease ends and
    /// releases the rest, so a slow mail server shortens a batch instead of outlasting its claims.
    /// </value>
    public Duration Lease { get; set; } = Duration.FromMinutes(5);

    /// <summary>Gets or sets how many sends of one batch may be in flight at once.</summary>
    /// <remarks>
    /// The claimed batch is read, decided and recorded as sets; only the sends themselves run one per message, up to
    /// this many at a time. Keep it at or above the email sender's connection count (<c>SmtpOptions.MaxConnections</c>)
    /// so its connections stay busy.
    /// </remarks>
    /// <value>Defaults to 8. Must be between 1 and 256.</value>
    public int SendConcurrency { get; set; } = 8;

    /// <summary>Gets or sets how much of a claim's lease must be left for a send of the batch to start.</summary>
    /// <remarks>
    /// A send starts only while the clock is earlier than the lease's end minus this margin, so a slow batch never
    /// sends after its claims could have passed to another dispatcher. The sends of the batch that did not start in
    /// time are released (due at once, attempts unchanged) for the next dispatch. Keep it above the longest a single
    /// send may take (the SMTP adapter's <c>Timeout</c>, 30 seconds by default) plus the time to record its outcome.
    /// </remarks>
    /// <value>Defaults to 1 minute. Must not be negative and must be at most half the <see cref="Lease"/>.</value>
    public Duration LeaseSafetyMargin { get; set; } = Duration.FromMinutes(1);

    /// <summary>Gets or sets how long outbox entries in a final state are kept before the retention job purges them.</summary>
    /// <remarks>
    /// <c>AddFunnelSequenceDispatcher()</c> registers a job that runs hourly and removes, in batches of 1,000, the
    /// entries that reached a final state (sent, failed for good, suppressed, skipped, cancelled) longer ago than this
    /// (<see cref="ISendOutbox.PurgeCompletedAsync"/>); open entries are never purged. A purged key can be scheduled
    /// again, so keep it longer than any event redelivery can be late.
    /// </remarks>
    /// <value>Defaults to 30 days. Must be at least 1 day and at most 3,660 days (ten years).</value>
    public Duration OutboxRetention { get; set; } = Duration.FromDays(30);

    /// <summary>Gets or sets how many attempts a send gets before a transient failure becomes permanent.</summary>
    /// <value>Defaults to 6.</value>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Gets or sets the delay before the first retry; each further retry doubles it.</summary>
    /// <value>Defaults to 1 minute (so 1, 2, 4, 8, 16 minutes).</value>
    public Duration RetryDelay { get; set; } = Duration.FromMinutes(1);

    /// <summary>Gets or sets the longest delay between retries.</summary>
    /// <value>Defaults to 6 hours; at least <see cref="RetryDelay"/> and at most 30 days.</value>
    public Duration MaxRetryDelay { get; set; } = Duration.FromHours(6);

    /// <summary>Gets or sets how many soft bounces in a row suppress a lead (as a hard bounce does at once).</summary>
    /// <remarks>
    /// A soft bounce is a failure of the recipient's mailbox that may pass (a full mailbox, a 4xx reply to
    /// <c>RCPT TO</c>), reported by the email sender's result or by a provider's feedback. Each bounced attempt counts;
    /// a send the server accepts for the lead, or a delivery report, starts the count again.
    /// </remarks>
    /// <value>Defaults to 3. Must be between 1 and 100.</value>
    public int SoftBounceThreshold { get; set; } = 3;

    /// <summary>Gets or sets whether a lead gets at most one marketing email per local calendar day across all sequences.</summary>
    /// <remarks>A send over the cap is deferred to the next local day (at its step's send time), never dropped.</remarks>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool OneMarketingEmailPerDay { get; set; } = true;

    /// <summary>Gets or sets the sender address of sequence emails, such as <c>Jane &lt;jane@example.com&gt;</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: the email sender's default.</value>
    public string? From { get; set; }

    /// <summary>Gets or sets the tracking links (open pixel, unsubscribe URL and <c>List-Unsubscribe</c> headers).</summary>
    /// <value>Defaults to <see langword="null"/>: no tracking, and <c>unsubscribe_url</c> renders empty.</value>
    public TrackingOptions? Tracking { get; set; }

    /// <summary>Gets or sets the seller's address that <see cref="NotifySeller"/> steps email, such as <c>jane@example.com</c>.</summary>
    /// <value>Defaults to <see langword="null"/>; required (the engine refuses to start without it) when a sequence has a <see cref="NotifySeller"/> step.</value>
    public string? SellerEmail { get; set; }

    /// <summary>Gets or sets the secret that signs the bodies of <see cref="CallWebhook"/> steps (<see cref="Funnel.Webhooks.WebhookSignature"/>).</summary>
    /// <remarks>Share it with the receiver, which checks the <c>Funnel-Signature</c> header; keep it out of source control (user secrets, a vault).</remarks>
    /// <value>Defaults to <see langword="null"/>; at least 32 characters, and required when a sequence has a <see cref="CallWebhook"/> step.</value>
    public string? WebhookSigningSecret { get; set; }
}

/// <summary>Validates <see cref="SequenceOptions"/>.</summary>
internal sealed class SequenceOptionsValidator : AbstractValidator<SequenceOptions>
{
    public SequenceOptionsValidator()
    {
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 100_000);
        RuleFor(o => o.Lease).Must(d => d > Duration.Zero && d <= Duration.FromDays(1)).WithMessage("'Lease' must be positive and at most 1 day.");
        RuleFor(o => o.SendConcurrency).InclusiveBetween(1, 256);
        RuleFor(o => o.LeaseSafetyMargin).Must((o, d) => d >= Duration.Zero && d <= o.Lease / 2)
            .WithMessage("'LeaseSafetyMargin' must not be negative and must be at most half the 'Lease'.");
        RuleFor(o => o.OutboxRetention).Must(d => d >= Duration.FromDays(1) && d <= Duration.FromDays(3660))
            .WithMessage("'OutboxRetention' must be at least 1 day and at most 3,660 days.");
        RuleFor(o => o.MaxAttempts).InclusiveBetween(1, 100);
        RuleFor(o => o.SoftBounceThreshold).InclusiveBetween(1, 100);
        RuleFor(o => o.RetryDelay).Must(d => d > Duration.Zero).WithMessage("'RetryDelay' must be positive.");
        RuleFor(o => o.MaxRetryDelay).Must((o, d) => d >= o.RetryDelay).WithMessage("'MaxRetryDelay' must not be less than 'RetryDelay'.")
            .Must(d => d <= Duration.FromDays(30)).WithMessage("'MaxRetryDelay' must be at most 30 days.");
        RuleFor(o => o.From).Must(f => MailAddress.TryCreate(f, out _)).When(o => o.From is not null)
            .WithMessage("'From' must be a mailbox such as 'Jane <jane@example.com>'.");
        RuleFor(o => o.SellerEmail).Must(e => Funnel.Leads.EmailAddress.TryParse(e, out _, out _)).When(o => o.SellerEmail is not null)
            .WithMessage("'SellerEmail' must be an email address such as 'jane@example.com'.");
        RuleFor(o => o.WebhookSigningSecret).Must(w => w!.Length >= Funnel.Webhooks.WebhookSignature.MinSecretLength).When(o => o.WebhookSigningSecret is not null)
            .WithMessage($"'WebhookSigningSecret' must be at least {Funnel.Webhooks.WebhookSignature.MinSecretLength} characters.");
        RuleFor(o => o.Tracking!).SetValidator(new TrackingOptionsValidator()).When(o => o.Tracking is not null);
    }
}
