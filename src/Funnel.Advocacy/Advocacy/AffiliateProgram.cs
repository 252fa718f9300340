using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Runs an affiliate program: enrolment with approval, tracked links and clicks, attribution, commissions through a refund window, clawbacks and payouts.</summary>
/// <remarks>
/// <para><b>Attribution.</b> <see cref="Apply"/> an <c>order_placed</c> event: the buyer's clicks on approved
/// affiliates' links at or before the order and no older than <see cref="AffiliateProgramSettings.CookieWindow"/>
/// are candidates; clicks on the buyer's own link never count. Of the candidates, the last click wins (first
/// click when configured); of clicks at the same instant, the one recorded last (first) wins.</para>
/// <para><b>Commission.</b> Each <c>payment_succeeded</c> of an attributed order earns commission by the
/// offer's <see cref="CommissionRule"/> (see its remarks for the rounding), pending until
/// <see cref="AffiliateProgramSettings.RefundWindow"/> after the payment. <see cref="ApproveCleared"/> approves
/// those past the window; <see cref="PayOut"/> pays the approved balance when it reaches the minimum.</para>
/// <para><b>Clawback.</b> A <c>refund_issued</c> claws back commission proportionally: after refunds totalling
/// R of payments P on an order that earned C, the order's clawback is <c>round(C × R ÷ P)</c> half away from
/// zero, at most C; each refund claws back the difference to what was already clawed back, so a full refund
/// claws back exactly C.</para>
/// <para>Apply events in the order they happened: a payment or refund applied before its order's
/// <c>order_placed</c> is ignored. An event applied again (same <see cref="FunnelEvent.Id"/>, such as a replayed
/// webhook) is ignored, so it never earns or claws back twice. State is kept in memory; every change returns the events to record, which are
/// the durable history.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe (one lock serialises changes).</threadsafety>
public sealed class AffiliateProgram
{
    private readonly object gate = new();
    private readonly AffiliateProgramSettings settings;
    private readonly IClock clock;
    private readonly Dictionary<AffiliateId, Affiliate> affiliates = [];
    private readonly Dictionary<string, AffiliateId> byCode = new(StringComparer.Ordinal);
    private readonly Dictionary<LeadId, List<Click>> clicksByVisitor = [];
    private readonly Dictionary<AffiliateId, long> clickCounts = [];
    private readonly Dictionary<AffiliateId, int> saleCounts = [];
    private readonly Dictionary<OrderId, Sale> sales = [];
    private readonly List<CommissionEntry> ledger = [];
    private readonly List<Payout> payouts = [];
    private readonly HashSet<EventId> applied = [];
    private long clickSequence;

    /// <summary>Initializes the program.</summary>
    /// <param name="settings">The settings; validated.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The settings are invalid; the errors name the field, such as <c>Rules[0].Percent</c>.</exception>
    public AffiliateProgram(AffiliateProgramSettings settings, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(clock);
        new AffiliateProgramSettingsValidator().ValidateAndThrow(settings);
        this.settings = settings;
        this.clock = clock;
    }

    /// <summary>Gets the settings.</summary>
    public AffiliateProgramSettings Settings => settings;

    /// <summary>Enrols a lead as an affiliate, pending approval.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="code">The tracking code, a valid key not yet taken; <see langword="null"/> to generate one.</param>
    /// <returns>The pending affiliate and its <c>affiliate_applied</c> event.</returns>
    /// <exception cref="ArgumentException">The code is not a valid key or is taken, or the lead is already enrolled.</exception>
    public (Affiliate Affiliate, ImmutableArray<FunnelEvent> Events) Enrol(LeadId lead, string? code = null)
    {
        if (code is not null && !Key.IsValid(code))
        {
            throw new ArgumentException("'code' must be a valid key (lowercase letters, digits, '-', '_', '.').", nameof(code));
        }

        lock (gate)
        {
            if (affiliates.Values.Any(a => a.Lead == lead))
            {
                throw new ArgumentException($"Lead {lead} is already enrolled.", nameof(lead));
            }

            code ??= "a" + Guid.NewGuid().ToString("N")[..10];
            if (byCode.ContainsKey(code))
            {
                throw new ArgumentException($"The code '{code}' is taken.", nameof(code));
            }

            Instant now = clock.GetCurrentInstant();
            var affiliate = new Affiliate { Id = AffiliateId.New(), Lead = lead, Code = code, Status = AffiliateStatus.Pending, AppliedAt = now };
            affiliates[affiliate.Id] = affiliate;
            byCode[code] = affiliate.Id;
            return (affiliate, [new AffiliateApplied { LeadId = lead, OccurredAt = now, Code = code }]);
        }
    }

