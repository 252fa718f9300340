using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Funnel.Offers;
using NodaTime;
using NodaTime.Text;

namespace Funnel.Payments;

/// <summary>A payment provider in memory ("test mode") with Stripe's test cards, for tests and samples.</summary>
/// <remarks>
/// <para>
/// Cards: <c>4242424242424242</c> succeeds; <c>4000000000000002</c> is declined (<c>card_declined</c>);
/// <c>4000000000009995</c> is declined (<c>insufficient_funds</c>); <c>4000002500003155</c> requires
/// authentication on session (complete it with <see cref="CompleteAuthentication"/>) and is declined off session
/// (<c>authentication_required</c>). Any other number is declined (<c>invalid_number</c>).
/// </para>
/// <para>
/// Like a real provider it honours idempotency keys (the same key returns the first answer; the same key with other
/// parameters throws), saves payment methods on customers, collects plan installments when
/// <see cref="CollectDueInstallments"/> runs, and reports every outcome as a signed webhook in <see cref="Webhooks"/>,
/// which <see cref="Verifier"/> accepts.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemoryPaymentGateway : IPaymentGateway
{
    /// <summary>The test card that always succeeds.</summary>
    public const string SucceedingCard = "4242424242424242";

    /// <summary>The test card that is declined with <c>card_declined</c>.</summary>
    public const string DecliningCard = "4000000000000002";

    /// <summary>The test card that is declined with <c>insufficient_funds</c>.</summary>
    public const string InsufficientFundsCard = "4000000000009995";

    /// <summary>The test card that requires authentication.</summary>
    public const string AuthenticationCard = "4000002500003155";

    /// <summary>The header that carries the test-mode webhook signature.</summary>
    public const string SignatureHeader = "Funnel-Test-Signature";

    private readonly Lock gate = new();
    private readonly IClock clock;
    private readonly byte[] secret;
    // Ids carry a per-instance part, so a gateway started again (a restarted app) never reuses an id already stored.
    private readonly string instance = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly Dictionary<string, (string Fingerprint, object Answer)> idempotency = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> cards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Payment> payments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Plan> plans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string PaymentId, string Reason)> disputes = new(StringComparer.Ordinal);
    private readonly List<WebhookRequest> webhooks = [];
    private int sequence;

    /// <summary>Initializes the gateway.</summary>
    /// <param name="clock">The source of "now", for due installments and webhook timestamps.</param>
    /// <exception cref="ArgumentNullException"><paramref name="clock"/> is <see langword="null"/>.</exception>
    public InMemoryPaymentGateway(IClock clock)
        : this(clock, RandomNumberGenerator.GetBytes(32))
    {
    }

    /// <summary>Initializes the gateway with the secret its webhooks are signed with.</summary>
    /// <remarks>Keep the secret across restarts (a file in the app's data folder) so a webhook redelivered after a restart still verifies.</remarks>
    /// <param name="clock">The source of "now", for due installments and webhook timestamps.</param>
    /// <param name="webhookSecret">The signing secret, at least 16 bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="clock"/> or <paramref name="webhookSecret"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="webhookSecret"/> is shorter than 16 bytes.</exception>
    public InMemoryPaymentGateway(IClock clock, byte[] webhookSecret)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(webhookSecret);
        if (webhookSecret.Length < 16)
        {
            throw new ArgumentException("The webhook secret must be at least 16 bytes.", nameof(webhookSecret));
        }

        this.clock = clock;
        secret = [.. webhookSecret];
        Verifier = new TestModeVerifier(secret);
    }

    /// <summary>Gets the verifier that accepts this gateway's webhooks, for a <see cref="WebhookProcessor"/>.</summary>
    public IWebhookSignatureVerifier Verifier { get; }

    /// <summary>Gets every webhook sent so far, in order.</summary>
    public ImmutableArray<WebhookRequest> Webhooks
    {
        get
        {
            lock (gate)
            {
                return [.. webhooks];
            }
        }
    }

    /// <summary>Gets how many charges were attempted with a card entered by the buyer (not a saved method).</summary>
    public int CardEntries { get; private set; }

    /// <inheritdoc/>
    public Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (gate)
        {
            return Task.FromResult(Idempotent(request.IdempotencyKey, request.ToString(), () =>
            {
                (string card, string? customer, string? method) = Resolve(request.PaymentMethod, request.Customer, request.SaveForLater);
                string paymentId = request.RetryOf is { } retried && payments.ContainsKey(retried) ? retried : NewId("pi");
                PaymentResult result = Attempt(card, request.OffSession, paymentId, request.Order, request.Amount, request.Installment);
                return result with { Customer = customer, PaymentMethod = method };
            }));
        }
    }

    /// <inheritdoc/>
    public Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Installments.IsDefaultOrEmpty)
        {
            throw new PaymentGatewayException("The plan has no installments.") { Code = "parameter_missing" };
        }

        lock (gate)
        {
            string fingerprint = $"{request.Order}|{request.PaymentMethod}|{request.Customer}|{string.Join(',', request.Installments)}";
            return Task.FromResult(Idempotent(request.IdempotencyKey, fingerprint, () =>
            {
                (string card, string? customer, string? method) = Resolve(request.PaymentMethod, request.Customer, save: true);
                PaymentResult first = Attempt(card, offSession: false, NewId("in"), request.Order, request.Installments[0].Amount, 1);
                if (first.Outcome != PaymentOutcome.Succeeded)
                {
                    return first;
                }

                string planId = NewId("sub_sched");
                plans[planId] = new Plan(request.Order, request.Installments, method!) { Collected = 1 };
                return first with { PlanId = planId, Customer = customer, PaymentMethod = method };
            }));
        }
    }

    /// <inheritdoc/>
    public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (gate)
        {
            return Task.FromResult(Idempotent(request.IdempotencyKey, request.ToString(), () =>
            {
                if (!payments.TryGetValue(request.PaymentId, out Payment? payment) || !payment.Paid)
                {
                    throw new PaymentGatewayException($"No such paid payment: '{request.PaymentId}'.") { Code = "resource_missing" };
                }

                if (request.Amount.Currency != payment.Amount.Currency || request.Amount > payment.Amount - payment.Refunded)
                {
                    throw new PaymentGatewayException($"Refund of {request.Amount} exceeds what is left of payment {request.PaymentId}.") { Code = "amount_too_large" };
                }

                payment.Refunded += request.Amount;
                string refundId = NewId("re");
                Notify(PaymentNotificationKind.Refunded, payment.Order, request.PaymentId, request.Amount, payment.Installment, refundId, null);
                return new RefundResult(refundId, Succeeded: true);
            }));
        }
    }

    /// <inheritdoc/>
    public Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (gate)
        {
            if (!plans.TryGetValue(request.PlanId, out Plan? plan))
            {
                throw new PaymentGatewayException($"No such plan: '{request.PlanId}'.") { Code = "resource_missing" };
            }

            plan.Canceled = true;
        }

        return Task.CompletedTask;
    }

    /// <summary>Collects every plan installment due at or before now, as the provider's scheduler would, and sends its webhook.</summary>
    /// <returns>The outcome of each installment collected.</returns>
    public ImmutableArray<PaymentResult> CollectDueInstallments()
    {
        Instant now = clock.GetCurrentInstant();
        var results = ImmutableArray.CreateBuilder<PaymentResult>();
        lock (gate)
        {
            foreach (Plan plan in plans.Values)
            {
                while (!plan.Canceled && plan.Collected < plan.Installments.Length && plan.Installments[plan.Collected].DueAt <= now)
                {
                    ScheduledCharge charge = plan.Installments[plan.Collected];
                    plan.Collected++;
                    results.Add(Attempt(cards[plan.PaymentMethod], offSession: true, NewId("in"), plan.Order, charge.Amount, charge.Number));
                }
            }
        }

        return results.ToImmutable();
    }

    /// <summary>Replaces the card behind a saved payment method, such as one that starts to decline.</summary>
    /// <param name="paymentMethod">The saved method.</param>
    /// <param name="cardNumber">The test card it now charges.</param>
    /// <exception cref="ArgumentException">The payment method is unknown.</exception>
    public void ReplaceCard(string paymentMethod, string cardNumber)
    {
        lock (gate)
        {
            if (!cards.ContainsKey(paymentMethod))
            {
                throw new ArgumentException($"No saved payment method '{paymentMethod}'.", nameof(paymentMethod));
            }

            cards[paymentMethod] = cardNumber;
        }
    }

    /// <summary>Completes the authentication a payment required, collects it and sends its webhook.</summary>
    /// <param name="paymentId">The payment that required action.</param>
    /// <exception cref="ArgumentException">No payment with this id awaits authentication.</exception>
    public void CompleteAuthentication(string paymentId)
    {
        lock (gate)
        {
            if (!payments.TryGetValue(paymentId, out Payment? payment) || payment.Paid)
            {
                throw new ArgumentException($"Payment '{paymentId}' does not await authentication.", nameof(paymentId));
            }

            payment.Paid = true;
            Notify(PaymentNotificationKind.PaymentSucceeded, payment.Order, paymentId, payment.Amount, payment.Installment, null, null);
        }
    }

    /// <summary>Opens a dispute (chargeback) on a paid payment and sends its webhook.</summary>
    /// <param name="paymentId">The payment.</param>
    /// <param name="reason">The dispute reason, such as <c>fraudulent</c>.</param>
    /// <returns>The dispute id.</returns>
    /// <exception cref="ArgumentException">No paid payment has this id.</exception>
    public string Dispute(string paymentId, string reason)
    {
        lock (gate)
        {
            if (!payments.TryGetValue(paymentId, out Payment? payment) || !payment.Paid)
            {
                throw new ArgumentException($"No paid payment '{paymentId}'.", nameof(paymentId));
            }

            string disputeId = NewId("dp");
            disputes[disputeId] = (paymentId, reason);
            Notify(PaymentNotificationKind.Disputed, payment.Order, paymentId, payment.Amount, payment.Installment, disputeId, reason);
            return disputeId;
        }
    }

    /// <summary>Closes a dispute opened with <see cref="Dispute"/> and sends its webhook.</summary>
    /// <param name="disputeId">The dispute id <see cref="Dispute"/> returned.</param>
    /// <param name="won"><see langword="true"/> when the seller wins (the money comes back), <see langword="false"/> when the buyer does.</param>
    /// <exception cref="ArgumentException">No dispute has this id.</exception>
    public void CloseDispute(string disputeId, bool won)
    {
        lock (gate)
        {
            if (!disputes.TryGetValue(disputeId, out var dispute))
            {
                throw new ArgumentException($"No dispute '{disputeId}'.", nameof(disputeId));
            }

            Payment payment = payments[dispute.PaymentId];
            Notify(won ? PaymentNotificationKind.DisputeWon : PaymentNotificationKind.DisputeLost, payment.Order, dispute.PaymentId, payment.Amount,
                payment.Installment, disputeId, dispute.Reason);
        }
    }

    private T Idempotent<T>(string key, string fingerprint, Func<T> run)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (idempotency.TryGetValue(key, out var previous))
        {
            return previous.Fingerprint == fingerprint
                ? (T)previous.Answer
                : throw new PaymentGatewayException($"Idempotency key '{key}' was used with other parameters.") { Code = "idempotency_key_in_use" };
        }

        T answer = run();
        idempotency[key] = (fingerprint, answer);
        return answer;
    }

    private (string Card, string? Customer, string? Method) Resolve(string paymentMethod, string? customer, bool save)
    {
        if (cards.TryGetValue(paymentMethod, out string? saved))
        {
            return (saved, customer, paymentMethod);
        }

        if (paymentMethod.StartsWith("pm_", StringComparison.Ordinal))
        {
            throw new PaymentGatewayException($"No such payment method: '{paymentMethod}'.") { Code = "resource_missing" };
        }

        CardEntries++;
        if (!save)
        {
            return (paymentMethod, customer, null);
        }

        string method = NewId("pm");
        cards[method] = paymentMethod;
        return (paymentMethod, customer ?? NewId("cus"), method);
    }

    private PaymentResult Attempt(string card, bool offSession, string paymentId, OrderId order, Money amount, int? installment)
    {
        string? decline = card switch
        {
            SucceedingCard => null,
            DecliningCard => "card_declined",
            InsufficientFundsCard => "insufficient_funds",
            AuthenticationCard => offSession ? "authentication_required" : null,
            _ => "invalid_number",
        };
        Payment payment = payments.TryGetValue(paymentId, out Payment? existing) ? existing : payments[paymentId] = new Payment(order, amount, installment);
        if (decline is not null)
        {
            Notify(PaymentNotificationKind.PaymentFailed, order, paymentId, amount, installment, null, decline);
            return new PaymentResult { Outcome = PaymentOutcome.Declined, PaymentId = paymentId, DeclineCode = decline };
        }

        if (card == AuthenticationCard)
        {
            return new PaymentResult { Outcome = PaymentOutcome.RequiresAction, PaymentId = paymentId, ActionToken = paymentId + "_secret" };
        }

        payment.Paid = true;
        Notify(PaymentNotificationKind.PaymentSucceeded, order, paymentId, amount, installment, null, null);
        return new PaymentResult { Outcome = PaymentOutcome.Succeeded, PaymentId = paymentId };
    }

    private void Notify(PaymentNotificationKind kind, OrderId order, string paymentId, Money amount, int? installment, string? adjustment, string? reason)
    {
        var notification = new PaymentNotification
        {
            EventId = NewId("evt"),
            Kind = kind,
            Order = order,
            OccurredAt = clock.GetCurrentInstant(),
            PaymentId = paymentId,
            Amount = amount,
            Installment = installment,
            AdjustmentId = adjustment,
            Reason = reason,
        };
        byte[] body = TestModeVerifier.Serialize(notification);
        webhooks.Add(new WebhookRequest(body, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [SignatureHeader] = Convert.ToHexStringLower(HMACSHA256.HashData(secret, body)),
        }));
    }

    private string NewId(string prefix) => string.Create(CultureInfo.InvariantCulture, $"{prefix}_test_{instance}{++sequence}");

    private sealed class Payment(OrderId order, Money amount, int? installment)
    {
        public OrderId Order { get; } = order;

        public Money Amount { get; } = amount;

        public int? Installment { get; } = installment;

        public bool Paid { get; set; }

        public Money Refunded { get; set; } = Money.Zero(amount.Currency);
    }

    private sealed class Plan(OrderId order, ImmutableArray<ScheduledCharge> installments, string paymentMethod)
    {
        public OrderId Order { get; } = order;

        public ImmutableArray<ScheduledCharge> Installments { get; } = installments;

        public string PaymentMethod { get; } = paymentMethod;

        public int Collected { get; set; }

        public bool Canceled { get; set; }
    }

    /// <summary>Verifies test-mode webhooks: an HMAC-SHA256 of the body with the gateway's secret.</summary>
    private sealed class TestModeVerifier(byte[] secret) : IWebhookSignatureVerifier
    {
        public Task<WebhookVerification> VerifyAsync(WebhookRequest request, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(request);
            if (!request.Headers.TryGetValue(SignatureHeader, out string? signature) || string.IsNullOrEmpty(signature))
            {
                return Task.FromResult(WebhookVerification.Rejected(WebhookRejection.MissingSignature, $"The '{SignatureHeader}' header is missing."));
            }

            byte[] expected = HMACSHA256.HashData(secret, request.Body.Span);
            byte[] given;
            try
            {
                given = Convert.FromHexString(signature);
            }
            catch (FormatException)
            {
                return Task.FromResult(WebhookVerification.Rejected(WebhookRejection.MalformedSignature, $"The '{SignatureHeader}' header is not hexadecimal."));
            }

            if (!CryptographicOperations.FixedTimeEquals(expected, given))
            {
                return Task.FromResult(WebhookVerification.Rejected(WebhookRejection.SignatureMismatch, "The signature does not match the body."));
            }

            try
            {
                PaymentNotification notification = Deserialize(request.Body.Span);
                return Task.FromResult(new WebhookVerification { EventId = notification.EventId, EventType = notification.Kind.ToString(), Notification = notification });
            }
            catch (Exception error) when (error is JsonException or KeyNotFoundException or FormatException or InvalidOperationException or UnparsableValueException)
            {
                return Task.FromResult(WebhookVerification.Rejected(WebhookRejection.MalformedPayload, "The body is not a test-mode event: " + error.Message));
            }
        }

        public static byte[] Serialize(PaymentNotification n)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("id", n.EventId);
                json.WriteString("kind", n.Kind.ToString());
                json.WriteString("order", n.Order.ToString());
                json.WriteString("occurred_at", InstantPattern.ExtendedIso.Format(n.OccurredAt));
                json.WriteString("payment_id", n.PaymentId);
                json.WriteNumber("amount", n.Amount.MinorUnits);
                json.WriteString("currency", n.Amount.Currency.Code);
                if (n.Installment is { } installment)
                {
                    json.WriteNumber("installment", installment);
                }

                json.WriteString("adjustment_id", n.AdjustmentId);
                json.WriteString("reason", n.Reason);
                json.WriteEndObject();
            }

            return buffer.ToArray();
        }

        private static PaymentNotification Deserialize(ReadOnlySpan<byte> body)
        {
            var reader = new Utf8JsonReader(body);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            return new PaymentNotification
            {
                EventId = root.GetProperty("id").GetString()!,
                Kind = Enum.Parse<PaymentNotificationKind>(root.GetProperty("kind").GetString()!),
                Order = OrderId.Parse(root.GetProperty("order").GetString()!),
                OccurredAt = InstantPattern.ExtendedIso.Parse(root.GetProperty("occurred_at").GetString()!).Value,
                PaymentId = root.GetProperty("payment_id").GetString()!,
                Amount = new Money(root.GetProperty("amount").GetInt64(), Currency.FromCode(root.GetProperty("currency").GetString()!)),
                Installment = root.TryGetProperty("installment", out JsonElement i) ? i.GetInt32() : null,
                AdjustmentId = root.GetProperty("adjustment_id").GetString(),
                Reason = root.GetProperty("reason").GetString(),
            };
        }
    }
}
