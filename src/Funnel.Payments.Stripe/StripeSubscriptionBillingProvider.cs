using Funnel.Subscriptions;
using Stripe;

namespace Funnel.Payments.Stripe;

/// <summary>The <see cref="ISubscriptionBillingProvider"/> on Stripe Billing: one Stripe subscription per Funnel subscription.</summary>
/// <remarks>
/// <para>
/// A start creates the customer when there is none (attaching the payment method), then <c>POST /v1/subscriptions</c>
/// with one item priced inline (<c>price_data</c>: the offer's price per month or year, under
/// <see cref="StripeBillingOptions.Product"/>, as installment plans price under <see cref="FunnelStripeOptions.PlanProduct"/>),
/// the trial's end, the default payment method and <c>payment_behavior=error_if_incomplete</c>: a first payment that is
/// declined or needs authentication is a card error, and Stripe keeps no subscription. The subscription's metadata
/// carries <c>funnel_subscription</c> (our id) and <c>funnel_lead</c>, never <c>funnel_order</c>, so that its invoices are
/// not taken for an installment plan's. A trial without a card ends at Stripe when it ends (<c>missing_payment_method=cancel</c>).
/// </para>
/// <para>
/// Changes: cancel now is <c>DELETE /v1/subscriptions/{id}</c>; at period end and its withdrawal set
/// <c>cancel_at_period_end</c>; a pause sets <c>pause_collection[behavior]=void</c> (with <c>resumes_at</c>), a resume
/// clears it; a plan change replaces the item's <c>price_data</c> with <c>proration_behavior=always_invoice</c> and
/// <c>payment_behavior=error_if_incomplete</c>, so the difference is invoiced and collected at once or nothing changes.
/// </para>
/// </remarks>
internal sealed class StripeSubscriptionBillingProvider : ISubscriptionBillingProvider
{
    internal const string SubscriptionKey = "funnel_subscription";
    internal const string LeadKey = "funnel_lead";

    private readonly IStripeClient client;
    private readonly StripeBillingOptions options;

    public StripeSubscriptionBillingProvider(IStripeClient client, StripeBillingOptions options)
    {
        this.client = client;
        this.options = options;
    }

    public Task<ProviderSubscriptionStarted> StartAsync(ProviderSubscriptionStart start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        string? subscriptionId = null;
        return Started(StripePaymentGateway.CallAsync(async () =>
        {
            string customer = start.Customer
                ?? await StripePaymentGateway.CreateCustomerAsync(client, start.Lead, start.IdempotencyKey, cancellationToken).ConfigureAwait(false);
            if (start.Customer is null && start.PaymentMethod is not null)
            {
                await new PaymentMethodService(client).AttachAsync(start.PaymentMethod, new PaymentMethodAttachOptions { Customer = customer },
                    Idempotent(start.IdempotencyKey + "_attach"), cancellationToken).ConfigureAwait(false);
            }

            var create = new SubscriptionCreateOptions
            {
                Customer = customer,
                Items = [new SubscriptionItemOptions { PriceData = PriceData(start.Offer, start.Price, start.Interval), Quantity = 1 }],
                DefaultPaymentMethod = start.PaymentMethod,
                PaymentBehavior = "error_if_incomplete",
                Metadata = new Dictionary<string, string>
                {
                    [SubscriptionKey] = start.Subscription.ToString(),
                    [LeadKey] = start.Lead.ToString(),
                },
                Expand = ["latest_invoice"],
            };
            if (start.TrialEnd is { } trialEnd)
            {
                create.TrialEnd = trialEnd.ToDateTimeUtc();
                create.TrialSettings = new SubscriptionTrialSettingsOptions
                {
                    EndBehavior = new SubscriptionTrialSettingsEndBehaviorOptions { MissingPaymentMethod = "cancel" },
                };
            }

            global::Stripe.Subscription created = await new global::Stripe.SubscriptionService(client).CreateAsync(create, Idempotent(start.IdempotencyKey), cancellationToken)
                .ConfigureAwait(false);
            subscriptionId = created.Id;
            Invoice? first = created.LatestInvoice;
            return new PaymentResult
            {
                Outcome = PaymentOutcome.Succeeded,
                Customer = customer,
                PaymentMethod = start.PaymentMethod,
                // A trial's first invoice is Stripe's zero-amount one: nothing was paid yet.
                PaymentId = start.TrialEnd is null && first?.Status == "paid" ? first.Id : null,
            };
        }, start.IdempotencyKey), () => subscriptionId);
    }

