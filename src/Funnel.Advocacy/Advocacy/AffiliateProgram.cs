using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using Funnel.Currencies;
using Funnel.Events;
using Funnel.Payments;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Advocacy;

/// <summary>Runs an affiliate program: enrolment with approval, tracked links and clicks, attribution, commissions through a refund window, clawbacks and payouts.</summary>
/// <remarks>
/// <para><b>Attribution.</b> <see cref="ApplyAsync"/> an <c>order_placed</c> event: the buyer's clicks on approved
/// affiliates' links at or before the order and no older than <see cref="AffiliateProgramSettings.CookieWindow"/>
/// are candidates; clicks on the buyer's own link never count. Of the candidates, the last click wins (first
/// click when configured); of clicks at the same instant, the one recorded last (first) wins.</para>
/// <para><b>Commission.</b> Each <c>payment_succeeded</c> of an attributed order earns commission by the
/// offer's <see cref="CommissionRule"/> (see its remarks for the rounding), pending until
/// <see cref="AffiliateProgramSettings.RefundWindow"/> after the payment. <see cref="ApproveClearedAsync"/> approves
/// those past the window; <see cref="PayOutAsync"/> pays the approved balance when it reaches the minimum.</para>
/// <para><b>Recording.</b> Every call that changes state appends the events it produced to the
/// <see cref="IFunnelEventLog"/> itself, right after the store change; results carry them only as a record of what
/// was appended. A process stopped between the store change and the append loses those events (the stores here
/// cannot write both atomically).</para>
/// <para><b>Clawback.</b> A <c>refund_issued</c> (or a <c>payment_disputed</c> chargeback) claws back commission proportionally: after refunds totalling
/// R of payments P on an order that earned C, the order's clawback is <c>round(C × R ÷ P)</c> half away from
/// zero, at most C; each refund claws back the difference to what was already clawed back, so a full refund
/// claws back exactly C. A chargeback the seller wins (a <c>dispute_closed</c> with <c>Won</c>) takes its amount out of
/// R again, and the commission that brings back is earned anew: a pending entry that clears after the refund window.
/// A lost dispute changes nothing more.</para>
/// <para><b>Currencies.</b> Commissions, ledger entries, payouts and the events the program records are in
/// <see cref="AffiliateProgramSettings.Currency"/>. An order in another currency is converted with the
/// <see cref="IExchangeRates"/> given to the constructor, at one rate per sale: the rate of the order's UTC date,
/// looked up when the order is attributed and kept on the sale (<see cref="AffiliateSale.ExchangeRate"/>). Its
/// payments, refunds and disputes convert at that same rate, whenever they happen, so a full refund claws back exactly
/// the commission earned. The commission on a payment is the rule applied to the paid amount converted at that rate
/// (half to even, as <see cref="CurrencyConversion.Convert(Money, decimal, Currency)"/> rounds); the clawback share
/// is computed in the order's currency, exactly. Without rates, or without a rate for the order's date, attributing
/// such an order throws, and the <c>affiliates</c> handler parks the event until it is retried.</para>
/// <para>Apply events in the order they happened: a payment or refund applied before its order's
/// <c>order_placed</c> is ignored. An event applied again (same <see cref="FunnelEvent.Id"/>, such as a replayed
/// webhook) is ignored, so it never earns or claws back twice.</para>
/// <para><b>Storage.</b> The program keeps no state of its own: affiliates, clicks, attributed sales (with their
/// ledger entries) and payouts live in <see cref="IAffiliateStore"/>, <see cref="IAffiliateClickStore"/>,
/// <see cref="IAffiliateSaleStore"/> and <see cref="IAffiliatePayoutStore"/>. Each change is a read and a
/// replace-if-version, retried when a concurrent change wins. An order is attributed once (its sale is keyed by
/// order), and a payment or refund is recorded on its sale in the same write as the commission it moves, so a
/// replayed event never pays twice, also across processes. A payout first marks its entries paid, sale by sale,
/// then stores the payout: a process stopped in between leaves entries marked with a payout id that was never
/// stored, never paid twice.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe when the stores are.</threadsafety>
public sealed class AffiliateProgram
{
    private const int Page = 200;
    private const int MaxClicksPerOrder = 1_000;

    private readonly AffiliateProgramSettings _settings;
    private readonly IAffiliateStore _affiliates;
    private readonly IAffiliateClickStore _clicks;
    private readonly IAffiliateSaleStore _sales;
    private readonly IAffiliatePayoutStore _payouts;
    private readonly IClock _clock;
    private readonly IFunnelEventLog _log;
    private readonly IExchangeRates? _exchangeRates;

