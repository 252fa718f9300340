using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Stripe;
using Stripe.Tax;

namespace Funnel.Payments.Stripe;

/// <summary>The <c>stripe-tax</c> handler: records each paid order's sale with Stripe Tax and each refund as a reversal.</summary>
/// <remarks>
/// <para>
/// On the order's first <see cref="PaymentSucceeded"/> (for an installment plan, the first installment: one transaction
/// covers the whole sale) it creates a tax transaction from the order's calculation
/// (<c>POST /v1/tax/transactions/create_from_calculation</c>, reference = the order id) and appends
/// <see cref="StripeTaxTransactionRecorded"/> with its id. On <see cref="RefundIssued"/> it reverses it
/// (<c>POST /v1/tax/transactions/create_reversal</c>, reference = the refund event id): <c>full</c> when the refund is
/// the whole order total, otherwise <c>partial</c> with the refunded amount as a negative, tax-inclusive
/// <c>flat_amount</c>.
/// </para>
/// <para>
/// Exactly once: the recorded event is read back from the lead's events before calling Stripe, and every call carries
/// an idempotency key derived from the order or the refund, so a redelivery after a crash gets Stripe's first answer.
/// Orders without a Stripe Tax calculation are skipped. Stripe unavailable (5xx, 429, network) throws, and the pipeline
/// retries. A refusal that cannot succeed on retry (such as an expired calculation) is logged and parked at once, with
/// a message naming the order and what to do.
/// </para>
/// </remarks>
internal sealed class StripeTaxTransactionsHandler(IServiceProvider services) : IFunnelHandler
{
    /// <summary>The name the handler is registered under.</summary>
    public const string Name = "stripe-tax";

    /// <summary>The most events of one lead read back to find the recorded transaction.</summary>
    private const int MaxLeadEvents = 100_000;

    private const string CalculationPrefix = "taxcalc_";

    /// <inheritdoc/>
    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        switch (funnelEvent)
        {
            case PaymentSucceeded paid:
                await RecordSaleAsync(paid, cancellationToken).ConfigureAwait(false);
                break;
            case RefundIssued refund:
                await RecordRefundAsync(refund, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Returns the idempotency key of an order's tax transaction: <c>taxtx_&lt;order&gt;</c>.</summary>
    internal static string TransactionKey(OrderId order) => "taxtx_" + order.Value.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>Returns the idempotency key of a refund's reversal: <c>taxrev_&lt;refund event&gt;</c>.</summary>
    internal static string ReversalKey(Funnel.EventId refund) => "taxrev_" + refund.Value.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>Returns the id of the <see cref="StripeTaxTransactionRecorded"/> of an order, the same on every attempt.</summary>
    internal static Funnel.EventId RecordedEventId(OrderId order)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(StripeTaxTransactionRecorded.TypeName + "/" + order.Value.ToString("N", CultureInfo.InvariantCulture)), hash);
        Span<byte> bytes = hash[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80); // version 8 (custom), little-endian layout of Guid(ReadOnlySpan<byte>)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Funnel.EventId(new Guid(bytes));
    }

