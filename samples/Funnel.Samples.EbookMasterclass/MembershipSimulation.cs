using System.Collections.Immutable;
using System.Globalization;
using Funnel.Events;
using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.EbookMasterclass;

/// <summary>What the membership run did: the engine's events, their metrics, and the stored state.</summary>
/// <param name="Events">Every event in the run's log, all recorded by the <see cref="SubscriptionService"/>.</param>
/// <param name="Metrics">The report's <c>subscription-metrics</c> section over <paramref name="Events"/>.</param>
/// <param name="Subscriptions">The subscriptions as the store holds them at the horizon.</param>
/// <param name="Refused">The members' requests the engine refused, by kind (such as a pause while past due).</param>
/// <param name="MembersWithAccess">Leads the entitlement grantor holds access for at the horizon.</param>
public sealed record MembershipRun(
    IReadOnlyList<FunnelEvent> Events,
    SubscriptionMetrics Metrics,
    IReadOnlyList<Subscription> Subscriptions,
    IReadOnlyDictionary<string, int> Refused,
    IReadOnlySet<LeadId> MembersWithAccess);

/// <summary>
/// The "Masterclass Community" membership sold to the launch's buyers: $49 a month with a 14-day free trial, $490 a
/// year paid up front, and a $99-a-month coaching tier. The launch's buyers subscribe through the real
/// <see cref="SubscriptionService"/> (<c>AddFunnelSubscriptions</c>), a simulated clock moves to February 1, 2027, the
/// registered <c>subscription-renewals</c> job runs every hour, and the MRR, net revenue retention, churn and trial
/// conversion are the report's <see cref="SubscriptionMetrics"/> over the events the engine recorded.
/// </summary>
/// <remarks>
/// <para>
/// Who does what is seeded. Each Masterclass buyer is offered the membership minutes after the order: 15% buy the
/// yearly plan, 5% the coaching tier, 55% start the monthly trial and the rest decline. Of the trials, 55% start with a
/// saved card (one in ten of them cancels during the trial), 25% start without one and add it a few days later, and 20%
/// never add one, so the engine lapses them. In each paid monthly period a member may upgrade to coaching (8%),
/// downgrade from coaching (15% of coaching members), schedule a cancellation for the period's end (6%, a quarter of
/// them withdrawn days later), pause for 30 days (4%, half of them coming back early), or see the card start to decline
/// (4%): the engine then retries on the dunning schedule, and 40% of those members add a new card after the first
/// failure, the others are ended when the retries run out.
/// </para>
/// <para>
/// A monthly member cannot move to the yearly plan mid-period: <see cref="SubscriptionService.ChangePlanAsync"/> keeps
/// the period, so it refuses a change of interval. The sample does not ask for it.
/// </para>
/// </remarks>
public static class MembershipSimulation
{
    public static readonly OfferId CommunityMonthly = "masterclass-community-monthly";
    public static readonly OfferId CommunityYearly = "masterclass-community-yearly";
    public static readonly OfferId CommunityCoaching = "masterclass-community-coaching";
    public static readonly Money MonthlyPrice = Money.FromMajor(49m, Currency.USD);
    public static readonly Money YearlyPrice = Money.FromMajor(490m, Currency.USD);
    public static readonly Money CoachingPrice = Money.FromMajor(99m, Currency.USD);