    /// <summary>Initializes the program for sales in its own currency only.</summary>
    /// <param name="settings">The settings; validated.</param>
    /// <param name="affiliates">The store of affiliates.</param>
    /// <param name="clicks">The store of link clicks.</param>
    /// <param name="sales">The store of attributed sales and their commission ledgers.</param>
    /// <param name="payouts">The store of payouts.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <param name="log">The event log the program records its events in.</param>
    /// <remarks>An order in another currency than <see cref="AffiliateProgramSettings.Currency"/> that an affiliate
    /// would earn on makes <see cref="ApplyAsync"/> throw; give <see cref="IExchangeRates"/> to the other constructor to
    /// commission it.</remarks>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The settings are invalid; the errors name the field, such as <c>Rules[0].Percent</c>.</exception>
    public AffiliateProgram(
        AffiliateProgramSettings settings,
        IAffiliateStore affiliates,
        IAffiliateClickStore clicks,
        IAffiliateSaleStore sales,
        IAffiliatePayoutStore payouts,
        IClock clock,
        IFunnelEventLog log)
        : this(settings, affiliates, clicks, sales, payouts, clock, log, exchangeRates: null)
    {
    }

    /// <summary>Initializes the program, converting sales in other currencies with exchange rates.</summary>
    /// <param name="settings">The settings; validated.</param>
    /// <param name="affiliates">The store of affiliates.</param>
    /// <param name="clicks">The store of link clicks.</param>
    /// <param name="sales">The store of attributed sales and their commission ledgers.</param>
    /// <param name="payouts">The store of payouts.</param>
    /// <param name="clock">The clock for "now".</param>
    /// <param name="log">The event log the program records its events in.</param>
    /// <param name="exchangeRates">
    /// The rates that convert an order in another currency into <see cref="AffiliateProgramSettings.Currency"/>, at
    /// the rate of the order's UTC date, kept on the sale; <see langword="null"/> to accept only orders in the program's
    /// currency. <c>AddFunnel</c> passes the <see cref="IExchangeRates"/> registered in the container.
    /// </param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="exchangeRates"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The settings are invalid; the errors name the field, such as <c>Rules[0].Percent</c>.</exception>
    public AffiliateProgram(
        AffiliateProgramSettings settings,
        IAffiliateStore affiliates,
        IAffiliateClickStore clicks,
        IAffiliateSaleStore sales,
        IAffiliatePayoutStore payouts,
        IClock clock,
        IFunnelEventLog log,
        IExchangeRates? exchangeRates)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(affiliates);
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(sales);
        ArgumentNullException.ThrowIfNull(payouts);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        new AffiliateProgramSettingsValidator().ValidateAndThrow(settings);
        _settings = settings;
        _affiliates = affiliates;
        _clicks = clicks;
        _sales = sales;
        _payouts = payouts;
        _clock = clock;
        _log = log;
        _exchangeRates = exchangeRates;
    }

    /// <summary>Gets the settings.</summary>
    public AffiliateProgramSettings Settings => _settings;

    /// <summary>Enrols a lead as an affiliate, pending approval.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="code">The tracking code, a valid key not yet taken; <see langword="null"/> to generate one.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pending affiliate and the <c>affiliate_applied</c> event this call recorded (already in the log; do not append it again).</returns>
    /// <exception cref="ArgumentException">The code is not a valid key or is taken, or the lead is already enrolled.</exception>
    public async Task<(Affiliate Affiliate, ImmutableArray<FunnelEvent> Events)> EnrolAsync(
        LeadId lead, string? code = null, CancellationToken cancellationToken = default)
    {
        if (code is not null && !Key.IsValid(code))
        {
            throw new ArgumentException("'code' must be a valid key (lowercase letters, digits, '-', '_', '.').", nameof(code));
        }

        code ??= "a" + Guid.NewGuid().ToString("N")[..10];
        Instant now = _clock.GetCurrentInstant();
        var affiliate = new Affiliate { Id = AffiliateId.New(), Lead = lead, Code = code, Status = AffiliateStatus.Pending, AppliedAt = now };
        if (!await _affiliates.TryAddAsync(affiliate, cancellationToken).ConfigureAwait(false))
        {
            Affiliate? holder = await _affiliates.FindByCodeAsync(code, cancellationToken).ConfigureAwait(false);
            throw holder is not null && holder.Lead != lead
                ? new ArgumentException($"The code '{code}' is taken.", nameof(code))
                : new ArgumentException($"Lead {lead} is already enrolled.", nameof(lead));
        }

        return (affiliate, await _log.RecordAsync([new AffiliateApplied { LeadId = lead, OccurredAt = now, Code = code }], cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Approves or rejects a pending affiliate.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="approve"><see langword="true"/> to approve, <see langword="false"/> to reject.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The affiliate and, when approved, the <c>affiliate_approved</c> event this call recorded (already in the log; do not append it again).</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    /// <exception cref="InvalidOperationException">The affiliate is not pending, or concurrent changes kept winning.</exception>
    public async Task<(Affiliate Affiliate, ImmutableArray<FunnelEvent> Events)> DecideAsync(
        AffiliateId id, bool approve, CancellationToken cancellationToken = default)
    {
        (Affiliate decided, ImmutableArray<FunnelEvent> events) = await OptimisticConcurrency.RetryAsync<(Affiliate, ImmutableArray<FunnelEvent>)>(
            async ct =>
            {
                Affiliate affiliate = await GetAsync(id, ct).ConfigureAwait(false);
                if (affiliate.Status != AffiliateStatus.Pending)
                {
                    throw new InvalidOperationException($"Affiliate {id} is {affiliate.Status}, not pending.");
                }

                Instant now = _clock.GetCurrentInstant();
                Affiliate decided = affiliate with { Status = approve ? AffiliateStatus.Approved : AffiliateStatus.Rejected, DecidedAt = now };
                if (!await _affiliates.TryUpdateAsync(affiliate, decided, ct).ConfigureAwait(false))
                {
                    return (false, default);
                }

                decided = decided with { Version = affiliate.Version + 1 };
                return (true, (decided, approve ? [new AffiliateApproved { LeadId = decided.Lead, OccurredAt = now, Code = decided.Code }] : []));
            },
            $"affiliate {id}",
            cancellationToken).ConfigureAwait(false);
        return (decided, await _log.RecordAsync(events, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Returns an affiliate.</summary>
    /// <param name="id">The affiliate id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The affiliate.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public Task<Affiliate> GetAffiliateAsync(AffiliateId id, CancellationToken cancellationToken = default) => GetAsync(id, cancellationToken);

    /// <summary>Returns the tracked link of an affiliate to a page: the page with <c>ref=</c> and the code added to its query.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="page">The absolute page URL, such as the sales page.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The link, such as <c>https://example.com/masterclass?ref=sarah</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="page"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="page"/> is not absolute.</exception>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public async Task<Uri> LinkForAsync(AffiliateId id, Uri page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (!page.IsAbsoluteUri)
        {
            throw new ArgumentException("'page' must be an absolute URL.", nameof(page));
        }

        string code = (await GetAsync(id, cancellationToken).ConfigureAwait(false)).Code;
        var builder = new UriBuilder(page);
        string query = builder.Query.TrimStart('?');
        builder.Query = (query.Length == 0 ? string.Empty : query + "&") + "ref=" + Uri.EscapeDataString(code);
        return builder.Uri;
    }

    /// <summary>Records a click on an affiliate link by a visitor.</summary>
    /// <param name="code">The code from the link's <c>ref</c> parameter.</param>
    /// <param name="visitor">The visitor's lead id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The <c>affiliate_link_clicked</c> event this call recorded (already in the log; do not append it again), or nothing when the code is unknown, the affiliate is not approved, or the visitor is the affiliate.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="code"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the affiliate's click count kept winning.</exception>
    public async Task<ImmutableArray<FunnelEvent>> RecordClickAsync(string code, LeadId visitor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (await _affiliates.FindByCodeAsync(code, cancellationToken).ConfigureAwait(false) is not { Status: AffiliateStatus.Approved } affiliate
            || affiliate.Lead == visitor)
        {
            return [];
        }

        Instant now = _clock.GetCurrentInstant();
        var click = new AffiliateClick { Id = Guid.CreateVersion7(), Affiliate = affiliate.Id, Visitor = visitor, At = now };
        await _clicks.TryAddAsync(click, cancellationToken).ConfigureAwait(false);
        await UpdateAffiliateAsync(affiliate.Id, a => a with { Clicks = a.Clicks + 1 }, cancellationToken).ConfigureAwait(false);
        return await _log.RecordAsync([new AffiliateLinkClicked { LeadId = visitor, OccurredAt = now, Code = code }], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies an order, payment, refund or chargeback event: attributes orders, earns commission on payments, claws back on refunds and disputes.</summary>
    /// <remarks>
    /// The <c>affiliates</c> handler of <c>AddFunnelAdvocacy</c> calls this for every logged event; call it yourself
    /// only when you run the program without the pipeline. A <c>payment_disputed</c> (chargeback) claws back like a
    /// refund of the disputed amount; a <c>dispute_closed</c> the seller won earns that share back as a new pending
    /// commission (it clears after the refund window like any other). The events recorded take ids derived from
    /// <paramref name="e"/>'s id, so a redelivered event records nothing twice.
    /// </remarks>
    /// <param name="e">The event; other events, and an event already applied (same <see cref="FunnelEvent.Id"/>), are ignored.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events this call recorded (already in the log; do not append them again): <c>affiliate_sale_attributed</c>, <c>commission_earned</c> or <c>commission_clawed_back</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="e"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// An attributed order is in another currency than the program's and there are no exchange rates, or no rate
    /// from its currency on its UTC date (the message names both currencies, the date and <see cref="IExchangeRates"/>);
    /// a payment, refund or dispute is in another currency than its order; or concurrent changes kept winning.
    /// </exception>
    public async Task<ImmutableArray<FunnelEvent>> ApplyAsync(FunnelEvent e, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(e);
        ImmutableArray<FunnelEvent> events = await (e switch
        {
            OrderPlaced order => AttributeAsync(order, cancellationToken),
            PaymentSucceeded payment => ChangeSaleAsync(payment.Order, e.Id, (sale, affiliate) => Earn(sale, affiliate, payment), cancellationToken),
            RefundIssued refund => ChangeSaleAsync(
                refund.Order, e.Id, (sale, affiliate) => ClawBack(sale, affiliate, refund.Id, refund.Order, refund.Amount, refund.OccurredAt), cancellationToken),
            PaymentDisputed dispute => ChangeSaleAsync(
                dispute.Order, e.Id, (sale, affiliate) => ClawBack(sale, affiliate, dispute.Id, dispute.Order, dispute.Amount, dispute.OccurredAt), cancellationToken),
            DisputeClosed { Won: true } won => ChangeSaleAsync(won.Order, e.Id, (sale, affiliate) => EarnBack(sale, affiliate, won), cancellationToken),
            _ => Task.FromResult(ImmutableArray<FunnelEvent>.Empty),
        }).ConfigureAwait(false);
        return await _log.RecordAsync(events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the affiliate an order is attributed to.</summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The affiliate, or <see langword="null"/> when the order is not attributed.</returns>
    public async Task<AffiliateId?> AttributedToAsync(OrderId order, CancellationToken cancellationToken = default) =>
        (await _sales.FindAsync(order, cancellationToken).ConfigureAwait(false))?.Affiliate;

    /// <summary>Approves every pending commission whose refund window has passed.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The <c>commission_approved</c> events this call recorded (already in the log; do not append them again), one per approved entry with a non-zero amount.</returns>
    /// <exception cref="InvalidOperationException">Concurrent changes to a sale kept winning.</exception>
    public async Task<ImmutableArray<FunnelEvent>> ApproveClearedAsync(CancellationToken cancellationToken = default)
    {
        Instant now = _clock.GetCurrentInstant();
        var events = ImmutableArray.CreateBuilder<FunnelEvent>();
        while (true)
        {
            ImmutableArray<AffiliateSale> page = await _sales.ListClearedAsync(now, Page, cancellationToken).ConfigureAwait(false);
            foreach (AffiliateSale listed in page)
            {
                ImmutableArray<FunnelEvent> approved = await OptimisticConcurrency.RetryAsync<ImmutableArray<FunnelEvent>>(
                    async ct =>
                    {
                        AffiliateSale? sale = await _sales.FindAsync(listed.Order, ct).ConfigureAwait(false);
                        if (sale is null || !sale.Entries.Any(x => x.Status == CommissionStatus.Pending && x.ClearsAt <= now))
                        {
                            return (true, []);
                        }

                        Affiliate affiliate = await GetAsync(sale.Affiliate, ct).ConfigureAwait(false);
                        var result = ImmutableArray.CreateBuilder<FunnelEvent>();
                        ImmutableArray<CommissionEntry> entries = [.. sale.Entries.Select(entry =>
                        {
                            if (entry.Status != CommissionStatus.Pending || entry.ClearsAt > now)
                            {
                                return entry;
                            }

                            if (!entry.Amount.IsZero)
                            {
                                result.Add(new CommissionApproved { LeadId = affiliate.Lead, OccurredAt = now, Code = affiliate.Code, Order = entry.Order, Amount = entry.Amount });
                            }

                            return entry with { Status = CommissionStatus.Approved };
                        })];
                        bool won = await _sales.TryUpdateAsync(sale, sale with { Entries = entries }, ct).ConfigureAwait(false);
                        return (won, won ? result.ToImmutable() : []);
                    },
                    $"the sale of order {listed.Order}",
                    cancellationToken).ConfigureAwait(false);
                events.AddRange(await _log.RecordAsync(approved, cancellationToken).ConfigureAwait(false));
            }

            if (page.Length < Page)
            {
                return events.ToImmutable();
            }
        }
    }

    /// <summary>Pays an affiliate's approved balance, when it is positive and at least the minimum payout.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The payout and the <c>affiliate_paid_out</c> event this call recorded (already in the log; do not append it again), or <see langword="null"/> and no event when the balance is too small.</returns>
    /// <remarks>Each approved entry is marked paid with a replace-if-version of its sale, so of two concurrent payouts each entry is paid by one; the payout holds the entries this call marked.</remarks>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to a sale kept winning.</exception>
    public async Task<(Payout? Payout, ImmutableArray<FunnelEvent> Events)> PayOutAsync(AffiliateId id, CancellationToken cancellationToken = default)
    {
        Affiliate affiliate = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        ImmutableArray<AffiliateSale> sales = await AllSalesAsync(id, cancellationToken).ConfigureAwait(false);
        Money balance = Money.Sum(sales.SelectMany(s => s.Entries).Where(x => x.Status == CommissionStatus.Approved).Select(x => x.Amount), _settings.Currency);
        if (!balance.IsPositive || (_settings.MinimumPayout is { } minimum && balance < minimum))
        {
            return (null, []);
        }

        Guid payoutId = Guid.CreateVersion7();
        var paid = new List<CommissionEntry>();
        foreach (AffiliateSale listed in sales.Where(s => s.Entries.Any(x => x.Status == CommissionStatus.Approved)))
        {
            ImmutableArray<CommissionEntry> marked = await OptimisticConcurrency.RetryAsync<ImmutableArray<CommissionEntry>>(
                async ct =>
                {
                    AffiliateSale? sale = await _sales.FindAsync(listed.Order, ct).ConfigureAwait(false);
                    if (sale is null || !sale.Entries.Any(x => x.Status == CommissionStatus.Approved))
                    {
                        return (true, []);
                    }

                    ImmutableArray<CommissionEntry> mine = [.. sale.Entries.Where(x => x.Status == CommissionStatus.Approved)];
                    ImmutableArray<CommissionEntry> entries = [.. sale.Entries.Select(x => x.Status == CommissionStatus.Approved
                        ? x with { Status = CommissionStatus.Paid, Payout = payoutId }
                        : x)];
                    bool won = await _sales.TryUpdateAsync(sale, sale with { Entries = entries }, ct).ConfigureAwait(false);
                    return (won, mine);
                },
                $"the sale of order {listed.Order}",
                cancellationToken).ConfigureAwait(false);
            paid.AddRange(marked);
        }

        Money amount = Money.Sum(paid.Select(x => x.Amount), _settings.Currency);
        if (paid.Count == 0)
        {
            return (null, []);
        }

        Instant now = _clock.GetCurrentInstant();
        var payout = new Payout(payoutId, id, amount, now, [.. paid.Select(x => x.Id)]);
        await _payouts.TryAddAsync(payout, cancellationToken).ConfigureAwait(false);
        return (payout, await _log.RecordAsync(
            [new AffiliatePaidOut { LeadId = affiliate.Lead, OccurredAt = now, Code = affiliate.Code, Amount = amount }], cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Returns an affiliate's ledger entries, oldest first.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The entries, by when they were made, then by sale number.</returns>
    public async Task<ImmutableArray<CommissionEntry>> LedgerAsync(AffiliateId id, CancellationToken cancellationToken = default)
    {
        ImmutableArray<AffiliateSale> sales = await AllSalesAsync(id, cancellationToken).ConfigureAwait(false);
        return [.. sales
            .SelectMany(s => s.Entries.Select((entry, index) => (Entry: entry, s.SaleNumber, Index: index)))
            .OrderBy(x => x.Entry.EarnedAt).ThenBy(x => x.SaleNumber).ThenBy(x => x.Index)
            .Select(x => x.Entry)];
    }

    /// <summary>Returns the payouts made to an affiliate, oldest first.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The payouts, at most 10,000.</returns>
    public Task<ImmutableArray<Payout>> PayoutsAsync(AffiliateId id, CancellationToken cancellationToken = default) =>
        _payouts.ListAsync(id, 10_000, cancellationToken);

    /// <summary>Returns an affiliate's KPIs.</summary>
    /// <param name="id">The affiliate.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Clicks, conversions, sales, commission, EPC and commission cost per sale.</returns>
    /// <exception cref="KeyNotFoundException">The affiliate is unknown.</exception>
    public async Task<AffiliateStats> StatsAsync(AffiliateId id, CancellationToken cancellationToken = default)
    {
        Affiliate affiliate = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        ImmutableArray<AffiliateSale> sales = await AllSalesAsync(id, cancellationToken).ConfigureAwait(false);
        ImmutableArray<Payout> payouts = await PayoutsAsync(id, cancellationToken).ConfigureAwait(false);
        Money salesTotal = Money.Sum(sales.Select(s => InProgramCurrency(s, s.Total)), _settings.Currency);
        Money commission = Money.Sum(sales.SelectMany(s => s.Entries).Select(x => x.Amount), _settings.Currency);
        Money paid = Money.Sum(payouts.Select(p => p.Amount), _settings.Currency);
        return new AffiliateStats(id, affiliate.Clicks, sales.Length, salesTotal, commission, paid);
    }

    private async Task<Affiliate> GetAsync(AffiliateId id, CancellationToken cancellationToken) =>
        await _affiliates.FindAsync(id, cancellationToken).ConfigureAwait(false)
        ?? throw new KeyNotFoundException($"No affiliate has the id {id}.");

    private async Task<ImmutableArray<AffiliateSale>> AllSalesAsync(AffiliateId id, CancellationToken cancellationToken)
    {
        var all = ImmutableArray.CreateBuilder<AffiliateSale>();
        int after = 0;
        while (true)
        {
            ImmutableArray<AffiliateSale> page = await _sales.ListAsync(id, after, Page, cancellationToken).ConfigureAwait(false);
            all.AddRange(page);
            if (page.Length < Page)
            {
                return all.ToImmutable();
            }

            after = page[^1].SaleNumber;
        }
    }

    private Task<Affiliate> UpdateAffiliateAsync(AffiliateId id, Func<Affiliate, Affiliate> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<Affiliate>(
            async ct =>
            {
                Affiliate current = await GetAsync(id, ct).ConfigureAwait(false);
                Affiliate changed = change(current);
                return (await _affiliates.TryUpdateAsync(current, changed, ct).ConfigureAwait(false), changed);
            },
            $"affiliate {id}",
            cancellationToken);

    private async Task<ImmutableArray<FunnelEvent>> AttributeAsync(OrderPlaced order, CancellationToken cancellationToken)
    {
        if (await _sales.FindAsync(order.Order, cancellationToken).ConfigureAwait(false) is not null)
        {
            return [];
        }

        Instant earliest = order.OccurredAt - _settings.CookieWindow;
        ImmutableArray<AffiliateClick> clicks = await _clicks.ListAsync(order.LeadId, earliest, MaxClicksPerOrder, cancellationToken).ConfigureAwait(false);
        var affiliates = new Dictionary<AffiliateId, Affiliate?>();
        (AffiliateClick Click, int Sequence)? winner = null;
        for (int sequence = 0; sequence < clicks.Length; sequence++)
        {
            AffiliateClick click = clicks[sequence];
            if (!affiliates.TryGetValue(click.Affiliate, out Affiliate? a))
            {
                affiliates[click.Affiliate] = a = await _affiliates.FindAsync(click.Affiliate, cancellationToken).ConfigureAwait(false);
            }

            if (click.At > order.OccurredAt || a is not { Status: AffiliateStatus.Approved } || a.Lead == order.LeadId)
            {
                continue;
            }

            bool better = winner is not { } w
                || (_settings.Attribution == AffiliateAttributionModel.LastClick
                    ? click.At > w.Click.At || (click.At == w.Click.At && sequence > w.Sequence)
                    : click.At < w.Click.At || (click.At == w.Click.At && sequence < w.Sequence));
            if (better)
            {
                winner = (click, sequence);
            }
        }

        if (winner is not { } won)
        {
            return [];
        }

        // The rate is looked up before the sale number is claimed, so a missing rate leaves no number unused.
        decimal? rate = RateOf(order);

        // The sale number fixes the tier; it is claimed first, so two orders never share one. A lost race on the same
        // order leaves a number unused.
        Affiliate numbered = await UpdateAffiliateAsync(won.Click.Affiliate, a => a with { SalesNumbered = a.SalesNumbered + 1 }, cancellationToken).ConfigureAwait(false);
        (decimal? percent, Money? fixedAmount) = RateFor(order.Offer, numbered.SalesNumbered);
        Money zero = Money.Zero(order.Total.Currency);
        var sale = new AffiliateSale
        {
            Order = order.Order,
            Affiliate = numbered.Id,
            SaleNumber = numbered.SalesNumbered,
            Total = order.Total,
            ExchangeRate = rate,
            Percent = percent,
            Fixed = fixedAmount,
            Paid = zero,
            Refunded = zero,
            Earned = Money.Zero(_settings.Currency),
            ClawedBack = Money.Zero(_settings.Currency),
        };
        if (!await _sales.TryAddAsync(sale, cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        return [new AffiliateSaleAttributed { Id = EventRecording.Caused(order.Id, "affiliates:attributed"), LeadId = order.LeadId, OccurredAt = order.OccurredAt, Code = numbered.Code, Order = order.Order, Amount = InProgramCurrency(sale, order.Total) }];
    }

    private (decimal? Percent, Money? Fixed) RateFor(OfferId offer, int saleNumber)
    {
        CommissionRule? rule = _settings.Rules.FirstOrDefault(r => r.Offer == offer) ?? _settings.Rules.FirstOrDefault(r => r.Offer is null);
        if (rule is null)
        {
            return (null, null);
        }

        CommissionTier? tier = rule.Tiers.IsDefault ? null : rule.Tiers.LastOrDefault(t => t.FromSale <= saleNumber);
        return tier is null ? (rule.Percent, rule.Fixed) : (tier.Percent, tier.Fixed);
    }

    /// <summary>Reads an order's sale, applies <paramref name="change"/> and stores it with the event id, retrying lost races.</summary>
    private Task<ImmutableArray<FunnelEvent>> ChangeSaleAsync(
        OrderId order, EventId eventId, Func<AffiliateSale, Affiliate, (AffiliateSale Sale, ImmutableArray<FunnelEvent> Events)> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<ImmutableArray<FunnelEvent>>(
            async ct =>
            {
                AffiliateSale? sale = await _sales.FindAsync(order, ct).ConfigureAwait(false);
                bool tracked = eventId != default;
                if (sale is null || (tracked && sale.AppliedEvents.Contains(eventId)))
                {
                    return (true, []);
                }

                Affiliate affiliate = await GetAsync(sale.Affiliate, ct).ConfigureAwait(false);
                (AffiliateSale changed, ImmutableArray<FunnelEvent> events) = change(sale, affiliate);
                if (tracked)
                {
                    changed = changed with { AppliedEvents = changed.AppliedEvents.Add(eventId) };
                }

                bool won = await _sales.TryUpdateAsync(sale, changed, ct).ConfigureAwait(false);
                return (won, won ? events : []);
            },
            $"the sale of order {order}",
            cancellationToken);

    private (AffiliateSale, ImmutableArray<FunnelEvent>) Earn(AffiliateSale sale, Affiliate affiliate, PaymentSucceeded payment)
    {
        Money paid = sale.Paid + InSaleCurrency(sale, payment.Amount, payment);
        Money target = CommissionOn(sale.Percent, sale.Fixed, sale.Total, paid, sale.ExchangeRate, _settings.Currency);
        Money delta = target - sale.Earned;
        if (!delta.IsPositive)
        {
            return (sale with { Paid = paid }, []);
        }

        return Earned(sale with { Paid = paid, Earned = target }, affiliate, payment.Id, payment.Order, delta, payment.OccurredAt);
    }

    /// <summary>Adds a pending commission of <paramref name="amount"/> to <paramref name="sale"/>, clearing after the refund window, and its <c>commission_earned</c>.</summary>
    private (AffiliateSale, ImmutableArray<FunnelEvent>) Earned(AffiliateSale sale, Affiliate affiliate, EventId cause, OrderId order, Money amount, Instant at)
    {
        var entry = new CommissionEntry
        {
            Id = Guid.CreateVersion7(),
            Affiliate = sale.Affiliate,
            Order = order,
            Amount = amount,
            ClawedBack = Money.Zero(_settings.Currency),
            EarnedAt = at,
            ClearsAt = at + _settings.RefundWindow,
            Status = CommissionStatus.Pending,
        };
        return (sale with { Entries = sale.Entries.Add(entry) },
            [new CommissionEarned { Id = EventRecording.Caused(cause, "affiliates:earned"), LeadId = affiliate.Lead, OccurredAt = at, Code = affiliate.Code, Order = order, Amount = amount }]);
    }

    /// <summary>
    /// The commission in <paramref name="currency"/> after <paramref name="paid"/> (in the order's currency) has been
    /// paid: a percentage of the paid amount converted at <paramref name="rate"/>, or the fixed amount's share paid.
    /// </summary>
    internal static Money CommissionOn(decimal? percent, Money? fixedAmount, Money total, Money paid, decimal? rate, Currency currency)
    {
        if (percent is { } p)
        {
            Money converted = rate is { } r ? CurrencyConversion.Convert(paid, r, currency) : paid;
            return converted.Percentage(p, MidpointRounding.AwayFromZero);
        }

        if (fixedAmount is { } f && total.IsPositive)
        {
            long capped = Math.Min(paid.MinorUnits, total.MinorUnits);
            return new Money(MulDiv(f.MinorUnits, capped, total.MinorUnits), f.Currency);
        }

        return Money.Zero(currency);
    }

    private (AffiliateSale, ImmutableArray<FunnelEvent>) ClawBack(
        AffiliateSale sale, Affiliate affiliate, EventId cause, OrderId order, Money amount, Instant at)
    {
        if (!sale.Paid.IsPositive)
        {
            return (sale, []);
        }

        Money refundedTotal = sale.Refunded + InSaleCurrency(sale, amount, cause, order);
        Money target = ClawbackFor(sale, refundedTotal);
        Money delta = target - sale.ClawedBack;
        if (!delta.IsPositive)
        {
            return (sale with { Refunded = refundedTotal }, []);
        }

        Money remaining = delta;
        ImmutableArray<CommissionEntry>.Builder entries = sale.Entries.ToBuilder();
        for (int i = entries.Count - 1; i >= 0 && remaining.IsPositive; i--)
        {
            CommissionEntry entry = entries[i];
            if (entry.Order == order && entry.Status == CommissionStatus.Pending && entry.Amount.IsPositive)
            {
                Money take = entry.Amount < remaining ? entry.Amount : remaining;
                entries[i] = entry with { Amount = entry.Amount - take, ClawedBack = entry.ClawedBack + take };
                remaining -= take;
            }
        }

        if (remaining.IsPositive)
        {
            entries.Add(new CommissionEntry
            {
                Id = Guid.CreateVersion7(),
                Affiliate = sale.Affiliate,
                Order = order,
                Amount = -remaining,
                ClawedBack = Money.Zero(_settings.Currency),
                EarnedAt = at,
                ClearsAt = at,
                Status = CommissionStatus.Approved,
            });
        }

        return (sale with { Refunded = refundedTotal, ClawedBack = target, Entries = entries.ToImmutable() },
            [new CommissionClawedBack
            {
                Id = EventRecording.Caused(cause, "affiliates:clawed-back"), LeadId = affiliate.Lead, OccurredAt = at, Code = affiliate.Code, Order = order, Amount = delta,
            }]);
    }

    /// <summary>A dispute the seller won: the disputed amount counts as paid again, so the commission clawed back for it is earned again.</summary>
    private (AffiliateSale, ImmutableArray<FunnelEvent>) EarnBack(AffiliateSale sale, Affiliate affiliate, DisputeClosed won)
    {
        Money amount = InSaleCurrency(sale, won.Amount, won);
        Money refundedTotal = sale.Refunded - (amount < sale.Refunded ? amount : sale.Refunded);
        if (!sale.Paid.IsPositive)
        {
            return (sale with { Refunded = refundedTotal }, []);
        }

        Money target = ClawbackFor(sale, refundedTotal);
        Money delta = sale.ClawedBack - target;
        if (!delta.IsPositive)
        {
            return (sale with { Refunded = refundedTotal }, []);
        }

        return Earned(sale with { Refunded = refundedTotal, ClawedBack = target }, affiliate, won.Id, won.Order, delta, won.OccurredAt);
    }

    /// <summary>The commission clawed back in all once <paramref name="refundedTotal"/> of the sale's payments is refunded: <c>round(Earned × min(refunded, Paid) ÷ Paid)</c>; the sale's paid amount must be positive.</summary>
    private Money ClawbackFor(AffiliateSale sale, Money refundedTotal)
    {
        long refunded = Math.Min(refundedTotal.MinorUnits, sale.Paid.MinorUnits);
        return new Money(MulDiv(sale.Earned.MinorUnits, refunded, sale.Paid.MinorUnits), _settings.Currency);
    }

    /// <summary>The rate that converts an order's total into the program's currency on the order's UTC date, or <see langword="null"/> when it is in the program's currency.</summary>
    private decimal? RateOf(OrderPlaced order)
    {
        Currency source = order.Total.Currency, target = _settings.Currency;
        if (source == target)
        {
            return null;
        }

        LocalDate day = order.OccurredAt.InUtc().Date;
        decimal? rate = _exchangeRates?.FindRate(source, target, day);
        return rate is > 0m
            ? rate.Value
            : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Order {order.Order} ({order.Id}) is in {source.Code}, but the affiliate program pays commission in {target.Code} ")
                + (_exchangeRates is null
                    ? "and no exchange rates are set: register an IExchangeRates (or pass one to the AffiliateProgram constructor), "
                      + "or sell the offers an affiliate can earn on in the program's currency."
                    : string.Create(CultureInfo.InvariantCulture,
                        $"and the exchange rates (IExchangeRates) have no rate from {source.Code} to {target.Code} on {day:uuuu'-'MM'-'dd}{(rate is null ? "" : $" (got {rate})")}.")));
    }

    /// <summary>An amount of a sale's payment, refund or dispute, which must be in the order's currency.</summary>
    private static Money InSaleCurrency(AffiliateSale sale, Money amount, FunnelEvent source) =>
        InSaleCurrency(sale, amount, source.Id, sale.Order);

    private static Money InSaleCurrency(AffiliateSale sale, Money amount, EventId source, OrderId order) =>
        amount.Currency == sale.Total.Currency
            ? amount
            : throw new InvalidOperationException(
                $"Event {source} has the amount {amount} on order {order}, which is in {sale.Total.Currency.Code}: "
                + "a payment, refund or dispute must be in its order's currency.");

    /// <summary>An amount in a sale's currency converted into the program's at the sale's rate.</summary>
    private Money InProgramCurrency(AffiliateSale sale, Money amount) =>
        sale.ExchangeRate is { } rate ? CurrencyConversion.Convert(amount, rate, _settings.Currency) : amount;

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
}
