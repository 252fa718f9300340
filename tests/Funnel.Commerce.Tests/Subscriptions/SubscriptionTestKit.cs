using System.Collections.Concurrent;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Subscriptions;
using Funnel.Tests.Offers;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Subscriptions;

/// <summary>A payment gateway that passes calls on, records them, and can be down or slow like a remote provider.</summary>
internal sealed class RecordingGateway(IPaymentGateway inner) : IPaymentGateway
{
    public ConcurrentQueue<(ChargeRequest Request, PaymentResult Result)> Charges { get; } = new();

    /// <summary>Gets or sets whether every call throws a transient <see cref="PaymentGatewayException"/>.</summary>
    public bool Down { get; set; }

    /// <summary>Gets or sets whether a charge gives up its thread before it lands, so concurrent callers interleave.</summary>
    public bool Remote { get; set; }

    public async Task<PaymentResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            throw new PaymentGatewayException("The provider timed out.") { Code = "timeout", IsTransient = true };
        }

        if (Remote)
        {
            for (int i = 0; i < 20; i++)
            {
                await Task.Yield();
            }
        }

        PaymentResult result = await inner.ChargeAsync(request, cancellationToken);
        Charges.Enqueue((request, result));
        return result;
    }

    public Task<PaymentResult> StartPlanAsync(InstallmentPlanRequest request, CancellationToken cancellationToken = default) =>
        inner.StartPlanAsync(request, cancellationToken);

    public Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
        inner.RefundAsync(request, cancellationToken);

    public Task CancelPlanAsync(CancelPlanRequest request, CancellationToken cancellationToken = default) =>
        inner.CancelPlanAsync(request, cancellationToken);
}

/// <summary>A membership catalogue (monthly, pro, yearly, a card-less trial) and a subscription service on in-memory fakes.</summary>
internal sealed class SubscriptionTestKit
{
    /// <summary>Jan 31, so monthly periods show the month-end rule.</summary>
    public static readonly Instant T0 = Instant.FromUtc(2026, 1, 31, 9, 0);
    public static readonly DateTimeZone Berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
    public static readonly OfferId Monthly = "membership";
    public static readonly OfferId Pro = "membership-pro";
    public static readonly OfferId Yearly = "membership-yearly";
    public static readonly OfferId OpenTrial = "membership-open-trial";

    public static readonly Catalogue Catalogue = new()
    {
        Currency = Currency.USD,
        Products =
        [
            new Product { Key = "community", Name = "Creator Community", Kind = ProductKind.CommunityAccess },
            new Product { Key = "course-library", Name = "Course Library", Kind = ProductKind.Course },
        ],
        Offers =
        [
            new Offer
            {
                Id = Monthly, Name = "Membership", Price = Usd(30), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month, TrialDays = 14 },
            },
            new Offer
            {
                Id = Pro, Name = "Membership Pro", Price = Usd(90), Products = ["community", "course-library"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month },
            },
            new Offer
            {
                Id = Yearly, Name = "Membership (yearly)", Price = Usd(300), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Year },
            },
            new Offer
            {
                Id = OpenTrial, Name = "Membership, try it free", Price = Usd(30), Products = ["community"],
                Recurring = new SubscriptionTerms { Interval = BillingInterval.Month, TrialDays = 7, TrialRequiresCard = false },
            },
        ],
    };

    public SubscriptionTestKit(Instant? start = null, DunningPolicy? dunning = null)
    {
        Clock = new FakeClock(start ?? T0);
        Provider = new InMemoryPaymentGateway(Clock);
        Gateway = new RecordingGateway(Provider);
        Dunning = dunning ?? DunningPolicy.Default;
        Service = NewInstance();
    }

    public FakeClock Clock { get; }

    public PriceBook Prices { get; } = new(Catalogue);

    public InMemoryPaymentGateway Provider { get; }

    public RecordingGateway Gateway { get; }

    public RecordingGrantor Grantor { get; } = new();

    public InMemorySubscriptionStore Store { get; } = new();

    public Funnel.Pipeline.InMemoryFunnelEventLog Log { get; } = new();

    public DunningPolicy Dunning { get; }

    public SubscriptionService Service { get; }

    public static LeadId Lead(int n) => OfferTestKit.Lead(n);

    public static Money Usd(decimal amount) => Money.FromMajor(amount, Currency.USD);

    /// <summary>Another app instance on the same store, gateway, grantor, log and clock.</summary>
    public SubscriptionService NewInstance() => new(Prices, Store, Gateway, Grantor, Dunning, DateTimeZoneProviders.Tzdb, Clock, Log,
        Options.Create(new SubscriptionOptions { BatchSize = 2 }));

    /// <summary>Saves a test card with the provider, as a SetupIntent would before a trial, and returns the saved method.</summary>
    public async Task<string> SaveCardAsync(string card = InMemoryPaymentGateway.SucceedingCard)
    {
        PaymentResult saved = await Provider.ChargeAsync(new ChargeRequest
        {
            Order = OrderId.New(), Lead = Lead(999), Amount = Usd(1), PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
            IdempotencyKey = Guid.NewGuid().ToString(), SaveForLater = true,
        });
        Provider.ReplaceCard(saved.PaymentMethod!, card);
        return saved.PaymentMethod!;
    }

    public async Task<Subscription> StartAsync(OfferId offer, int lead = 1, string? card = InMemoryPaymentGateway.SucceedingCard,
        DateTimeZone? zone = null)
    {
        SubscriptionResult result = await Service.StartAsync(new SubscriptionRequest
        {
            Lead = Lead(lead), Offer = offer, BuyerZone = zone ?? DateTimeZone.Utc, PaymentMethod = card,
        });
        result.Outcome.ShouldBe(SubscriptionOutcome.Succeeded, result.Reason ?? result.DeclineCode);
        return result.Subscription!;
    }

    public async Task<Subscription> GetAsync(SubscriptionId id) => (await Store.FindAsync(id))!;

    /// <summary>Moves the clock to <paramref name="at"/> and runs the renewal job once.</summary>
    public async Task<Subscription> RunAtAsync(SubscriptionId id, Instant at)
    {
        Clock.Reset(at);
        await Service.ProcessDueAsync();
        return await GetAsync(id);
    }

    public IReadOnlyList<FunnelEvent> EventsOf(SubscriptionId id) =>
        [.. Log.Snapshot().Where(e => SubscriptionOf(e) == id)];

    public IReadOnlyList<string> TypesOf(SubscriptionId id) => [.. EventsOf(id).Select(e => e.EventType)];

    /// <summary>The charges that the provider collected for a subscription, one per distinct payment.</summary>
    public IReadOnlyList<string> CollectedPaymentsOf(SubscriptionId id) =>
        [.. Gateway.Charges.Where(c => c.Request.Order.Value == id.Value && c.Result.Outcome == PaymentOutcome.Succeeded)
            .Select(c => c.Result.PaymentId!).Distinct()];

    private static SubscriptionId? SubscriptionOf(FunnelEvent e) => e switch
    {
        SubscriptionStarted x => x.Subscription,
        SubscriptionTrialConverted x => x.Subscription,
        SubscriptionRenewed x => x.Subscription,
        SubscriptionPaymentFailed x => x.Subscription,
        SubscriptionPlanChanged x => x.Subscription,
        SubscriptionPaused x => x.Subscription,
        SubscriptionResumed x => x.Subscription,
        SubscriptionCancelScheduled x => x.Subscription,
        SubscriptionCancelWithdrawn x => x.Subscription,
        SubscriptionEnded x => x.Subscription,
        _ => null,
    };
}