    /// <summary>The membership's catalogue: the three recurring offers and what they give access to.</summary>
    public static Catalogue Catalogue { get; } = new()
    {
        Currency = Currency.USD,
        Products =
        [
            new Product { Key = "community", Name = "Masterclass Community", Kind = ProductKind.CommunityAccess },
            new Product { Key = "coaching-calls", Name = "Monthly coaching calls", Kind = ProductKind.CoachingSession },
        ],
        Offers =
        [
            new Offer
            {
                Id = CommunityMonthly, Name = "Masterclass Community", Price = MonthlyPrice, Products = ["community"],
                Recurring = new SubscriptionTerms
                {
                    Interval = BillingInterval.Month, TrialDays = 14, TrialRequiresCard = false,
                },
            },
            new Offer
            {
                Id = CommunityYearly, Name = "Masterclass Community (yearly)", Price = YearlyPrice,
                Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Year },
            },
            new Offer
            {
                Id = CommunityCoaching, Name = "Masterclass Community with coaching", Price = CoachingPrice,
                Products = ["community", "coaching-calls"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
        ],
    };

    /// <summary>The members' zone, whose calendar months the report uses: <c>America/New_York</c>.</summary>
    public static DateTimeZone Zone { get; } = DateTimeZoneProviders.Tzdb["America/New_York"];

    /// <summary>The end of the simulation: midnight starting February 1, 2027, in New York.</summary>
    public static Instant Horizon { get; } = Zone.AtStartOfDay(new LocalDate(2027, 2, 1)).ToInstant();

    /// <summary>Runs the launch's buyers through the subscription engine until <see cref="Horizon"/>.</summary>
    /// <param name="launch">The launch's events; its Masterclass orders are the buyers offered the membership.</param>
    /// <param name="seed">The seed of who subscribes and what each member does.</param>
    /// <returns>The engine's events, the metrics computed from them, and the stored subscriptions.</returns>
    public static async Task<MembershipRun> RunAsync(IReadOnlyList<FunnelEvent> launch, int seed)
    {
        ArgumentNullException.ThrowIfNull(launch);
        OrderPlaced[] buyers = [.. launch.OfType<OrderPlaced>()
            .Where(o => o.Offer == MasterclassScenario.Masterclass)
            .OrderBy(o => o.OccurredAt)];
        Instant start = buyers.Length == 0 ? Horizon : buyers[0].OccurredAt;
        var clock = new SimulatedClock(start);
        var gateway = new TestCardGateway();
        var grantor = new AccessGrantor();
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(Catalogue);
        services.AddSingleton<IPaymentGateway>(gateway);
        services.AddSingleton<IEntitlementGrantor>(grantor);
        services.AddFunnel(o =>
        {
            o.DefaultCurrency = "USD";
            o.TimeZoneId = Zone.Id;
        });
        services.AddFunnelSubscriptions(o => o.Interval = TimeSpan.FromHours(1));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var world = new World(
            provider.GetRequiredService<SubscriptionService>(), gateway, new Random(unchecked(seed * 31 + 6)), clock);
        IFunnelJob renewals = provider.GetServices<IFunnelJob>().Single(j => j.Name == "subscription-renewals");
        IFunnelEventLog log = provider.GetRequiredService<IFunnelEventLog>();

        foreach (OrderPlaced order in buyers)
        {
            world.Offer(order);
        }

        // One timeline: the members' requests at their own instants, the job on its interval, until the horizon.
        Duration every = Duration.FromTimeSpan(renewals.Interval);
        Instant nextRun = start + every;
        long read = 0;
        while (true)
        {
            Instant? nextRequest = world.NextAt;
            bool request = nextRequest is { } at && at <= nextRun;
            Instant now = request ? nextRequest!.Value : nextRun;
            if (now >= Horizon)
            {
                break;
            }

            clock.Now = now;
            if (request)
            {
                await world.RunNextAsync();
            }
            else
            {
                await renewals.RunAsync();
                nextRun += every;
            }

            // The members react to what the engine recorded: a new period, a failed payment.
            foreach (LoggedEvent logged in await log.ReadAsync(read, 10_000))
            {
                read = logged.Position;
                world.React(logged.Event);
            }
        }

        IReadOnlyList<FunnelEvent> events = [.. (await log.ReadAsync(0, 1_000_000)).Select(l => l.Event)];
        FunnelReport report = provider.GetRequiredService<IFunnelReporter>()
            .CreateReport(MasterclassScenario.Funnel, events);
        SubscriptionService subscriptions = provider.GetRequiredService<SubscriptionService>();
        var stored = new List<Subscription>();
        foreach (LeadId lead in world.Leads)
        {
            stored.AddRange(await subscriptions.ListAsync(lead));
        }

        return new MembershipRun(events, report.Section<SubscriptionMetrics>()!, stored, world.Refused, grantor.Leads);
    }

    /// <summary>Prints the membership's MRR, its monthly movements, retention, churn and trial conversion.</summary>
    public static void Print(MembershipRun run, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        CultureInfo c = CultureInfo.InvariantCulture;
        SubscriptionMetrics metrics = run.Metrics;
        RecurringRevenueSnapshot now = metrics.At(Horizon);
        output.WriteLine();
        output.WriteLine(
            "Membership: Masterclass Community ($49/month with a 14-day free trial, or $490/year; " +
            "coaching tier $99/month)");
        output.WriteLine(string.Create(c,
            $"MRR on {Horizon.InZone(Zone).Date:uuuu-MM-dd}: {Usd(now.Mrr(Currency.USD))} " +
            $"from {now.ActiveSubscribers} " +
            $"paying members ({now.TrialingSubscribers} trialing, {now.PausedSubscribers} paused)"));
        List<string[]> rows =
        [
            ["Month", "Start", "New", "Expansion", "Contraction", "Churned", "Paused", "Reactivated", "End", "NRR",
                "Trials converted"],
        ];
        foreach (RecurringRevenueReport month in metrics.Monthly(Zone))
        {
            RecurringRevenueMovement m = month.Movement(Currency.USD);
            rows.Add(
            [
                month.From.InZone(Zone).Date.ToString("uuuu-MM", c), Usd(m.Starting), Usd(m.New), Usd(m.Expansion),
                Usd(m.Contraction), Usd(m.Churned), Usd(m.Paused), Usd(m.Reactivation), Usd(m.Ending),
                m.NetRevenueRetention.ToString("P1", c),
                string.Create(c, $"{month.TrialsConverted} of {month.TrialsConverted + month.TrialsLapsed}"),
            ]);
        }

        ReportPrinter.WriteTable(output, rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Instant from = Zone.AtStartOfDay(new LocalDate(2026, 11, 1)).ToInstant();
        RecurringRevenueReport quarter = metrics.For(from, Horizon);
        RecurringRevenueMovement usd = quarter.Movement(Currency.USD);
        RecurringRevenueReport all = metrics.For(metrics.FirstEventAt ?? Horizon, Horizon);
        output.WriteLine(string.Create(c,
            $"Nov-Jan: net revenue retention {usd.NetRevenueRetention.ToString("P1", c)} ({Usd(usd.Retained)} of " +
            $"{Usd(usd.Starting)}), revenue churn {usd.RevenueChurn.ToString("P1", c)}, logo churn " +
            $"{quarter.LogoChurn.ToString("P1", c)} " +
            $"({quarter.ChurnedSubscribers} of {quarter.SubscribersAtStart} members)"));
        output.WriteLine(string.Create(c,
            $"Trial conversion: {all.TrialConversion.ToString("P1", c)} ({all.TrialsConverted} converted, " +
            $"{all.TrialsLapsed} lapsed, of {all.TrialsStarted} trials)"));
        IEnumerable<string> counts = run.Events
            .Where(e => e.EventType.StartsWith("subscription_", StringComparison.Ordinal))
            .GroupBy(e => e.EventType)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => string.Create(c, $"{g.Count()} {g.Key}"));
        output.WriteLine(string.Create(c,
            $"Recorded by SubscriptionService: {run.Events.Count} events ({string.Join(", ", counts)})"));
        IEnumerable<string> refused = run.Refused.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => string.Create(c, $"{r.Key} {r.Value}"));
        output.WriteLine(string.Create(c,
            $"Members' requests the engine refused: {(run.Refused.Count == 0 ? "none" : string.Join(", ", refused))}"));
    }

