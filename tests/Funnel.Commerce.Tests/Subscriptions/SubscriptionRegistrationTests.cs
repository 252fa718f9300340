using Funnel.Kpis;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Pipeline;
using Funnel.Subscriptions;
using Funnel.Tests.Offers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Subscriptions;

public class SubscriptionRegistrationTests
{
    [Fact]
    public async Task AddFunnelSubscriptions_RegistersTheServiceAndTheJobThatRenews()
    {
        var clock = new FakeClock(SubscriptionTestKit.T0);
        ServiceCollection services = new();
        services.AddSingleton<IClock>(clock);
        services.AddSingleton(SubscriptionTestKit.Catalogue);
        services.AddSingleton<IEntitlementGrantor>(new RecordingGrantor());
        services.AddSingleton<IPaymentGateway>(new InMemoryPaymentGateway(clock));
        services.AddFunnelSubscriptions(o => o.BatchSize = 10).AddFunnelSubscriptions(o => o.Interval = TimeSpan.FromSeconds(30));
        await using ServiceProvider provider = services.BuildServiceProvider();
        SubscriptionService subscriptions = provider.GetRequiredService<SubscriptionService>();
        IFunnelJob job = provider.GetServices<IFunnelJob>().Single(j => j.Name == "subscription-renewals");

        SubscriptionResult started = await subscriptions.StartAsync(new SubscriptionRequest
        {
            Lead = SubscriptionTestKit.Lead(1), Offer = SubscriptionTestKit.Pro, BuyerZone = DateTimeZone.Utc,
            PaymentMethod = InMemoryPaymentGateway.SucceedingCard,
        });
        clock.Reset(started.Subscription!.CurrentPeriodEnd);
        await job.RunAsync();

        job.Interval.ShouldBe(TimeSpan.FromSeconds(30));
        provider.GetRequiredService<IOptions<SubscriptionOptions>>().Value.BatchSize.ShouldBe(10);
        provider.GetRequiredService<ISubscriptionStore>().ShouldBeOfType<InMemorySubscriptionStore>();
        services.Count(d => d.ServiceType == typeof(IFunnelJob) && d.ImplementationType?.Name == "SubscriptionRenewalJob").ShouldBe(1);
        IReadOnlyList<LoggedEvent> logged = await provider.GetRequiredService<IFunnelEventLog>().ReadAsync(0, 100);
        logged.Select(l => l.Event.EventType).ShouldBe([SubscriptionEventTypes.SubscriptionStarted, SubscriptionEventTypes.SubscriptionRenewed]);
        FunnelReport report = provider.GetRequiredService<IFunnelReporter>().CreateReport(Samples.EbookMasterclass.MasterclassScenario.Funnel, logged.Select(l => l.Event));
        SubscriptionMetrics metrics = report.Section<SubscriptionMetrics>().ShouldNotBeNull();
        metrics.At(clock.GetCurrentInstant() + Duration.FromSeconds(1)).MonthlyRecurringRevenue.ShouldHaveSingleItem().ShouldBe(started.Subscription!.Price);
    }

    [Theory]
    [InlineData("Interval")]
    [InlineData("BatchSize")]
    public async Task StartAsync_InvalidOption_FailsNamingIt(string field)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(SubscriptionTestKit.Catalogue);
        builder.Services.AddSingleton<IEntitlementGrantor>(new RecordingGrantor());
        builder.Services.AddSingleton<IPaymentGateway>(new InMemoryPaymentGateway(SystemClock.Instance));
        builder.Services.AddFunnelSubscriptions(o =>
        {
            if (field == "Interval")
            {
                o.Interval = TimeSpan.Zero;
            }
            else
            {
                o.BatchSize = 0;
            }
        });
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain($"SubscriptionOptions.{field}");
    }

    [Fact]
    public async Task StartAsync_NoPaymentGateway_FailsNamingIt()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(SubscriptionTestKit.Catalogue);
        builder.Services.AddSingleton<IEntitlementGrantor>(new RecordingGrantor());
        builder.Services.AddFunnelSubscriptions();
        using IHost host = builder.Build();

        OptionsValidationException error = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync());

        error.Message.ShouldContain("AddFunnelSubscriptions() needs a Funnel.Payments.IPaymentGateway");
    }
}
