using System.Net;
using Funnel.Offers;
using NodaTime;
using Stripe;

namespace Funnel.Payments.Stripe;

/// <summary>The <see cref="IPaymentGateway"/> on Stripe: Payment Intents, Customers with saved payment methods, subscription schedules and refunds.</summary>
internal sealed class StripePaymentGateway : IPaymentGateway
{
    /// <summary>The decline code of a plan whose first installment Stripe could not collect (declined or needing authentication).</summary>
    internal const string FirstInstallmentNotCollected = "first_installment_not_collected";

    private const string OrderKey = "funnel_order";
    private const string LeadKey = "funnel_lead";
    private const string InstallmentKey = "funnel_installment";
    private const string PaymentKey = "funnel_payment";

    private readonly IStripeClient client;
    private readonly string? planProduct;

    public StripePaymentGateway(IStripeClient client, string? planProduct)
    {
        this.client = client;
        this.planProduct = planProduct;
    }

    public Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(async () =>
        {
            if (request.RetryOf is { } invoice && invoice.StartsWith("in_", StringComparison.Ordinal))
            {
                // An installment of a plan is an open invoice: paying it again keeps Stripe's subscription in step.
                Invoice paid = await new InvoiceService(client).PayAsync(invoice, new InvoicePayOptions { PaymentMethod = request.PaymentMethod, OffSession = true },
                    Idempotent(request.IdempotencyKey), cancellationToken).ConfigureAwait(false);
                return paid.Status == "paid"
                    ? new PaymentResult { Outcome = PaymentOutcome.Succeeded, PaymentId = paid.Id, Customer = request.Customer }
                    : new PaymentResult { Outcome = PaymentOutcome.Declined, PaymentId = paid.Id, DeclineCode = "invoice_" + paid.Status };
            }

            string? customer = request.Customer;
            if (customer is null && request.SaveForLater)
            {
                customer = await CreateCustomerAsync(request.Lead, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
            }

            var options = new PaymentIntentCreateOptions
            {
                Amount = StripeMoney.Amount(request.Amount),
                Currency = StripeMoney.Currency(request.Amount),
                Customer = customer,
                PaymentMethod = request.PaymentMethod,
                Confirm = true,
                OffSession = request.OffSession ? true : null,
                SetupFutureUsage = request.SaveForLater && !request.OffSession ? "off_session" : null,
                AutomaticPaymentMethods = new PaymentIntentAutomaticPaymentMethodsOptions { Enabled = true, AllowRedirects = "never" },
                Metadata = Metadata(request.Order, request.Lead, request.Installment),
            };
            PaymentIntent intent = await new PaymentIntentService(client).CreateAsync(options, Idempotent(request.IdempotencyKey), cancellationToken).ConfigureAwait(false);
            return FromIntent(intent, customer);
        }, request.IdempotencyKey);
    }

    public Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        string product = planProduct ?? throw new PaymentGatewayException("FunnelStripeOptions.PlanProduct is not set, so installment plans cannot be priced.") { Code = "configuration" };
        (string interval, int count) = Interval(request.Interval);
        return CallAsync(async () =>
        {
            string customer = request.Customer ?? await CreateCustomerAsync(request.Lead, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
            if (request.Customer is null)
            {
                await new PaymentMethodService(client).AttachAsync(request.PaymentMethod, new PaymentMethodAttachOptions { Customer = customer },
                    Idempotent(request.IdempotencyKey + "_attach"), cancellationToken).ConfigureAwait(false);
            }

            var options = new SubscriptionScheduleCreateOptions
            {
                Customer = customer,
                StartDate = SubscriptionScheduleStartDate.Now,
                EndBehavior = "cancel",
                DefaultSettings = new SubscriptionScheduleDefaultSettingsOptions
                {
                    DefaultPaymentMethod = request.PaymentMethod,
                    CollectionMethod = "charge_automatically",
                },
                Metadata = Metadata(request.Order, request.Lead, null),
                Phases = [.. request.Installments.Select(charge => new SubscriptionSchedulePhaseOptions
                {
                    // One phase per installment, each one interval long: N invoices, then the schedule cancels.
                    Items =
                    [
                        new SubscriptionSchedulePhaseItemOptions
                        {
                            PriceData = new SubscriptionSchedulePhaseItemPriceDataOptions
                            {
                                Currency = StripeMoney.Currency(charge.Amount),
                                Product = product,
                                UnitAmount = StripeMoney.Amount(charge.Amount),
                                Recurring = new SubscriptionSchedulePhaseItemPriceDataRecurringOptions { Interval = interval, IntervalCount = count },
                            },
                            Quantity = 1,
                        },
                    ],
                    Duration = new SubscriptionSchedulePhaseDurationOptions { Interval = interval, IntervalCount = count },
                    Metadata = Metadata(request.Order, request.Lead, charge.Number),
                })],
                Expand = ["subscription.latest_invoice"],
            };
            SubscriptionSchedule schedule = await new SubscriptionScheduleService(client).CreateAsync(options, Idempotent(request.IdempotencyKey), cancellationToken).ConfigureAwait(false);
            Invoice? first = schedule.Subscription?.LatestInvoice;
            if (schedule.Subscription?.Status == "incomplete" && first?.Status != "paid")
            {
                // Stripe creates the subscription even when the first invoice's card is declined or needs
                // authentication. Cancel the schedule so that nothing is charged later, and report a decline:
                // the buyer pays again (a new attempt, with a new key), and Stripe expires the incomplete subscription.
                await new SubscriptionScheduleService(client).CancelAsync(schedule.Id, new SubscriptionScheduleCancelOptions(),
                    Idempotent(request.IdempotencyKey + "_incomplete_cancel"), cancellationToken).ConfigureAwait(false);
                return new PaymentResult
                {
                    Outcome = PaymentOutcome.Declined,
                    DeclineCode = FirstInstallmentNotCollected,
                    Customer = customer,
                    PaymentMethod = request.PaymentMethod,
                };
            }

            return new PaymentResult
            {
                Outcome = PaymentOutcome.Succeeded,
                PlanId = schedule.Id,
                Customer = customer,
                PaymentMethod = request.PaymentMethod,

                // When Stripe has already collected the first invoice it is recorded now; otherwise invoice.paid reports it.
                PaymentId = first?.Status == "paid" ? first.Id : null,
            };
        }, request.IdempotencyKey);
    }

