using Funnel.Pipeline;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Payments;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.AspNetCore.Tests;

public sealed class PaymentWebhookRegistrationTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 2, 9, 0);
    private static readonly LeadMagnet Checklist = new() { Key = "dispatch-test-checklist", Title = "Checklist", Kind = LeadMagnetKind.Guide };

    [Theory]
    [InlineData("")]
    [InlineData("Stripe")]
    [InlineData("pay pal")]
    [InlineData("../x")]
    public void AddFunnelPaymentWebhooks_BadProviderName_ThrowsNamingIt(string provider)
    {
        var services = new ServiceCollection();

        Should.Throw<ArgumentException>(() => services.AddFunnelPaymentWebhooks(provider)).ParamName.ShouldBe("provider");
    }

    [Fact]
    public void AddFunnelPaymentWebhooks_CalledTwice_RegistersOneProcessorAndOneRetryJob()
    {
        var services = new ServiceCollection().AddLogging().AddFunnelAspNetCore(o => o.LeadMagnets.Add(Checklist));
        var gateway = new InMemoryPaymentGateway(new FakeClock(Start));
        services.AddSingleton<IPaymentGateway>(gateway).AddSingleton(gateway.Verifier);

        services.AddFunnelPaymentWebhooks("stripe").AddFunnelPaymentWebhooks("stripe");

        services.Count(d => d.IsKeyedService && d.ServiceType == typeof(WebhookProcessor) && Equals(d.ServiceKey, "stripe")).ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetKeyedService<WebhookProcessor>("paddle").ShouldBeNull();
        provider.GetServices<IFunnelJob>().Count(j => j.Name == "webhook-retry:stripe").ShouldBe(1);
    }
}
