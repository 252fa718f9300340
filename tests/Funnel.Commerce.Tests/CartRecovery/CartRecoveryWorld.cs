using Funnel.CartRecovery;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using Funnel.Tests.Offers;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.CartRecovery;

/// <summary>
/// A shop with cart recovery and the guide's recovery sequence, wired by dependency injection on in-memory stores: the
/// Masterclass catalogue, the pipeline, the <c>cart-recovery</c> job and the sequence engine, on a fake clock.
/// </summary>
internal sealed class CartRecoveryWorld : IDisposable
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);

    private readonly ServiceProvider _services;

    public CartRecoveryWorld(Action<CartRecoveryOptions>? configure = null, Action<IServiceCollection>? more = null)
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(Clock);
        services.AddSingleton<IEmailSender>(Sender);
        services.AddSingleton(OfferPathCatalogue.Catalogue);
        services.AddSingleton(OfferPathCatalogue.Path);
        services.AddSingleton<IEntitlementGrantor>(new RecordingGrantor());
        services.AddSingleton(GuideSequences.CartRecovery);
        services.AddFunnel(o => o.TimeZoneId = "America/New_York").AddFunnelCartRecovery(configure).AddFunnelSequences();
        services.Configure<SequenceOptions>(o => o.From = "The E-Book Masterclass <hello@example.com>");
        more?.Invoke(services);
        _services = services.BuildServiceProvider();
    }

    public FakeClock Clock { get; } = new(T0);

    public RecordingEmailSender Sender { get; } = new();

    public IServiceProvider Services => _services;

    public OrderService Orders => _services.GetRequiredService<OrderService>();

    public IFunnelEventLog Log => _services.GetRequiredService<IFunnelEventLog>();

    public async Task<IReadOnlyList<FunnelEvent>> EventsAsync() => [.. (await Log.ReadAsync(0, 100_000)).Select(l => l.Event)];

    /// <summary>Adds a lead who agreed to marketing email, in New York.</summary>
    public async Task<LeadId> AddLeadAsync(string email = "grace@example.com")
    {
        LeadProfile profile = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse(email),
            CreatedAt = Clock.GetCurrentInstant(),
            TimeZoneId = "America/New_York",
            Consent = new ConsentRecord
            {
                Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test",
                RecordedAt = Clock.GetCurrentInstant(),
            },
        };
        (await _services.GetRequiredService<ILeadStore>().TryAddAsync(profile)).ShouldBeTrue();
        return profile.Id;
    }

    public Task<Checkout> StartCheckoutAsync(LeadId lead) =>
        Orders.StartCheckoutAsync(lead, new Cart { Lines = [new CartLine(OfferPathCatalogue.Basic)] }, OfferTestKit.NewYork);

    public async Task<Order> PlaceAsync(Checkout checkout) => (await Orders.PlaceOrderAsync(checkout, paymentMethod: null)).Order.ShouldNotBeNull();

    /// <summary>Does what the hosted pipeline and the jobs do next, without waiting for their intervals.</summary>
    public async Task SettleAsync()
    {
        FunnelPipeline pipeline = _services.GetRequiredService<FunnelPipeline>();
        await pipeline.DeliverAllAsync();
        foreach (IFunnelJob job in _services.GetServices<IFunnelJob>().Where(j => j.Name == "cart-recovery"))
        {
            await job.RunAsync();
        }

        await pipeline.DeliverAllAsync();
        SequenceEngine engine = _services.GetRequiredService<SequenceEngine>();
        while ((await engine.DispatchDueAsync()).Claimed > 0)
        {
        }

        await pipeline.DeliverAllAsync();
    }

    /// <summary>Moves the clock forward in steps, settling after each.</summary>
    public async Task PassAsync(Duration total, Duration step)
    {
        for (Duration passed = Duration.Zero; passed < total; passed += step)
        {
            Clock.Advance(step);
            await SettleAsync();
        }
    }

    /// <summary>Returns the keys of the emails sent to a lead (<see cref="EmailSent"/> in the log), in order.</summary>
    public async Task<string[]> EmailsSentToAsync(LeadId lead) => [.. (await EventsAsync()).OfType<EmailSent>().Where(e => e.LeadId == lead).Select(e => e.Email)];

    public void Dispose() => _services.Dispose();
}