    /// <summary>Approves or rejects a pending affiliate.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="approve"><see langword="true"/> to approve, <see langword="false"/> to reject.</param>
    /// <returns>The affiliate and, when approved, its <c>affiliate_approved</c> event.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    /// <exception cref="InvalidOperationException">The affiliate is not pending.</exception>
    public (Affiliate Affiliate, ImmutableArray<FunnelEvent> Events) Decide(AffiliateId id, bool approve)
    {
        lock (gate)
        {
            Affiliate affiliate = Get(id);
            if (affiliate.Status != AffiliateStatus.Pending)
            {
                throw new InvalidOperationException($"Affiliate {id} is {affiliate.Status}, not pending.");
            }

            Instant now = clock.GetCurrentInstant();
            affiliate = affiliate with { Status = approve ? AffiliateStatus.Approved : AffiliateStatus.Rejected, DecidedAt = now };
            affiliates[id] = affiliate;
            return (affiliate, approve ? [new AffiliateApproved { LeadId = affiliate.Lead, OccurredAt = now, Code = affiliate.Code }] : []);
        }
    }

    /// <summary>Returns an affiliate.</summary>
    /// <param name="id">The affiliate id.</param>
    /// <returns>The affiliate.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public Affiliate GetAffiliate(AffiliateId id)
    {
        lock (gate)
        {
            return Get(id);
        }
    }

    /// <summary>Returns the tracked link of an affiliate to a page: the page with <c>ref=</c> and the code added to its query.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="page">The absolute page URL, such as the sales page.</param>
    /// <returns>The link, such as <c>https://example.com/masterclass?ref=sarah</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="page"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not absolute.</exception>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public Uri LinkFor(AffiliateId id, Uri page)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (!page.IsAbsoluteUri)
        {
            throw new ArgumentException("'page' must be an absolute URL.", nameof(page));
        }

