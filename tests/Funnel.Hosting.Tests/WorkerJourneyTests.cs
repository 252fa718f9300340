using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Samples.EbookMasterclass;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Hosting.Tests;

/// <summary>The guide's whole journey in a worker service: a Generic Host with no ASP.NET Core, fed raw inputs only.</summary>
public sealed partial class WorkerJourneyTests
{
    private static readonly LeadMagnet Guide = new()
    {
        Key = GuideSequences.Magnet,
        Title = "The E-Book Quick-Start Guide",
        Kind = LeadMagnetKind.Guide,
        DoubleOptIn = true,
        ConsentText = "Send me the guide and the Masterclass emails.",
    };

    [Fact]
    public async Task Journey_GenericHostRawInputsOnly_SendsEveryEmailOnceAndRecordsEveryStep()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 3, 2, 9, 0));
        var sender = new RecordingEmailSender();
        var gateway = new InMemoryPaymentGateway(clock);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development });
        builder.Services
            .AddFunnelHosting()
            .AddFunnelSequences()
            .AddFunnelCommerce()
            .AddFunnelAdvocacy()
            .AddFunnelSequenceDispatcher(TimeSpan.FromHours(1))
            .AddFunnelWebhookProcessor("test", _ => gateway.Verifier)
            .AddSingleton<IClock>(clock)
            .AddSingleton<IEmailSender>(sender)
            .AddSingleton<IPaymentGateway>(gateway)
            .AddSingleton(OfferPathCatalogue.Catalogue)
            .AddSingleton(OfferPathCatalogue.Path)
            .AddSingleton<IEntitlementGrantor, Grants>()
            .AddSingleton(GuideSequences.Nurture)
            .AddSingleton(GuideSequences.Welcome)
            .AddSingleton(GuideSequences.Advocacy)
            .AddSingleton(new Course { Key = GuideSequences.Course, Modules = ["plan", "write", "launch"] });
        using IHost host = builder.Build();
        await host.StartAsync();
        IServiceProvider services = host.Services;

        // The opt-in form: only the confirmation email goes out, through the outbox.
        OptInResult optIn = await services.GetRequiredService<LeadCapture>().OptInAsync(new OptInRequest
        {
            Email = "grace@example.com",
            Magnet = Guide,
            ConfirmationUrlTemplate = "https://shop.example/confirm?token={token}",
        });
        LeadId lead = optIn.Lead.Id;
        await SettleAsync(services);
        EmailMessage confirmation = sender.Sent.ShouldHaveSingleItem();
        string token = Uri.UnescapeDataString(TokenPattern().Match(confirmation.TextBody).Groups[1].Value);

        // The confirmation click, then a day of the nurture.
        (await services.GetRequiredService<LeadCapture>().ConfirmAsync(token)).Status.ShouldBe(ConfirmationStatus.Confirmed);
        await SettleAsync(services);
        clock.Advance(Duration.FromDays(1));
        await SettleAsync(services);

        // The purchase: a test card at checkout, then the provider's signed webhooks, each delivered twice.
        OrderService orders = services.GetRequiredService<OrderService>();
        Checkout checkout = await orders.StartCheckoutAsync(lead, new Cart { Lines = [new(orders.Path.Entry, 1, null)] }, DateTimeZone.Utc);
        Order order = (await orders.PlaceOrderAsync(checkout, paymentMethod: null)).Order.ShouldNotBeNull();
        (await services.GetRequiredService<PaymentService>().PayAsync(order.Id, "4242424242424242")).Payment!.Outcome.ShouldBe(PaymentOutcome.Succeeded);
        WebhookProcessor webhooks = services.GetRequiredKeyedService<WebhookProcessor>("test");
        foreach (WebhookRequest webhook in gateway.Webhooks)
        {
            await webhooks.ProcessAsync(webhook.Body, webhook.Headers);
            await webhooks.ProcessAsync(webhook.Body, webhook.Headers);
        }

        for (int day = 0; day < 6; day++)
        {
            await SettleAsync(services);
            clock.Advance(Duration.FromDays(1));
        }

        // The course, module by module.
        foreach (string module in new[] { "plan", "write", "launch" })
        {
            await services.GetRequiredService<CourseProgressTracker>().CompleteModuleAsync(lead, GuideSequences.Course, module);
        }

        for (int day = 0; day < 12; day++)
        {
            await SettleAsync(services);
            clock.Advance(Duration.FromDays(1));
        }

        await SettleAsync(services);
        IReadOnlyList<FunnelEvent> events = ((InMemoryFunnelEventLog)services.GetRequiredService<IFunnelEventLog>()).Snapshot();
        string[] sent = [.. events.OfType<EmailSent>().Where(e => e.LeadId == lead).Select(e => e.Email)];
        sent.ShouldBe(
            [
                "confirm", "nurture-1", "nurture-2",
                .. GuideSequences.Welcome.Steps.Select(s => s.Key),
                .. GuideSequences.Advocacy.Steps.Select(s => s.Key),
            ],
            ignoreOrder: true);
        sent.ShouldBeUnique();
        sender.Sent.Count.ShouldBe(sent.Length);
        events.OfType<EmailFailed>().ShouldBeEmpty();
        events.OfType<EmailSuppressed>().ShouldBeEmpty();
        events.OfType<SequenceExited>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.Nurture.Key);
        events.OfType<SequenceEnrolled>().Select(e => e.Sequence).ShouldBe(
            ["opt-in-confirmation", GuideSequences.Nurture.Key, GuideSequences.Welcome.Key, GuideSequences.Advocacy.Key], ignoreOrder: true);
        string[] types = [.. events.Select(e => e.EventType).Distinct()];
        types.ShouldContain(EventTypes.OptedIn);
        types.ShouldContain(EventTypes.ConfirmationRequested);
        types.ShouldContain(EventTypes.OptInConfirmed);
        types.ShouldContain(EventTypes.OrderPlaced);
        types.ShouldContain(OfferEventTypes.EntitlementGranted);
        types.ShouldContain(EventTypes.CourseCompleted);
        events.OfType<PaymentSucceeded>().ShouldHaveSingleItem();
        events.Select(e => e.Id).ShouldBeUnique();
        (await services.GetRequiredService<FunnelPipeline>().ListParkedAsync()).ShouldBeEmpty();
        await host.StopAsync();
    }

    /// <summary>Does what the hosted services do next, without waiting for their intervals.</summary>
    private static async Task SettleAsync(IServiceProvider services)
    {
        await CatchUpAsync(services);
        foreach (IFunnelJob job in services.GetServices<IFunnelJob>().Where(j => j.Name == "sequence-dispatch"))
        {
            await job.RunAsync();
        }

        await CatchUpAsync(services);
    }

    private static async Task CatchUpAsync(IServiceProvider services)
    {
        FunnelPipeline pipeline = services.GetRequiredService<FunnelPipeline>();
        var waited = Stopwatch.StartNew();
        while (!(await pipeline.DeliverAsync()).CaughtUp)
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the pipeline did not catch up");
            await Task.Delay(5);
        }
    }

    [GeneratedRegex(@"token=([A-Za-z0-9_%\-]+)")]
    private static partial Regex TokenPattern();

    /// <summary>The creator's own access system: grants always succeed.</summary>
    private sealed class Grants : IEntitlementGrantor
    {
        public ConcurrentBag<Entitlement> Granted { get; } = [];

        public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
        {
            Granted.Add(entitlement);
            return Task.CompletedTask;
        }

        public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