    public Task<PaymentResult> UpdateAsync(ProviderSubscriptionUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var service = new global::Stripe.SubscriptionService(client);
        RequestOptions key = Idempotent(update.IdempotencyKey);
        return StripePaymentGateway.CallAsync(async () =>
        {
            switch (update.Change)
            {
                case ProviderSubscriptionChange.CancelNow:
                    await service.CancelAsync(update.ProviderSubscriptionId, new SubscriptionCancelOptions(), key, cancellationToken).ConfigureAwait(false);
                    return Done();
                case ProviderSubscriptionChange.CancelAtPeriodEnd or ProviderSubscriptionChange.WithdrawCancel:
                    await service.UpdateAsync(update.ProviderSubscriptionId,
                        new SubscriptionUpdateOptions { CancelAtPeriodEnd = update.Change == ProviderSubscriptionChange.CancelAtPeriodEnd }, key, cancellationToken)
                        .ConfigureAwait(false);
                    return Done();
                case ProviderSubscriptionChange.Pause:
                    await service.UpdateAsync(update.ProviderSubscriptionId, new SubscriptionUpdateOptions
                    {
                        PauseCollection = new SubscriptionPauseCollectionOptions { Behavior = "void", ResumesAt = update.PausedUntil?.ToDateTimeUtc() },
                    }, key, cancellationToken).ConfigureAwait(false);
                    return Done();
                case ProviderSubscriptionChange.Resume:
                    var resume = new SubscriptionUpdateOptions();
                    resume.AddExtraParam("pause_collection", string.Empty); // unsets it: billing goes on
                    await service.UpdateAsync(update.ProviderSubscriptionId, resume, key, cancellationToken).ConfigureAwait(false);
                    return Done();
                case ProviderSubscriptionChange.ChangePlan:
                    return await ChangePlanAsync(service, update, key, cancellationToken).ConfigureAwait(false);
                default:
                    throw new ArgumentOutOfRangeException(nameof(update), update.Change, "The change is not defined.");
            }
        }, update.IdempotencyKey);
    }

    private async Task<PaymentResult> ChangePlanAsync(global::Stripe.SubscriptionService service, ProviderSubscriptionUpdate update, RequestOptions key,
        CancellationToken cancellationToken)
    {
        OfferId offer = update.Offer ?? throw new ArgumentException("A plan change needs the new offer.", nameof(update));
        Money price = update.Price ?? throw new ArgumentException("A plan change needs the new price.", nameof(update));
        global::Stripe.Subscription current = await service.GetAsync(update.ProviderSubscriptionId, null, null, cancellationToken).ConfigureAwait(false);
        string item = current.Items?.Data?.FirstOrDefault()?.Id
            ?? throw new PaymentGatewayException($"Stripe subscription {update.ProviderSubscriptionId} has no item to change.") { Code = "resource_missing" };
        global::Stripe.Subscription changed = await service.UpdateAsync(update.ProviderSubscriptionId, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = item, PriceData = PriceData(offer, price, update.Interval), Quantity = 1 }],
            ProrationBehavior = "always_invoice",
            PaymentBehavior = "error_if_incomplete",
            Expand = ["latest_invoice"],
        }, key, cancellationToken).ConfigureAwait(false);
        Invoice? invoice = changed.LatestInvoice;
        return new PaymentResult
        {
            Outcome = PaymentOutcome.Succeeded,
            PaymentId = invoice is { Status: "paid", BillingReason: "subscription_update", AmountPaid: > 0 } ? invoice.Id : null,
        };
    }

    private SubscriptionItemPriceDataOptions PriceData(OfferId offer, Money price, BillingInterval interval) => new()
    {
        Currency = StripeMoney.Currency(price),
        UnitAmount = StripeMoney.Amount(price),
        Product = options.ProductFor(offer),
        Recurring = new SubscriptionItemPriceDataRecurringOptions
        {
            Interval = interval switch
            {
                BillingInterval.Month => "month",
                BillingInterval.Year => "year",
                _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "The billing interval is not defined."),
            },
        },
    };

    private static async Task<ProviderSubscriptionStarted> Started(Task<PaymentResult> call, Func<string?> subscriptionId)
    {
        PaymentResult result = await call.ConfigureAwait(false);
        return new ProviderSubscriptionStarted
        {
            FirstPayment = result,
            ProviderSubscriptionId = result.Outcome == PaymentOutcome.Succeeded ? subscriptionId() : null,
        };
    }

    private static PaymentResult Done() => new() { Outcome = PaymentOutcome.Succeeded };

    private static RequestOptions Idempotent(string key) => new() { IdempotencyKey = key };
}
