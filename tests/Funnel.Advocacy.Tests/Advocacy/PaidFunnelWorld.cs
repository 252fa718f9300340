using System.Collections.Immutable;
using Funnel.Advocacy;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using Funnel.Tests.Offers;
using Funnel.Tests.Payments;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Advocacy;

/// <summary>An <see cref="IEmailSender"/> that keeps every accepted message with the instant it was sent.</summary>
internal sealed class CapturingSender(IClock clock) : IEmailSender
{
    private readonly Lock gate = new();
    private readonly List<(EmailMessage Message, Instant At)> sent = [];

    public IReadOnlyList<(EmailMessage Message, Instant At)> Sent
    {
        get
        {
            lock (gate)
            {
                return [.. sent];
            }
        }
    }

    /// <summary>Returns the step keys (the part after the enrolment in the idempotency key) sent to an address, in order.</summary>
    public string[] StepsTo(EmailAddress to) => [.. Sent.Where(s => s.Message.To == to).Select(s => StepOf(s.Message))];

    public static string StepOf(EmailMessage message) => message.IdempotencyKey[(message.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) + 1)..];

    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            sent.Add((message, clock.GetCurrentInstant()));
        }

        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + ">"));
    }
}

/// <summary>
/// The whole paid funnel in memory: the Masterclass order and payment services on the test-mode gateway, the guide's
/// sequences on the sequence engine, course progress, reviews and the affiliate program. The advocacy engines record
/// their own events in <see cref="Log"/>; the world appends what the other engines return, and delivers every logged
/// event once to each consumer, as a host's event pipeline would.
/// </summary>
internal sealed class PaidFunnelWorld
{
    public static readonly DateTimeZone NewYork = OfferTestKit.NewYork;

    public static readonly Course Masterclass = new() { Key = GuideSequences.Course, Modules = ["plan-your-ebook", "write-in-30-days", "design-and-format", "launch"] };

    public PaidFunnelWorld(AffiliateProgramSettings? affiliates = null)
    {
        Payments = new PaymentTestKit();
        Sender = new CapturingSender(Clock);
        Engine = new SequenceEngine(new SequenceEngineSettings
        {
            Definitions = GuideSequences.All,
            Enrolments = new InMemoryEnrolmentStore(),
            Outbox = new InMemorySendOutbox(),
            Leads = Leads,
            Sender = Sender,
            EventLog = new Funnel.Pipeline.InMemoryFunnelEventLog(),
            Clock = Clock,
            DefaultZone = NewYork,
            Options = new SequenceOptions { From = "The E-Book Masterclass <hello@example.com>" },
        });
        Courses = new CourseProgressTracker([Masterclass], new InMemoryCourseProgressStore(), Entitlements, Clock, Log);
        Reviews = new ReviewService(new InMemoryReviewStore(), Clock, Log);
        Affiliates = InMemoryEngines.Affiliates(affiliates ?? new AffiliateProgramSettings
        {
            Currency = Currency.USD,
            Rules = [new CommissionRule { Percent = 30m }],
            MinimumPayout = Money.FromMajor(200m, Currency.USD),
        }, Clock, Log);
    }

    public PaymentTestKit Payments { get; }

    public FakeClock Clock => Payments.Kit.Clock;

    public InMemoryLeadStore Leads { get; } = new();

    public CapturingSender Sender { get; }

    public SequenceEngine Engine { get; }

    public EntitlementLedger Entitlements { get; } = InMemoryEngines.Entitlements();

    public CourseProgressTracker Courses { get; }

    public ReviewService Reviews { get; }

    public AffiliateProgram Affiliates { get; }

    /// <summary>Gets the event log every event is recorded in.</summary>
    public InMemoryFunnelEventLog Log { get; } = new();

    /// <summary>Gets every event recorded, in order.</summary>
    public IReadOnlyList<FunnelEvent> History => Log.Snapshot();

    private long delivered;

    public static EmailAddress EmailOf(int lead) => EmailAddress.Parse($"customer{lead}@example.com");