    public async Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        PaymentResult result = await CallAsync(async () =>
        {
            string intent = request.PaymentId;
            if (intent.StartsWith("in_", StringComparison.Ordinal))
            {
                StripeList<InvoicePayment> payments = await new InvoicePaymentService(client).ListAsync(
                    new InvoicePaymentListOptions { Invoice = intent, Status = "paid" }, null, cancellationToken).ConfigureAwait(false);
                intent = payments.Data.Select(p => p.Payment?.PaymentIntentId).FirstOrDefault(id => id is not null)
                    ?? throw new PaymentGatewayException($"Invoice {request.PaymentId} has no paid Payment Intent to refund.") { Code = "resource_missing" };
            }

            var options = new RefundCreateOptions
            {
                PaymentIntent = intent,
                Amount = StripeMoney.Amount(request.Amount),
                Metadata = new Dictionary<string, string> { [OrderKey] = request.Order.ToString(), [PaymentKey] = request.PaymentId },
            };
            Refund refund = await new RefundService(client).CreateAsync(options, Idempotent(request.IdempotencyKey), cancellationToken).ConfigureAwait(false);
            return new PaymentResult
            {
                Outcome = refund.Status is "failed" or "canceled" ? PaymentOutcome.Declined : PaymentOutcome.Succeeded,
                PaymentId = refund.Id,
                DeclineCode = refund.FailureReason,
            };
        }, request.IdempotencyKey).ConfigureAwait(false);
        return new RefundResult(result.PaymentId!, result.Outcome == PaymentOutcome.Succeeded, result.DeclineCode);
    }

    public Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(async () =>
        {
            await new SubscriptionScheduleService(client).CancelAsync(request.PlanId, new SubscriptionScheduleCancelOptions(), Idempotent(request.IdempotencyKey), cancellationToken)
                .ConfigureAwait(false);
            return new PaymentResult { Outcome = PaymentOutcome.Succeeded };
        }, request.IdempotencyKey);
    }

    /// <summary>
    /// Finds the order a PaymentIntent paid: from the <c>funnel_order</c> metadata <see cref="ChargeAsync"/> set, or,
    /// for an installment of a plan (a PaymentIntent Stripe's invoice created), from the subscription metadata of the
    /// invoice it paid, which <see cref="StartPlanAsync"/> set on each phase.
    /// </summary>
    /// <returns>The order and the payment as the order recorded it, or <see langword="null"/> when the PaymentIntent does not exist or paid nothing of ours.</returns>
    /// <exception cref="PaymentGatewayException">Stripe refused the request or could not be reached.</exception>
    internal static async Task<DisputedPayment?> OrderOfPaymentIntentAsync(IStripeClient client, string paymentIntent, CancellationToken cancellationToken)
    {
        try
        {
            PaymentIntent intent = await new PaymentIntentService(client).GetAsync(paymentIntent, options: null, requestOptions: null, cancellationToken).ConfigureAwait(false);
            if (intent.Metadata is { } metadata && metadata.TryGetValue(OrderKey, out string? order))
            {
                return new DisputedPayment(order, paymentIntent);
            }

            StripeList<InvoicePayment> payments = await new InvoicePaymentService(client).ListAsync(
                new InvoicePaymentListOptions
                {
                    Payment = new InvoicePaymentPaymentOptions { Type = "payment_intent", PaymentIntent = paymentIntent },
                    Expand = ["data.invoice"],
                },
                requestOptions: null,
                cancellationToken).ConfigureAwait(false);
            foreach (InvoicePayment payment in payments.Data ?? [])
            {
                if (payment.Invoice is { } invoice
                    && invoice.Parent?.SubscriptionDetails?.Metadata is { } subscription
                    && subscription.TryGetValue(OrderKey, out string? planOrder))
                {
                    return new DisputedPayment(planOrder, invoice.Id);
                }
            }

            return null;
        }
        catch (StripeException error) when (error.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (StripeException error)
        {
            throw Refused(error, $"Stripe refused to read PaymentIntent '{paymentIntent}'");
        }
        catch (HttpRequestException error)
        {
            throw new PaymentGatewayException($"Stripe could not be reached to read PaymentIntent '{paymentIntent}'.", error) { IsTransient = true };
        }
    }

    /// <summary>The gateway error for a request Stripe refused: its message and code, transient for 409, 429 and 5xx.</summary>
    /// <param name="error">What Stripe.net threw.</param>
    /// <param name="what">What was refused, such as <c>Stripe refused to read PaymentIntent 'pi_…'</c>.</param>
    /// <returns>The exception to throw.</returns>
    internal static PaymentGatewayException Refused(StripeException error, string what) =>
        new($"{what}: {error.StripeError?.Message ?? error.Message}", error)
        {
            Code = error.StripeError?.Code ?? error.StripeError?.Type,
            IsTransient = error.HttpStatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)error.HttpStatusCode >= 500,
        };

    /// <summary>Maps a NodaTime period of one unit to Stripe's interval and count.</summary>
    internal static (string Interval, int Count) Interval(Period period) => period switch
    {
        { Years: > 0, Months: 0, Weeks: 0, Days: 0 } when !period.HasTimeComponent => ("year", period.Years),
        { Months: > 0, Years: 0, Weeks: 0, Days: 0 } when !period.HasTimeComponent => ("month", period.Months),
        { Weeks: > 0, Years: 0, Months: 0, Days: 0 } when !period.HasTimeComponent => ("week", period.Weeks),
        { Days: > 0, Years: 0, Months: 0, Weeks: 0 } when !period.HasTimeComponent => ("day", period.Days),
        _ => throw new PaymentGatewayException($"Stripe cannot bill every {period}: use a whole number of days, weeks, months or years.") { Code = "unsupported_interval" },
    };

    private static PaymentResult FromIntent(PaymentIntent intent, string? customer) => intent.Status switch
    {
        "succeeded" => new PaymentResult { Outcome = PaymentOutcome.Succeeded, PaymentId = intent.Id, Customer = customer, PaymentMethod = intent.PaymentMethodId },
        "requires_payment_method" => new PaymentResult
        {
            Outcome = PaymentOutcome.Declined,
            PaymentId = intent.Id,
            DeclineCode = intent.LastPaymentError?.DeclineCode ?? intent.LastPaymentError?.Code ?? "requires_payment_method",
        },
        _ => new PaymentResult { Outcome = PaymentOutcome.RequiresAction, PaymentId = intent.Id, Customer = customer, PaymentMethod = intent.PaymentMethodId, ActionToken = intent.ClientSecret },
    };

    private static Dictionary<string, string> Metadata(OrderId order, LeadId lead, int? installment)
    {
        var metadata = new Dictionary<string, string> { [OrderKey] = order.ToString(), [LeadKey] = lead.ToString() };
        if (installment is { } n)
        {
            metadata[InstallmentKey] = StripeMoney.Text(n);
        }

        return metadata;
    }

    private static RequestOptions Idempotent(string key) => new() { IdempotencyKey = key };

    private Task<string> CreateCustomerAsync(LeadId lead, string idempotencyKey, CancellationToken cancellationToken) =>
        CreateCustomerAsync(client, lead, idempotencyKey, cancellationToken);

    /// <summary>Creates a Stripe customer for a lead, with a key derived from <paramref name="idempotencyKey"/>.</summary>
    internal static async Task<string> CreateCustomerAsync(IStripeClient client, LeadId lead, string idempotencyKey, CancellationToken cancellationToken)
    {
        Customer customer = await new CustomerService(client).CreateAsync(
            new CustomerCreateOptions { Metadata = new Dictionary<string, string> { [LeadKey] = lead.ToString() } },
            Idempotent(idempotencyKey + "_customer"), cancellationToken).ConfigureAwait(false);
        return customer.Id;
    }

    /// <summary>Turns Stripe's card errors into declines and every other Stripe or network error into <see cref="PaymentGatewayException"/>.</summary>
    internal static async Task<PaymentResult> CallAsync(Func<Task<PaymentResult>> call, string idempotencyKey)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (StripeException error) when (error.StripeError?.Type == "card_error")
        {
            return new PaymentResult
            {
                Outcome = error.StripeError.Code == "authentication_required" && error.StripeError.PaymentIntent?.Status == "requires_action"
                    ? PaymentOutcome.RequiresAction
                    : PaymentOutcome.Declined,
                PaymentId = error.StripeError.PaymentIntent?.Id,
                DeclineCode = error.StripeError.DeclineCode ?? error.StripeError.Code,
                ActionToken = error.StripeError.PaymentIntent?.ClientSecret,
            };
        }
        catch (StripeException error)
        {
            throw Refused(error, $"Stripe refused the request with idempotency key '{idempotencyKey}'");
        }
        catch (HttpRequestException error)
        {
            throw new PaymentGatewayException($"Stripe could not be reached for idempotency key '{idempotencyKey}'; retry with the same key.", error) { IsTransient = true };
        }
    }
}
