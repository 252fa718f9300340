using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Payments;
using NodaTime;

namespace Funnel.Offers;

/// <content>The payment state machine that <see cref="PaymentService"/> and the webhook processor drive.</content>
public sealed partial class OrderService
{
    /// <summary>Finds an order.</summary>
    internal Task<Order?> FindOrderAsync(OrderId id, CancellationToken cancellationToken) => orders.FindAsync(id, cancellationToken);

    /// <summary>Stores the provider references (customer, saved payment method, plan) once the first payment went through.</summary>
    internal async Task<Order> SetPaymentReferencesAsync(OrderId id, string? customer, string? paymentMethod, string? planId, CancellationToken cancellationToken)
    {
        (_, Order after, _) = await TryUpdateAsync(id, o =>
            o.Customer == (customer ?? o.Customer) && o.PaymentMethod == (paymentMethod ?? o.PaymentMethod) && o.PlanId == (planId ?? o.PlanId)
                ? null
                : o with { Customer = customer ?? o.Customer, PaymentMethod = paymentMethod ?? o.PaymentMethod, PlanId = planId ?? o.PlanId },
            cancellationToken).ConfigureAwait(false);
        return after;
    }

    /// <summary>Counts a first-payment attempt that did not go through, so the next attempt gets its own idempotency key.</summary>
    internal async Task<Order> RecordFailedPaymentAttemptAsync(OrderId id, int attempt, CancellationToken cancellationToken)
    {
        (_, Order after, _) = await TryUpdateAsync(id, o =>
            o.Status != OrderStatus.AwaitingPayment || o.FailedPaymentAttempts >= attempt ? null : o with { FailedPaymentAttempts = attempt },
            cancellationToken).ConfigureAwait(false);
        return after;
    }