    private static string Usd(Money amount) => amount.ToString("C", CultureInfo.InvariantCulture);

    /// <summary>The members and what they mean to do, on one timeline.</summary>
    private sealed class World(
        SubscriptionService service, TestCardGateway gateway, Random random, SimulatedClock clock)
    {
        private readonly PriorityQueue<Func<Task>, (Instant At, long Order)> _requests = new();
        private readonly Dictionary<SubscriptionId, Member> _members = [];
        private readonly Dictionary<string, int> _refused = new(StringComparer.Ordinal);
        private long _order;

        public IEnumerable<LeadId> Leads => _members.Values.Select(m => m.Lead);

        public IReadOnlyDictionary<string, int> Refused => _refused;

        public Instant? NextAt => _requests.TryPeek(out _, out var key) ? key.At : null;

        public Task RunNextAsync() => _requests.Dequeue()();

        /// <summary>The thank-you page offers the membership to a Masterclass buyer.</summary>
        public void Offer(OrderPlaced order)
        {
            int roll = random.Next(100);
            if (roll >= 75)
            {
                return;
            }

            var member = new Member(order.LeadId, new SubscriptionId(NewGuid(random)));
            _members[member.Id] = member;
            Instant at = order.OccurredAt + Duration.FromMinutes(random.Next(2, 20));
            if (roll < 15)
            {
                At(at, () => StartPaidAsync(member, CommunityYearly));
            }
            else if (roll < 20)
            {
                At(at, () => StartPaidAsync(member, CommunityCoaching));
            }
            else
            {
                StartTrial(member, at);
            }
        }

        /// <summary>A member reacts to an event the engine recorded.</summary>
        public void React(FunnelEvent e)
        {
            switch (e)
            {
                case SubscriptionStarted { TrialEndsAt: null } s when s.Interval == BillingInterval.Month:
                    PlanPeriod(_members[s.Subscription], s.OccurredAt, s.PeriodEnd);
                    break;
                case SubscriptionTrialConverted s:
                    PlanPeriod(_members[s.Subscription], s.OccurredAt, s.PeriodEnd);
                    break;
                case SubscriptionRenewed s:
                    PlanPeriod(_members[s.Subscription], s.OccurredAt, s.PeriodEnd);
                    break;
                case SubscriptionPaymentFailed { Attempt: 1 } s when random.Next(100) < 40:
                    Member member = _members[s.Subscription];
                    At(s.OccurredAt + Hours(24, 48), () => NewCardAsync(member));
                    break;
            }
        }

        private void StartTrial(Member member, Instant at)
        {
            int roll = random.Next(100);
            if (roll < 55)
            {
                member.PaymentMethod = gateway.SaveCard();
                At(at, () => StartTrialAsync(member));
                if (random.Next(10) == 0)
                {
                    At(at + Hours(2 * 24, 10 * 24),
                        () => Expect(service.CancelAsync(member.Id, atPeriodEnd: true), "cancel"));
                }
            }
            else if (roll < 80)
            {
                At(at, () => StartTrialAsync(member));
                At(at + Hours(3 * 24, 12 * 24), () => NewCardAsync(member));
            }
            else
            {
                At(at, () => StartTrialAsync(member));
            }
        }

        /// <summary>Decides what the member does in a paid monthly period that has just begun.</summary>
        private void PlanPeriod(Member member, Instant start, Instant end)
        {
            Instant at = start + Hours(3 * 24, 20 * 24);
            if (at >= end)
            {
                return;
            }

            int roll = random.Next(100);
            if (roll < 15 && member.Offer == CommunityCoaching)
            {
                At(at, () => ChangePlanAsync(member, CommunityCoaching, CommunityMonthly));
            }
            else if (roll < 8)
            {
                At(at, () => ChangePlanAsync(member, CommunityMonthly, CommunityCoaching));
            }
            else if (roll is >= 15 and < 21)
            {
                At(at, () => Expect(service.CancelAsync(member.Id, atPeriodEnd: true), "cancel"));
                if (random.Next(4) == 0)
                {
                    At(at + Hours(2 * 24, 5 * 24), () => Expect(service.WithdrawCancelAsync(member.Id), "withdraw"));
                }
            }
            else if (roll is >= 21 and < 25)
            {
                At(at, () => Expect(service.PauseAsync(member.Id, at + Duration.FromDays(30)), "pause"));
                if (random.Next(2) == 0)
                {
                    At(at + Hours(10 * 24, 20 * 24), () => Expect(service.ResumeAsync(member.Id), "resume"));
                }
            }
            else if (roll is >= 25 and < 29)
            {
                At(at, () =>
                {
                    if (member.PaymentMethod is { } card)
                    {
                        gateway.Decline(card);
                    }

                    return Task.CompletedTask;
                });
            }
        }

        private async Task StartPaidAsync(Member member, OfferId offer)
        {
            member.PaymentMethod = gateway.SaveCard();
            member.Offer = offer;
            await Expect(service.StartAsync(Request(member, offer)), "start");
        }

        private async Task StartTrialAsync(Member member)
        {
            member.Offer = CommunityMonthly;
            await Expect(service.StartAsync(Request(member, CommunityMonthly)), "start");
        }

        private async Task NewCardAsync(Member member)
        {
            member.PaymentMethod = gateway.SaveCard();
            await Expect(service.AttachPaymentMethodAsync(member.Id, member.PaymentMethod), "attach a card");
        }

        private async Task ChangePlanAsync(Member member, OfferId from, OfferId to)
        {
            if (member.Offer != from)
            {
                return;
            }

            SubscriptionResult result = await service.ChangePlanAsync(member.Id, to);
            if (await Expect(Task.FromResult(result), "change plan"))
            {
                member.Offer = to;
            }
        }

        private async Task<bool> Expect(Task<SubscriptionResult> request, string kind)
        {
            SubscriptionResult result = await request;
            if (result.Outcome == SubscriptionOutcome.Succeeded)
            {
                return true;
            }

            _refused[kind] = _refused.GetValueOrDefault(kind) + 1;
            return false;
        }

        private static SubscriptionRequest Request(Member member, OfferId offer) => new()
        {
            Id = member.Id,
            Lead = member.Lead,
            Offer = offer,
            BuyerZone = Zone,
            PaymentMethod = member.PaymentMethod,
        };

        private void At(Instant at, Func<Task> request) =>
            _requests.Enqueue(request, (at < clock.Now ? clock.Now : at, _order++));

        private Duration Hours(int min, int max) => Duration.FromHours(random.Next(min, max));
    }