    private async Task RecordSaleAsync(PaymentSucceeded paid, CancellationToken cancellationToken)
    {
        if (await CalculatedOrderAsync(paid.Order, cancellationToken).ConfigureAwait(false) is not var (order, calculation))
        {
            return;
        }

        if (await RecordedAsync(order, cancellationToken).ConfigureAwait(false) is not null)
        {
            return; // replayed, or a later installment: the transaction covers the whole sale
        }

        var create = new TransactionCreateFromCalculationOptions { Calculation = calculation, Reference = order.Id.ToString() };
        Transaction transaction;
        try
        {
            transaction = await new TransactionService(Client).CreateFromCalculationAsync(
                create, new RequestOptions { IdempotencyKey = TransactionKey(order.Id) }, cancellationToken).ConfigureAwait(false);
        }
        catch (StripeException error) when (!IsTransient(error))
        {
            string message =
                $"Stripe Tax refused to record the sale of order {order.Id} (calculation {calculation}): {Describe(error)}. "
                + "The sale is not in Stripe Tax's reports. Record it in the Stripe Dashboard (Tax > Transactions), or fix "
                + "the cause and retry this parked event (FunnelPipeline.RetryParkedAsync).";
            await ParkAsync(paid, order.Lead, message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception error) when (error is StripeException or HttpRequestException)
        {
            throw Unavailable(error, $"record the sale of order {order.Id}");
        }

        var recorded = new StripeTaxTransactionRecorded
        {
            Id = RecordedEventId(order.Id),
            LeadId = order.Lead,
            OccurredAt = services.GetRequiredService<IClock>().GetCurrentInstant(),
            Order = order.Id,
            Calculation = calculation,
            Transaction = transaction.Id,
        };
        await services.GetRequiredService<IFunnelEventLog>().AppendAsync([recorded], cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordRefundAsync(RefundIssued refund, CancellationToken cancellationToken)
    {
        if (await CalculatedOrderAsync(refund.Order, cancellationToken).ConfigureAwait(false) is not var (order, _))
        {
            return;
        }

        if (await RecordedAsync(order, cancellationToken).ConfigureAwait(false) is not { } recorded)
        {
            string missing = $"The refund {refund.Id} of order {order.Id} cannot be reversed in Stripe Tax: the order's sale was "
                + "never recorded (its payment_succeeded is parked by the stripe-tax handler, or was never delivered). Retry "
                + "that parked event first, then this one, or record the refund in the Stripe Dashboard (Tax > Transactions).";
            await ParkAsync(refund, order.Lead, missing, cancellationToken).ConfigureAwait(false);
            return;
        }

        bool full = refund.Amount == order.Total;
        var reverse = new TransactionCreateReversalOptions
        {
            Mode = full ? "full" : "partial",
            OriginalTransaction = recorded.Transaction,
            Reference = refund.Id.ToString(),
            FlatAmount = full ? null : -refund.Amount.MinorUnits,
        };
        try
        {
            await new TransactionService(Client).CreateReversalAsync(
                reverse, new RequestOptions { IdempotencyKey = ReversalKey(refund.Id) }, cancellationToken).ConfigureAwait(false);
        }
        catch (StripeException error) when (!IsTransient(error))
        {
            string message =
                $"Stripe Tax refused to reverse {refund.Amount} of order {order.Id} (transaction {recorded.Transaction}, "
                + $"refund {refund.Id}): {Describe(error)}. Stripe Tax's reports still count the refunded sale. Record the "
                + "reversal in the Stripe Dashboard (Tax > Transactions), or fix the cause and retry this parked event.";
            await ParkAsync(refund, order.Lead, message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is StripeException or HttpRequestException)
        {
            throw Unavailable(error, $"reverse the refund {refund.Id} of order {order.Id}");
        }
    }

    private IStripeClient Client => services.GetRequiredService<StripeTaxClient>().Client;

    private async Task<(Order Order, string Calculation)?> CalculatedOrderAsync(OrderId id, CancellationToken cancellationToken)
    {
        Order? order = await services.GetRequiredService<IOrderStore>().FindAsync(id, cancellationToken).ConfigureAwait(false);
        return order?.Tax?.ProviderCalculationId is { } calculation && calculation.StartsWith(CalculationPrefix, StringComparison.Ordinal)
            ? (order, calculation)
            : null;
    }

    private async Task<StripeTaxTransactionRecorded?> RecordedAsync(Order order, CancellationToken cancellationToken)
    {
        IReadOnlyList<LoggedEvent> events = await services.GetRequiredService<IFunnelEventLog>()
            .ReadLeadAsync(order.Lead, MaxLeadEvents, cancellationToken).ConfigureAwait(false);
        return events.Select(e => e.Event).OfType<StripeTaxTransactionRecorded>().FirstOrDefault(e => e.Order == order.Id);
    }

    /// <summary>Parks the event at once (retrying cannot help), with the message, and logs it as a warning.</summary>
    private async Task ParkAsync(LeadEvent funnelEvent, LeadId lead, string message, CancellationToken cancellationToken)
    {
        ILogger logger = (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger<StripeTaxTransactionsHandler>() ?? NullLogger.Instance;
        Log.Parked(logger, funnelEvent.EventType, funnelEvent.Id.ToString(), message);
        IReadOnlyList<LoggedEvent> events = await services.GetRequiredService<IFunnelEventLog>()
            .ReadLeadAsync(lead, MaxLeadEvents, cancellationToken).ConfigureAwait(false);
        LoggedEvent logged = events.FirstOrDefault(e => e.Event.Id == funnelEvent.Id)
            ?? throw new InvalidOperationException(message); // not in the log: the pipeline retries, then parks it with the message
        await services.GetRequiredService<IParkedEventStore>().TryAddAsync(new ParkedEvent
        {
            Handler = Name, Position = logged.Position, EventId = funnelEvent.Id, EventType = funnelEvent.EventType,
            Attempts = 1, Error = message, ParkedAt = services.GetRequiredService<IClock>().GetCurrentInstant(),
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsTransient(StripeException error) =>
        error.HttpStatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)error.HttpStatusCode >= 500;

    private static string Describe(StripeException error) =>
        error.StripeError?.Code is { } code ? $"{code}: {error.StripeError.Message}" : error.StripeError?.Message ?? error.Message;

    private static PaymentGatewayException Unavailable(Exception error, string what) =>
        new($"Stripe could not be reached to {what} with Stripe Tax; the event is retried.", error) { IsTransient = true };
}

/// <summary>The Stripe client of the <c>stripe-tax</c> handler, created once from <see cref="FunnelStripeOptions"/>.</summary>
internal sealed record StripeTaxClient(IStripeClient Client);

/// <summary>The handler's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe Tax: {EventType} {EventId} is parked: {Reason}")]
    public static partial void Parked(ILogger logger, string eventType, string eventId, string reason);
}