    /// <summary>Records a collected installment once per provider payment id; the first grants access, a payment that settles the last failed installment restores paused access.</summary>
    /// <returns>The result; no events when the payment was already recorded.</returns>
    internal async Task<OrderResult> RecordInstallmentPaidAsync(OrderId id, int? number, string paymentId, Money amount, CancellationToken cancellationToken)
    {
        Instant now = clock.GetCurrentInstant();
        int settled = 0;
        bool restored = false;
        (_, Order after, bool changed) = await TryUpdateAsync(id, current =>
        {
            CheckAmount(amount, current);
            if (current.Installments.Any(i => i.PaymentId == paymentId && i.Status == InstallmentStatus.Paid))
            {
                return null;
            }

            if (current.Status == OrderStatus.Refunded)
            {
                throw new InvalidOperationException($"Order {current.Id} was refunded in full; payment {paymentId} cannot be applied to it.");
            }

            int index = FindInstallment(current, number, paymentId);
            if (index < 0)
            {
                throw new InvalidOperationException($"Order {current.Id} has no unpaid installment for payment {paymentId}.");
            }

            Installment installment = current.Installments[index];
            if (installment.Status == InstallmentStatus.Paid)
            {
                throw new InvalidOperationException($"Installment {installment.Number} of order {current.Id} is already paid by {installment.PaymentId ?? "a manual payment"}; payment {paymentId} would pay it twice.");
            }

            if (installment.Amount != amount)
            {
                throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Installment {installment.Number} of order {current.Id} is {installment.Amount}, not {amount}.");
            }

            settled = installment.Number;
            Order next = WithPayment(
                current with { Installments = current.Installments.SetItem(index, installment with { Status = InstallmentStatus.Paid, PaymentId = paymentId }) },
                current.Paid + amount);
            restored = next.AccessPaused && !HoldsAccess(next);
            return restored ? Restore(next) : next;
        }, cancellationToken).ConfigureAwait(false);

        if (!changed)
        {
            return new OrderResult { Order = after };
        }

        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        events.Add(new PaymentSucceeded { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Amount = amount });
        if (after.Installments.Length > 1)
        {
            events.Add(new InstallmentPaid { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Installment = settled, Amount = amount, PaymentId = paymentId });
        }

        if (restored)
        {
            events.Add(new AccessRestored { LeadId = after.Lead, OccurredAt = now, Order = after.Id });
        }

        // Derived from the provider's payment id: the same payment recorded again (by its webhook) appends nothing twice.
        var recording = new Recording(CauseOf("payment", paymentId));
        await RecordAsync(recording, events.ToImmutable()).ConfigureAwait(false);
        return await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a failed attempt to collect an installment; reaching the policy's threshold pauses access.</summary>
    internal async Task<OrderResult> RecordInstallmentFailedAsync(OrderId id, int? number, string? paymentId, string declineCode, Instant failedAt,
        DunningPolicy policy, EventId? cause, CancellationToken cancellationToken)
    {
        Instant now = clock.GetCurrentInstant();
        Installment? failed = null;
        bool paused = false;
        (_, Order after, bool changed) = await TryUpdateAsync(id, current =>
        {
            int index = FindInstallment(current, number, paymentId);
            if (index < 0)
            {
                // Every installment is paid: a failure reported after its retry succeeded changes nothing.
                return null;
            }

            Installment installment = current.Installments[index];
            bool later = installment.LastFailedAt is not { } last || failedAt >= last;
            failed = installment with
            {
                // Failures count even when reported after the success, so that delivery order does not change the state.
                Status = installment.Status == InstallmentStatus.Paid ? InstallmentStatus.Paid : InstallmentStatus.Failed,
                PaymentId = installment.PaymentId ?? paymentId,
                FailedAttempts = installment.FailedAttempts + 1,
                LastFailedAt = later ? failedAt : installment.LastFailedAt,
                DeclineCode = later ? declineCode : installment.DeclineCode,
            };
            Order next = current with { Installments = current.Installments.SetItem(index, failed) };
            paused = failed.Status == InstallmentStatus.Failed && !next.AccessPaused && next.Status is OrderStatus.Paid or OrderStatus.PartiallyRefunded
                && failed.FailedAttempts >= policy.FailuresBeforePause;
            return paused ? Pause(next) : next;
        }, cancellationToken).ConfigureAwait(false);

        if (!changed || failed is null)
        {
            return new OrderResult { Order = after };
        }

        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        if (failed.Status == InstallmentStatus.Failed)
        {
            events.Add(new PaymentFailed { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Amount = failed.Amount, Reason = declineCode });
            if (after.Installments.Length > 1)
            {
                events.Add(new InstallmentFailed
                {
                    LeadId = after.Lead, OccurredAt = now, Order = after.Id, Installment = failed.Number, Amount = failed.Amount, Reason = declineCode, Attempt = failed.FailedAttempts,
                });
            }
        }

        if (paused)
        {
            events.Add(new AccessPaused { LeadId = after.Lead, OccurredAt = now, Order = after.Id, Installment = failed.Number });
        }

        var recording = new Recording(cause);
        await RecordAsync(recording, events.ToImmutable()).ConfigureAwait(false);
        return await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a refund the provider issued, once per refund id.</summary>
    /// <returns>The result, or <see langword="null"/> when the refunded payment is not recorded yet (the caller parks the refund).</returns>
    internal async Task<OrderResult?> RecordProviderRefundAsync(OrderId id, string refundId, string paymentId, Money amount,
        ImmutableArray<OfferId> revokeOffers, CancellationToken cancellationToken)
    {
        Instant now = clock.GetCurrentInstant();
        bool unknownPayment = false;
        (Order before, Order after, bool changed) = await TryUpdateAsync(id, current =>
        {
            CheckAmount(amount, current);
            if (current.AppliedAdjustments.Contains(refundId))
            {
                return null;
            }

            int index = current.Installments.IndexOf(current.Installments.FirstOrDefault(i => i.PaymentId == paymentId && i.Status == InstallmentStatus.Paid)!);
            if (index < 0)
            {
                unknownPayment = true;
                return null;
            }

            Installment installment = current.Installments[index];
            Money refunded = (installment.Refunded ?? Money.Zero(amount.Currency)) + amount;
            if (refunded > installment.Amount)
            {
                throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Payment {paymentId} of order {current.Id} collected {installment.Amount}; {refunded} refunded would exceed it.");
            }

            return WithRefund(current, amount, revokeOffers.IsDefault ? [] : revokeOffers) with
            {
                Installments = current.Installments.SetItem(index, installment with { Refunded = refunded }),
                AppliedAdjustments = current.AppliedAdjustments.Add(refundId),
            };
        }, cancellationToken).ConfigureAwait(false);

        if (unknownPayment)
        {
            return null;
        }

        if (!changed)
        {
            return new OrderResult { Order = after };
        }

        return await FinishRefundAsync(before, after, amount, now, new Recording(CauseOf("refund", refundId)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a dispute (chargeback) opened on a payment, once per dispute id, and applies <paramref name="access"/> to the order's access.</summary>
    /// <returns>The result, or <see langword="null"/> when the disputed payment is not recorded yet (the caller parks the dispute).</returns>
    internal async Task<OrderResult?> RecordDisputeAsync(OrderId id, string disputeId, string paymentId, Money amount, string? reason, Instant openedAt,
        DisputeAccess access, CancellationToken cancellationToken)
    {
        Instant now = clock.GetCurrentInstant();
        bool unknownPayment = false;
        (_, Order after, bool changed) = await TryUpdateAsync(id, current =>
        {
            unknownPayment = false;
            CheckAmount(amount, current);
            if (current.AppliedAdjustments.Contains(disputeId) || current.Disputes.Any(d => d.Id == disputeId))
            {
                return null;
            }

            if (!IsPaidPayment(current, paymentId))
            {
                unknownPayment = true;
                return null;
            }

            return OpenDispute(current, new OrderDispute { Id = disputeId, PaymentId = paymentId, Amount = amount, Reason = reason, OpenedAt = openedAt }, access);
        }, cancellationToken).ConfigureAwait(false);

        if (unknownPayment)
        {
            return null;
        }

        if (!changed)
        {
            return new OrderResult { Order = after };
        }

        var recording = new Recording(CauseOf("dispute", disputeId));
        await RecordAsync(recording, [Disputed(after, disputeId, now)]).ConfigureAwait(false);
        return await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that a dispute was closed, once per dispute id: a won dispute restores the access it paused. A close
    /// delivered before its opening records the opening too (under <paramref name="access"/>), so that the order ends
    /// the same whichever of the two arrives first; the late opening then changes nothing.
    /// </summary>
    /// <returns>The result, or <see langword="null"/> when the disputed payment is not recorded yet (the caller parks the notification).</returns>
    internal async Task<OrderResult?> RecordDisputeClosedAsync(OrderId id, string disputeId, string paymentId, Money amount, string? reason, bool won,
        Instant closedAt, DisputeAccess access, CancellationToken cancellationToken)
    {
        Instant now = clock.GetCurrentInstant();
        bool unknownPayment = false;
        bool opened = false;
        OrderDispute? closed = null;
        (_, Order after, bool changed) = await TryUpdateAsync(id, current =>
        {
            (unknownPayment, opened, closed) = (false, false, null);
            CheckAmount(amount, current);
            Order next = current;
            int index = IndexOfDispute(current, disputeId);
            if (index < 0)
            {
                var dispute = new OrderDispute { Id = disputeId, PaymentId = paymentId, Amount = amount, Reason = reason, OpenedAt = closedAt };
                if (current.AppliedAdjustments.Contains(disputeId))
                {
                    // Opened by a release that did not keep disputes on the order: it changed no access then.
                    next = current with { Disputes = current.Disputes.Add(dispute with { Access = DisputeAccess.Keep }) };
                }
                else if (!IsPaidPayment(current, paymentId))
                {
                    unknownPayment = true;
                    return null;
                }
                else
                {
                    next = OpenDispute(current, dispute, access);
                    opened = true;
                }

                index = next.Disputes.Length - 1;
            }

            OrderDispute open = next.Disputes[index];
            if (open.Status != DisputeStatus.Open)
            {
                return null;
            }

            closed = open with { Status = won ? DisputeStatus.Won : DisputeStatus.Lost, ClosedAt = closedAt };
            next = next with { Disputes = next.Disputes.SetItem(index, closed) };
            return won && closed.Access == DisputeAccess.Pause && next.AccessPaused && !HoldsAccess(next) ? Restore(next) : next;
        }, cancellationToken).ConfigureAwait(false);

        if (unknownPayment)
        {
            return null;
        }

        if (!changed || closed is null)
        {
            return new OrderResult { Order = after };
        }

        ImmutableArray<FunnelEvent> openingEvents = [];
        if (opened)
        {
            // The same ids as the opening's own notification would record, so that one arriving later records nothing twice.
            var opening = new Recording(CauseOf("dispute", disputeId));
            await RecordAsync(opening, [Disputed(after, disputeId, now)]).ConfigureAwait(false);
            openingEvents = opening.Events.ToImmutable();
        }

        var recording = new Recording(CauseOf("dispute_closed", disputeId));
        await RecordAsync(recording,
            [new DisputeClosed { LeadId = after.Lead, OccurredAt = now, Order = after.Id, DisputeId = disputeId, PaymentId = closed.PaymentId, Amount = closed.Amount, Won = won }])
            .ConfigureAwait(false);
        OrderResult result = await ApplyPendingEntitlementsAsync(after, recording, cancellationToken).ConfigureAwait(false);
        return result with { Events = openingEvents.AddRange(result.Events) };
    }

    private static PaymentDisputed Disputed(Order order, string disputeId, Instant now)
    {
        OrderDispute dispute = order.Disputes[IndexOfDispute(order, disputeId)];
        return new PaymentDisputed
        {
            LeadId = order.Lead, OccurredAt = now, Order = order.Id, Amount = dispute.Amount, PaymentId = dispute.PaymentId, Reason = dispute.Reason ?? "unknown",
        };
    }

    private static int IndexOfDispute(Order order, string disputeId)
    {
        for (int i = 0; i < order.Disputes.Length; i++)
        {
            if (order.Disputes[i].Id == disputeId)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsPaidPayment(Order order, string paymentId) =>
        order.Installments.Any(i => i.PaymentId == paymentId && i.Status == InstallmentStatus.Paid);

    /// <summary>Adds an opened dispute and applies the policy: the access it pauses or revokes is stored as pending, in the same update.</summary>
    private static Order OpenDispute(Order current, OrderDispute dispute, DisputeAccess access)
    {
        bool granted = current.Status is OrderStatus.Paid or OrderStatus.PartiallyRefunded;
        // Record what the dispute did, not only the policy: a dispute that found nothing to pause must not hold a later restore.
        DisputeAccess applied = granted ? access : DisputeAccess.Keep;
        Order next = current with
        {
            AppliedAdjustments = current.AppliedAdjustments.Add(dispute.Id),
            Disputes = current.Disputes.Add(dispute with { Access = applied }),
        };
        return applied switch
        {
            DisputeAccess.Pause => next.AccessPaused ? next : Pause(next),
            DisputeAccess.Revoke => RevokeAll(next),
            _ => next,
        };
    }

    /// <summary>
    /// Whether something still holds the order's access paused: an installment not collected (dunning), or a dispute
    /// that paused it and was not won.
    /// </summary>
    private static bool HoldsAccess(Order order) =>
        order.Installments.Any(i => i.Status == InstallmentStatus.Failed)
        || order.Disputes.Any(d => d.Access == DisputeAccess.Pause && d.Status != DisputeStatus.Won);

    /// <summary>Takes every entitlement of the order away for good, paused ones included (those were revoked when paused).</summary>
    private static Order RevokeAll(Order order) => order with
    {
        Entitlements = [],
        PausedEntitlements = [],
        PendingGrants = [.. order.PendingGrants.Except(order.Entitlements).Except(order.PausedEntitlements)],
        PendingRevocations = order.PendingRevocations.AddRange(order.Entitlements.Except(order.PendingGrants)),
    };

    private Order WithPayment(Order current, Money paid)
    {
        if (current.Status != OrderStatus.AwaitingPayment)
        {
            return current with { Paid = paid };
        }

        ImmutableArray<Entitlement> granted = EntitlementsOf(current);
        return current with
        {
            Paid = paid,
            Status = OrderStatus.Paid,
            Entitlements = granted,
            PendingGrants = current.PendingGrants.AddRange(granted),
        };
    }

    private static Order Pause(Order order) => order with
    {
        AccessPaused = true,
        PausedEntitlements = order.Entitlements,
        Entitlements = [],
        PendingGrants = [.. order.PendingGrants.Except(order.Entitlements)],
        PendingRevocations = order.PendingRevocations.AddRange(order.Entitlements.Except(order.PendingGrants)),
    };

    private static Order Restore(Order order) => order with
    {
        AccessPaused = false,
        Entitlements = order.PausedEntitlements,
        PausedEntitlements = [],
        PendingRevocations = [.. order.PendingRevocations.Except(order.PausedEntitlements)],
        PendingGrants = order.PendingGrants.AddRange(order.PausedEntitlements.Except(order.PendingRevocations)),
    };

    private static int FirstUnpaid(ImmutableArray<Installment> installments, Money amount)
    {
        for (int i = 0; i < installments.Length; i++)
        {
            if (installments[i].Status != InstallmentStatus.Paid && installments[i].Amount == amount)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Finds the installment a provider payment is for: by number when the provider tells it, else the one already
    /// linked to the payment id, else the earliest unpaid one not linked to another payment.
    /// </summary>
    private static int FindInstallment(Order order, int? number, string? paymentId)
    {
        if (number is { } n)
        {
            if (n < 1 || n > order.Installments.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(number), n, $"Order {order.Id} has {order.Installments.Length} installments.");
            }

            return n - 1;
        }

        for (int i = 0; i < order.Installments.Length; i++)
        {
            if (paymentId is not null && order.Installments[i].PaymentId == paymentId)
            {
                return i;
            }
        }

        for (int i = 0; i < order.Installments.Length; i++)
        {
            if (order.Installments[i].Status != InstallmentStatus.Paid && order.Installments[i].PaymentId is null)
            {
                return i;
            }
        }

        return -1;
    }
}