    /// <summary>One buyer's membership: its id, chosen up front, and the saved card the member pays with.</summary>
    private sealed class Member(LeadId lead, SubscriptionId id)
    {
        public LeadId Lead { get; } = lead;

        public SubscriptionId Id { get; } = id;

        public OfferId Offer { get; set; } = CommunityMonthly;

        public string? PaymentMethod { get; set; }
    }

    /// <summary>
    /// A test-mode provider whose saved cards succeed until told to decline (<c>insufficient_funds</c>), with
    /// sequential ids so that every run of a seed records the same events.
    /// </summary>
    /// <remarks>
    /// Funnel.Testing's <c>InMemoryPaymentGateway</c> gives its ids a random per-instance part and saves a card only
    /// with a charge; the membership needs cards saved before a free trial (a SetupIntent) and the same ids each run.
    /// Like a provider, it answers a repeated idempotency key with its first answer.
    /// </remarks>
    private sealed class TestCardGateway : IPaymentGateway
    {
        private readonly Dictionary<string, bool> _declines = new(StringComparer.Ordinal);
        private readonly Dictionary<string, PaymentResult> _answers = new(StringComparer.Ordinal);
        private int _cards;
        private int _payments;

        /// <summary>Saves a card that succeeds, as a SetupIntent would, and returns its payment method.</summary>
        public string SaveCard()
        {
            string method = string.Create(CultureInfo.InvariantCulture, $"pm_member_{++_cards:D4}");
            _declines[method] = false;
            return method;
        }

