using System.Collections.Immutable;
using FluentValidation;
using NodaTime;

namespace Funnel.Payments;

/// <summary>What happens when an installment cannot be collected: when to retry it, and when to pause access.</summary>
/// <remarks>
/// After the n-th failed attempt, the next retry is due <see cref="RetryAfter"/>[n − 1] after that failure; once every
/// retry has failed, no more are made. Access is paused (through <see cref="Offers.IEntitlementGrantor.RevokeAsync"/>)
/// when an installment has failed <see cref="FailuresBeforePause"/> times, and restored (through
/// <see cref="Offers.IEntitlementGrantor.GrantAsync"/>) when it is paid.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record DunningPolicy
{
    /// <summary>Gets the default policy: retries 3, 5 and 7 days after each failure, access paused after the first failure.</summary>
    public static DunningPolicy Default { get; } = new();

    /// <summary>Gets the waits before each retry, measured from the failure before it.</summary>
    /// <value>Defaults to 3, 5 and 7 days. Each must be positive; at most 10.</value>
    public ImmutableArray<Duration> RetryAfter { get; init; } = [Duration.FromDays(3), Duration.FromDays(5), Duration.FromDays(7)];

    /// <summary>Gets after how many failed attempts of one installment access is paused.</summary>
    /// <value>Defaults to 1. Between 1 and the number of attempts (<see cref="RetryAfter"/> length + 1).</value>
    public int FailuresBeforePause { get; init; } = 1;

    /// <summary>Gets what a dispute (chargeback) opened on a payment of an order does to the order's access.</summary>
    /// <remarks>
    /// Applied in the same order update that records the dispute (<see cref="PaymentDisputed"/>); the grants and
    /// revocations go through the <see cref="Offers.IEntitlementGrantor"/>, retried by the <c>entitlements</c> handler
    /// when it fails. See <see cref="DisputeAccess"/> for what each choice does when the dispute is won or lost.
    /// </remarks>
    /// <value>Defaults to <see cref="DisputeAccess.Pause"/>. Must be a defined value.</value>
    public DisputeAccess OnDispute { get; init; } = DisputeAccess.Pause;

    /// <summary>Returns when the next retry of an installment is due.</summary>
    /// <param name="installment">The failed installment.</param>
    /// <returns>The instant, or <see langword="null"/> when it is not failed or every retry was used.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="installment"/> is <see langword="null"/>.</exception>
    public Instant? NextRetryAt(Offers.Installment installment)
    {
        ArgumentNullException.ThrowIfNull(installment);
        if (installment.Status != Offers.InstallmentStatus.Failed || installment.LastFailedAt is not { } failedAt
            || installment.FailedAttempts < 1 || installment.FailedAttempts > RetryAfter.Length)
        {
            return null;
        }

        return failedAt + RetryAfter[installment.FailedAttempts - 1];
    }
}

/// <summary>What a dispute (chargeback) does to the access an order granted.</summary>
public enum DisputeAccess
{
    /// <summary>Access is paused while the dispute is open, restored when it is won, and stays paused when it is lost.</summary>
    Pause = 0,

    /// <summary>Access is revoked when the dispute opens, for good: winning the dispute does not grant it again.</summary>
    Revoke = 1,

    /// <summary>Access is left as it is; the dispute is recorded and reported only.</summary>
    Keep = 2,
}

/// <summary>Validates a <see cref="DunningPolicy"/>.</summary>
internal sealed class DunningPolicyValidator : AbstractValidator<DunningPolicy>
{
    public DunningPolicyValidator()
    {
        RuleFor(p => p.RetryAfter).Must(r => !r.IsDefault).WithMessage("'RetryAfter' must not be default; use an empty array for no retries.");
        RuleFor(p => p.RetryAfter.Length).LessThanOrEqualTo(10).OverridePropertyName(nameof(DunningPolicy.RetryAfter)).When(p => !p.RetryAfter.IsDefault);
        RuleForEach(p => p.RetryAfter).Must(d => d > Duration.Zero).WithMessage("'{PropertyName}' must be positive.").When(p => !p.RetryAfter.IsDefault);
        RuleFor(p => p.FailuresBeforePause).GreaterThanOrEqualTo(1);
        RuleFor(p => p.OnDispute).IsInEnum();
        RuleFor(p => p.FailuresBeforePause).LessThanOrEqualTo(p => p.RetryAfter.Length + 1).When(p => !p.RetryAfter.IsDefault)
            .WithMessage("'FailuresBeforePause' must be at most the number of attempts (RetryAfter length + 1).");
    }
}
