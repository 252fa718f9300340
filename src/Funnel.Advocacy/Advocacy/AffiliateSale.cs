using System.Collections.Immutable;
using Funnel.Events;

namespace Funnel.Advocacy;

/// <summary>The stored state of one order attributed to an affiliate: its rate, what was paid and refunded, and its ledger entries.</summary>
/// <remarks>
/// <para>
/// The document of <see cref="IAffiliateSaleStore"/>, keyed by <see cref="Order"/>, so an order is attributed once.
/// Earning and clawing back change this one document with a replace-if-version, and record the event's id in
/// <see cref="AppliedEvents"/> in the same write, so a replayed payment or refund never earns or claws back twice.
/// </para>
/// <para>
/// <see cref="Total"/>, <see cref="Paid"/> and <see cref="Refunded"/> are in the order's currency, the sale's
/// original currency; <see cref="Fixed"/>, <see cref="Earned"/>, <see cref="ClawedBack"/> and the entries are in the
/// program's currency. When the two differ, <see cref="ExchangeRate"/> holds the one rate, fixed at attribution, that
/// every payment, refund and dispute of the order converts at.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AffiliateSale
{
    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the affiliate the order is attributed to.</summary>
    public required AffiliateId Affiliate { get; init; }

    /// <summary>Gets the affiliate's 1-based sale number of this order, which fixed its tier.</summary>
    public required int SaleNumber { get; init; }

    /// <summary>Gets the order total, in the order's currency.</summary>
    public required Money Total { get; init; }

    /// <summary>Gets the rate from the order's currency into the program's currency that this sale converts at.</summary>
    /// <remarks>
    /// The major units of the program's currency one major unit of <see cref="Total"/>'s currency buys, found with
    /// the program's <c>IExchangeRates</c> for the UTC date of the order when it was attributed and never looked up
    /// again: the sale's payments, refunds and disputes all convert at it, so a full refund claws back exactly what
    /// was earned whatever the rates later.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: the order is in the program's currency.</value>
    public decimal? ExchangeRate { get; init; }

    /// <summary>Gets the commission percentage fixed at attribution, or <see langword="null"/>.</summary>
    public decimal? Percent { get; init; }

    /// <summary>Gets the fixed commission fixed at attribution, or <see langword="null"/>.</summary>
    public Money? Fixed { get; init; }

    /// <summary>Gets the payments received on the order so far, in the order's currency.</summary>
    public required Money Paid { get; init; }

    /// <summary>Gets the refunds and the chargebacks not won back on the order so far, in the order's currency.</summary>
    public required Money Refunded { get; init; }

    /// <summary>Gets the commission earned on the order so far, before clawbacks, in the program's currency.</summary>
    public required Money Earned { get; init; }

    /// <summary>Gets the commission clawed back on the order so far, in the program's currency.</summary>
    public required Money ClawedBack { get; init; }

    /// <summary>Gets the ids of the payment and refund events applied to the order.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<EventId> AppliedEvents { get; init; } = [];

    /// <summary>Gets the order's ledger entries, in the order they were made.</summary>
    /// <value>Defaults to empty.</value>
    public ImmutableArray<CommissionEntry> Entries { get; init; } = [];

    /// <summary>Gets the stored version: 0 when new, incremented by the store on each replacement.</summary>
    public long Version { get; init; }
}