        /// <summary>Makes a saved card decline from now on.</summary>
        public void Decline(string method) => _declines[method] = true;

        public Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(request);
            if (!_answers.TryGetValue(request.IdempotencyKey, out PaymentResult? answer))
            {
                string id = string.Create(CultureInfo.InvariantCulture, $"pi_member_{++_payments:D5}");
                answer = _declines.TryGetValue(request.PaymentMethod, out bool declines) && !declines
                    ? new PaymentResult
                    {
                        Outcome = PaymentOutcome.Succeeded, PaymentId = id, PaymentMethod = request.PaymentMethod,
                    }
                    : new PaymentResult
                    {
                        Outcome = PaymentOutcome.Declined, PaymentId = id, DeclineCode = "insufficient_funds",
                    };
                _answers[request.IdempotencyKey] = answer;
            }

            return Task.FromResult(answer);
        }

        public Task<PaymentResult> StartPlanAsync(
            InstallmentPlanRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The membership sells no installment plans.");

        public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The membership refunds nothing.");

        public Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The membership sells no installment plans.");
    }

    /// <summary>Holds who has access to what, as granted and revoked by the engine.</summary>
    private sealed class AccessGrantor : IEntitlementGrantor
    {
        private readonly HashSet<(LeadId Lead, OrderId Order, string Product)> _granted = [];

        public IReadOnlySet<LeadId> Leads => _granted.Select(g => g.Lead).ToHashSet();

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            _granted.Add((entitlement.Lead, entitlement.Order, entitlement.Product));
            return Task.CompletedTask;
        }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            _granted.Remove((entitlement.Lead, entitlement.Order, entitlement.Product));
            return Task.CompletedTask;
        }
    }

    private sealed class SimulatedClock(Instant now) : IClock
    {
        public Instant Now { get; set; } = now;

        public Instant GetCurrentInstant() => Now;
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