    /// <summary>Adds the lead profile (consent granted, New York) for <see cref="OfferTestKit.Lead"/>.</summary>
    public async Task<LeadId> AddLeadAsync(int lead, string firstName, string? reviewUrl = null)
    {
        LeadId id = OfferTestKit.Lead(lead);
        var fields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", firstName);
        await Leads.TryAddAsync(new LeadProfile
        {
            Id = id,
            Email = EmailOf(lead),
            CreatedAt = Clock.GetCurrentInstant(),
            TimeZoneId = NewYork.Id,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = GuideSequences.Magnet, RecordedAt = Clock.GetCurrentInstant() },
            CustomFields = reviewUrl is null ? fields : fields.Add("review_url", reviewUrl),
        });
        return id;
    }

    /// <summary>Records the events an engine outside Funnel.Advocacy returned, then delivers the log.</summary>
    public async Task RecordAsync(IEnumerable<FunnelEvent> events)
    {
        await Log.AppendAsync([.. events]);
        await DeliverAsync();
    }

    /// <summary>
    /// Delivers each logged event not yet delivered to the entitlements, the affiliate program and the sequence engine,
    /// in log order; what the affiliate program records lands in the log by itself and is delivered in turn.
    /// </summary>
    public async Task DeliverAsync()
    {
        while (true)
        {
            IReadOnlyList<LoggedEvent> batch = await Log.ReadAsync(delivered, 100);
            if (batch.Count == 0)
            {
                return;
            }

            foreach (LoggedEvent logged in batch)
            {
                delivered = logged.Position;
                Entitlements.Apply(logged.Event);
                Affiliates.Apply(logged.Event);
                await Log.AppendAsync([.. await Engine.HandleAsync(logged.Event)]);
            }
        }
    }

    /// <summary>Places a Masterclass Basic order (optionally on the 3 × $180 plan) and pays it with the test card, delivering the provider's webhooks.</summary>
    public async Task<Order> BuyAsync(int lead, string? plan = null, string card = InMemoryPaymentGateway.SucceedingCard)
    {
        Checkout checkout = await Payments.Service.StartCheckoutAsync(OfferTestKit.Lead(lead), new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic, 1, plan)] }, NewYork);
        await RecordAsync(checkout.Events);
        OrderResult placed = await Payments.Service.PlaceOrderAsync(checkout, paymentMethod: null);
        await RecordAsync(placed.Events);
        PaymentAttempt paid = await Payments.Payments.PayAsync(placed.Order!.Id, card);
        await RecordAsync(paid.Result.Events);
        await DeliverWebhooksAsync();
        return placed.Order;
    }

    /// <summary>Collects the plan installments that are due at the provider and delivers its webhooks.</summary>
    public async Task CollectInstallmentsAsync()
    {
        Payments.Gateway.CollectDueInstallments();
        await DeliverWebhooksAsync();
    }

    /// <summary>Delivers every webhook the gateway sent (replays are recognised and change nothing).</summary>
    public async Task DeliverWebhooksAsync()
    {
        foreach (WebhookRequest request in Payments.Gateway.Webhooks)
        {
            WebhookResult result = await Payments.Webhooks.ProcessAsync(request.Body, request.Headers);
            await RecordAsync(result.Events);
        }
    }

    /// <summary>Refunds through the provider and records the refunds and revocations.</summary>
    public async Task RefundAsync(OrderId order, Money amount)
    {
        OrderResult refunded = await Payments.Payments.RefundAsync(order, amount);
        await RecordAsync(refunded.Events);
        await DeliverWebhooksAsync();
    }

    /// <summary>Completes every module of the Masterclass for a lead, one a week.</summary>
    public async Task CompleteCourseAsync(LeadId lead)
    {
        foreach (string module in Masterclass.Modules)
        {
            await AdvanceAsync(Duration.FromDays(7));
            await Courses.CompleteModuleAsync(lead, Masterclass.Key, module);
            await DeliverAsync();
        }
    }

    /// <summary>Moves the clock forward in 15-minute ticks, dispatching due emails at each, as a hosted dispatcher would.</summary>
    public async Task AdvanceAsync(Duration by)
    {
        Instant end = Clock.GetCurrentInstant() + by;
        while (Clock.GetCurrentInstant() < end)
        {
            Duration step = Duration.Min(Duration.FromMinutes(15), end - Clock.GetCurrentInstant());
            Clock.Advance(step);
            DispatchResult result;
            do
            {
                result = await Engine.DispatchDueAsync();
                await RecordAsync(result.Events);
            }
            while (result.Claimed > 0);
        }
    }
}
