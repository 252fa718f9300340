using Funnel.Email;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequencesRegistrationTests
{
    [Fact]
    public async Task AddFunnelSequences_WithASenderAndDefinitions_ResolvesAnEngineThatEnrols()
    {
        ServiceCollection services = new();
        services.AddFunnelSequences().AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddSingleton(GuideSequences.Nurture);
        services.AddSingleton<IEmailSender>(sp => new RecordingSender(sp.GetRequiredService<IClock>()));
        using ServiceProvider provider = services.BuildServiceProvider();

        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        var events = await engine.HandleAsync(SequenceWorld.OptIn(LeadId.New(), SystemClock.Instance.GetCurrentInstant()));

        events.OfType<SequenceEnrolled>().ShouldHaveSingleItem().Sequence.ShouldBe("guide-nurture");
        provider.GetRequiredService<ISendOutbox>().ShouldBeOfType<InMemorySendOutbox>().Count.ShouldBe(1);
    }

    [Fact]
    public void AddFunnelSequences_InvalidSequenceOptions_ThrowNamingTheOption()
    {
        ServiceCollection services = new();
        services.AddFunnelSequences();
        services.Configure<SequenceOptions>(o => o.Tracking = new TrackingOptions { BaseUrl = "https://example.com", SigningKey = "too-short" });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SequenceOptions>>().Value);

        error.Message.ShouldContain("Tracking.SigningKey");
    }

    [Fact]
    public void AddFunnelSequences_NullServices_Throws() =>
        Should.Throw<ArgumentNullException>(() => SequencesServiceCollectionExtensions.AddFunnelSequences(null!));

    [Fact]
    public void AddFunnelSequences_CalledTwice_RegistersTheEngineAndTheSectionOnce()
    {
        IServiceCollection services = new ServiceCollection().AddFunnelSequences().AddFunnelSequences();

        services.Count(d => d.ServiceType == typeof(SequenceEngine)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(Funnel.Kpis.IFunnelReportSection)).ShouldBe(1);
    }

    [Fact]
    public void AddFunnelSequences_ReporterFromAddFunnel_HasTheEmailDeliverySection()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnel().AddFunnelSequences().BuildServiceProvider();

        Funnel.Kpis.FunnelReport report = provider.GetRequiredService<Funnel.Kpis.IFunnelReporter>()
            .CreateReport(Funnel.Samples.EbookMasterclass.MasterclassScenario.Funnel, []);

        report.Sections.Keys.ShouldBe(["email-delivery"]);
        report.Section<SequenceEmailMetrics>().ShouldBe(SequenceEmailMetrics.None);
    }
}
