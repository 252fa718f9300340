using FluentValidation;
using NodaTime;

namespace Funnel.Leads;

/// <summary>Limits the double opt-in confirmation emails <see cref="LeadCapture"/> asks for, so nobody can flood an address or spoil its link.</summary>
/// <remarks>
/// <para>
/// Each opt-in that needs confirmation issues a new token and records a <see cref="ConfirmationRequested"/>
/// (which the confirmation sequence mails), unless <see cref="MaxEmailsPerWindow"/> tokens were already issued to the
/// address within the last <see cref="EmailWindow"/>: then the opt-in is recorded, the links already sent stay valid,
/// and no email is requested.
/// </para>
/// <para>
/// A new token does not invalidate the earlier ones: up to <see cref="MaxOutstandingLinks"/> unexpired links work
/// until one of them is used, so a second opt-in, by the lead or by anyone else, never spoils the first email.
/// </para>
/// <para>Register your own with <c>services.AddSingleton(new ConfirmationPolicy { ... })</c>; it is validated when <see cref="LeadCapture"/> is created.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConfirmationPolicy
{
    /// <summary>Gets the default policy: at most 3 confirmation emails per address per hour, and 5 links valid at once.</summary>
    public static ConfirmationPolicy Default { get; } = new();

    /// <summary>Gets how many confirmation emails one address may be sent per <see cref="EmailWindow"/>.</summary>
    /// <value>Defaults to 3. From 1 to 100.</value>
    public int MaxEmailsPerWindow { get; init; } = 3;

    /// <summary>Gets the sliding window <see cref="MaxEmailsPerWindow"/> counts in.</summary>
    /// <value>Defaults to 1 hour. From 1 minute to 7 days.</value>
    public Duration EmailWindow { get; init; } = Duration.FromHours(1);

    /// <summary>Gets how many unexpired confirmation links of one address stay valid at once; the oldest is dropped first.</summary>
    /// <value>Defaults to 5. From 1 (only the latest link works) to 20.</value>
    public int MaxOutstandingLinks { get; init; } = 5;
}

/// <summary>Validates a <see cref="ConfirmationPolicy"/>.</summary>
internal sealed class ConfirmationPolicyValidator : AbstractValidator<ConfirmationPolicy>
{
    public ConfirmationPolicyValidator()
    {
        RuleFor(p => p.MaxEmailsPerWindow).InclusiveBetween(1, 100);
        RuleFor(p => p.EmailWindow).Must(w => w >= Duration.FromMinutes(1) && w <= Duration.FromDays(7))
            .WithMessage("'Email Window' must be from 1 minute to 7 days.");
        RuleFor(p => p.MaxOutstandingLinks).InclusiveBetween(1, 20);
    }
}