        string code = GetAffiliate(id).Code;
        var builder = new UriBuilder(page);
        string query = builder.Query.TrimStart('?');
        builder.Query = (query.Length == 0 ? string.Empty : query + "&") + "ref=" + Uri.EscapeDataString(code);
        return builder.Uri;
    }

    /// <summary>Records a click on an affiliate link by a visitor.</summary>
    /// <param name="code">The code from the link's <c>ref</c> parameter.</param>
    /// <param name="visitor">The visitor's lead id.</param>
    /// <returns>The <c>affiliate_link_clicked</c> event, or nothing when the code is unknown, the affiliate is not approved, or the visitor is the affiliate.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    public ImmutableArray<FunnelEvent> RecordClick(string code, LeadId visitor)
    {
        ArgumentNullException.ThrowIfNull(code);
        lock (gate)
        {
            if (!byCode.TryGetValue(code, out AffiliateId id) || affiliates[id] is not { Status: AffiliateStatus.Approved } affiliate || affiliate.Lead == visitor)
            {
                return [];
            }

            Instant now = clock.GetCurrentInstant();
            if (!clicksByVisitor.TryGetValue(visitor, out List<Click>? clicks))
            {
                clicksByVisitor[visitor] = clicks = [];
            }

            clicks.Add(new Click(id, now, clickSequence++));
            clickCounts[id] = clickCounts.GetValueOrDefault(id) + 1;
            return [new AffiliateLinkClicked { LeadId = visitor, OccurredAt = now, Code = code }];
        }
    }

    /// <summary>Applies an order, payment or refund event: attributes orders, earns commission on payments, claws back on refunds.</summary>
    /// <param name="e">The event; other events, and an event already applied (same <see cref="FunnelEvent.Id"/>), are ignored.</param>
    /// <returns>The events to record: <c>affiliate_sale_attributed</c>, <c>commission_earned</c> or <c>commission_clawed_back</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="e"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">An amount is in another currency than the program's.</exception>
    public ImmutableArray<FunnelEvent> Apply(FunnelEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (gate)
        {
            bool tracked = (e is OrderPlaced or PaymentSucceeded or RefundIssued) && e.Id != default;
            if (tracked && applied.Contains(e.Id))
            {
                return [];
            }

            ImmutableArray<FunnelEvent> result = e switch
            {
                OrderPlaced order => Attribute(order),
                PaymentSucceeded payment => Earn(payment),
                RefundIssued refund => ClawBack(refund),
                _ => [],
            };

            // Marked only once applied, so an event that threw (another currency) is not swallowed on retry.
            if (tracked)
            {
                applied.Add(e.Id);
            }

            return result;
        }
    }

    /// <summary>Returns the affiliate an order is attributed to.</summary>
    /// <param name="order">The order.</param>
    /// <returns>The affiliate, or <see langword="null"/> when the order is not attributed.</returns>
    public AffiliateId? AttributedTo(OrderId order)
    {
        lock (gate)
        {
            return sales.TryGetValue(order, out Sale? sale) ? sale.Affiliate : null;
        }
    }

    /// <summary>Approves every pending commission whose refund window has passed.</summary>
    /// <returns>The <c>commission_approved</c> events, one per approved entry with a non-zero amount.</returns>
    public ImmutableArray<FunnelEvent> ApproveCleared()
    {
        lock (gate)
        {
            Instant now = clock.GetCurrentInstant();
            var events = ImmutableArray.CreateBuilder<FunnelEvent>();
            for (int i = 0; i < ledger.Count; i++)
            {
                CommissionEntry entry = ledger[i];
                if (entry.Status == CommissionStatus.Pending && entry.ClearsAt <= now)
                {
                    ledger[i] = entry with { Status = CommissionStatus.Approved };
                    if (!entry.Amount.IsZero)
                    {
                        Affiliate affiliate = affiliates[entry.Affiliate];
                        events.Add(new CommissionApproved { LeadId = affiliate.Lead, OccurredAt = now, Code = affiliate.Code, Order = entry.Order, Amount = entry.Amount });
                    }
                }
            }

            return events.ToImmutable();
        }
    }

    /// <summary>Pays an affiliate's approved balance, when it is positive and at least the minimum payout.</summary>
    /// <param name="id">The affiliate.</param>
    /// <returns>The payout and its <c>affiliate_paid_out</c> event, or <see langword="null"/> and no event when the balance is too small.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public (Payout? Payout, ImmutableArray<FunnelEvent> Events) PayOut(AffiliateId id)
    {
        lock (gate)
        {
            Affiliate affiliate = Get(id);
            Money balance = Money.Zero(settings.Currency);
            var included = new List<int>();
            for (int i = 0; i < ledger.Count; i++)
            {
                if (ledger[i].Affiliate == id && ledger[i].Status == CommissionStatus.Approved)
                {
                    balance += ledger[i].Amount;
                    included.Add(i);
                }
            }

            if (!balance.IsPositive || (settings.MinimumPayout is { } minimum && balance < minimum))
            {
                return (null, []);
            }

            Instant now = clock.GetCurrentInstant();
            var payout = new Payout(Guid.CreateVersion7(), id, balance, now, [.. included.Select(i => ledger[i].Id)]);
            foreach (int i in included)
            {
                ledger[i] = ledger[i] with { Status = CommissionStatus.Paid, Payout = payout.Id };
            }

            payouts.Add(payout);
            return (payout, [new AffiliatePaidOut { LeadId = affiliate.Lead, OccurredAt = now, Code = affiliate.Code, Amount = balance }]);
        }
    }

    /// <summary>Returns an affiliate's ledger entries, oldest first.</summary>
    /// <param name="id">The affiliate.</param>
    /// <returns>The entries.</returns>
    public ImmutableArray<CommissionEntry> Ledger(AffiliateId id)
    {
        lock (gate)
        {
            return [.. ledger.Where(e => e.Affiliate == id)];
        }
    }

    /// <summary>Returns the payouts made to an affiliate, oldest first.</summary>
    /// <param name="id">The affiliate.</param>
    /// <returns>The payouts.</returns>
    public ImmutableArray<Payout> Payouts(AffiliateId id)
    {
        lock (gate)
        {
            return [.. payouts.Where(p => p.Affiliate == id)];
        }
    }

    /// <summary>Returns an affiliate's KPIs.</summary>
    /// <param name="id">The affiliate.</param>
    /// <returns>Clicks, conversions, sales, commission, EPC and commission cost per sale.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public AffiliateStats Stats(AffiliateId id)
    {
        lock (gate)
        {
            Get(id);
            Money salesTotal = Money.Sum(sales.Values.Where(s => s.Affiliate == id).Select(s => s.Total), settings.Currency);
            Money commission = Money.Sum(ledger.Where(e => e.Affiliate == id).Select(e => e.Amount), settings.Currency);
            Money paid = Money.Sum(payouts.Where(p => p.Affiliate == id).Select(p => p.Amount), settings.Currency);
            return new AffiliateStats(id, clickCounts.GetValueOrDefault(id), saleCounts.GetValueOrDefault(id), salesTotal, commission, paid);
        }
    }

    private Affiliate Get(AffiliateId id) =>
        affiliates.TryGetValue(id, out Affiliate? affiliate) ? affiliate : throw new KeyNotFoundException($"No affiliate has the id {id}.");

    private ImmutableArray<FunnelEvent> Attribute(OrderPlaced order)
    {
        if (sales.ContainsKey(order.Order) || !clicksByVisitor.TryGetValue(order.LeadId, out List<Click>? clicks))
        {
            return [];
        }

        Money total = InCurrency(order.Total);
        Instant earliest = order.OccurredAt - settings.CookieWindow;
        Click? winner = null;
        foreach (Click click in clicks)
        {
            if (click.At > order.OccurredAt || click.At < earliest || affiliates[click.Affiliate] is not { Status: AffiliateStatus.Approved } a || a.Lead == order.LeadId)
            {
                continue;
            }

            bool better = winner is not { } w
                || (settings.Attribution == AffiliateAttributionModel.LastClick
                    ? click.At > w.At || (click.At == w.At && click.Sequence > w.Sequence)
                    : click.At < w.At || (click.At == w.At && click.Sequence < w.Sequence));
            if (better)
            {
                winner = click;
            }
        }

        if (winner is not { } won)
        {
            return [];
        }

        int saleNumber = saleCounts.GetValueOrDefault(won.Affiliate) + 1;
        saleCounts[won.Affiliate] = saleNumber;
        (decimal? percent, Money? fixedAmount) = RateFor(order.Offer, saleNumber);
        Money zero = Money.Zero(settings.Currency);
        sales[order.Order] = new Sale(won.Affiliate, total, percent, fixedAmount) { Paid = zero, Refunded = zero, Earned = zero, ClawedBack = zero };
        Affiliate affiliate = affiliates[won.Affiliate];
        return [new AffiliateSaleAttributed { LeadId = order.LeadId, OccurredAt = order.OccurredAt, Code = affiliate.Code, Order = order.Order, Amount = total }];
    }

    private (decimal? Percent, Money? Fixed) RateFor(OfferId offer, int saleNumber)
    {
        CommissionRule? rule = settings.Rules.FirstOrDefault(r => r.Offer == offer) ?? settings.Rules.FirstOrDefault(r => r.Offer is null);
        if (rule is null)
        {
            return (null, null);
        }

        CommissionTier? tier = rule.Tiers.IsDefault ? null : rule.Tiers.LastOrDefault(t => t.FromSale <= saleNumber);
        return tier is null ? (rule.Percent, rule.Fixed) : (tier.Percent, tier.Fixed);
    }

    private ImmutableArray<FunnelEvent> Earn(PaymentSucceeded payment)
    {
        if (!sales.TryGetValue(payment.Order, out Sale? sale))
        {
            return [];
        }

        sale.Paid += InCurrency(payment.Amount);
        Money target = CommissionOn(sale, sale.Paid);
        Money delta = target - sale.Earned;
        if (!delta.IsPositive)
        {
            return [];
        }

        sale.Earned = target;
        ledger.Add(new CommissionEntry
        {
            Id = Guid.CreateVersion7(),
            Affiliate = sale.Affiliate,
            Order = payment.Order,
            Amount = delta,
            ClawedBack = Money.Zero(settings.Currency),
            EarnedAt = payment.OccurredAt,
            ClearsAt = payment.OccurredAt + settings.RefundWindow,
            Status = CommissionStatus.Pending,
        });
        Affiliate affiliate = affiliates[sale.Affiliate];
        return [new CommissionEarned { LeadId = affiliate.Lead, OccurredAt = payment.OccurredAt, Code = affiliate.Code, Order = payment.Order, Amount = delta }];
    }

    /// <summary>The commission on an order after <paramref name="paid"/> has been paid: the rule applied to the paid amount, rounded once.</summary>
    internal static Money CommissionOn(decimal? percent, Money? fixedAmount, Money total, Money paid)
    {
        if (percent is { } p)
        {
            return paid.Percentage(p, MidpointRounding.AwayFromZero);
        }

        if (fixedAmount is { } f && total.IsPositive)
        {
            long capped = Math.Min(paid.MinorUnits, total.MinorUnits);
            return new Money(MulDiv(f.MinorUnits, capped, total.MinorUnits), f.Currency);
        }

        return Money.Zero(paid.Currency);
    }

    private static Money CommissionOn(Sale sale, Money paid) => CommissionOn(sale.Percent, sale.Fixed, sale.Total, paid);

    private ImmutableArray<FunnelEvent> ClawBack(RefundIssued refund)
    {
        if (!sales.TryGetValue(refund.Order, out Sale? sale) || !sale.Paid.IsPositive)
        {
            return [];
        }

        sale.Refunded += InCurrency(refund.Amount);
        long refunded = Math.Min(sale.Refunded.MinorUnits, sale.Paid.MinorUnits);
        Money target = new(MulDiv(sale.Earned.MinorUnits, refunded, sale.Paid.MinorUnits), settings.Currency);
        Money delta = target - sale.ClawedBack;
        if (!delta.IsPositive)
        {
            return [];
        }

        sale.ClawedBack = target;
        Money remaining = delta;
        for (int i = ledger.Count - 1; i >= 0 && remaining.IsPositive; i--)
        {
            CommissionEntry entry = ledger[i];
            if (entry.Order == refund.Order && entry.Status == CommissionStatus.Pending && entry.Amount.IsPositive)
            {
                Money take = entry.Amount < remaining ? entry.Amount : remaining;
                ledger[i] = entry with { Amount = entry.Amount - take, ClawedBack = entry.ClawedBack + take };
                remaining -= take;
            }
        }

        if (remaining.IsPositive)
        {
            ledger.Add(new CommissionEntry
            {
                Id = Guid.CreateVersion7(),
                Affiliate = sale.Affiliate,
                Order = refund.Order,
                Amount = -remaining,
                ClawedBack = Money.Zero(settings.Currency),
                EarnedAt = refund.OccurredAt,
                ClearsAt = refund.OccurredAt,
                Status = CommissionStatus.Approved,
            });
        }

        Affiliate affiliate = affiliates[sale.Affiliate];
        return [new CommissionClawedBack { LeadId = affiliate.Lead, OccurredAt = refund.OccurredAt, Code = affiliate.Code, Order = refund.Order, Amount = delta }];
    }

    private Money InCurrency(Money amount) => amount.Currency == settings.Currency
        ? amount
        : throw new InvalidOperationException($"The amount {amount} is not in the program's currency {settings.Currency}.");

    /// <summary>a × b ÷ c for non-negative a, b and positive c, rounded half away from zero.</summary>
    internal static long MulDiv(long a, long b, long c)
    {
        Int128 product = (Int128)a * b;
        Int128 quotient = Int128.DivRem(product, c).Quotient;
        Int128 remainder = product - (quotient * c);
        if (remainder * 2 >= c)
        {
            quotient++;
        }

        return checked((long)quotient);
    }

    private readonly record struct Click(AffiliateId Affiliate, Instant At, long Sequence);

    private sealed record Sale(AffiliateId Affiliate, Money Total, decimal? Percent, Money? Fixed)
    {
        public required Money Paid { get; set; }

        public required Money Refunded { get; set; }

        public required Money Earned { get; set; }

        public required Money ClawedBack { get; set; }
    }
}
