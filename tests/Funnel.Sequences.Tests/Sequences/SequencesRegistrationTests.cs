using Funnel.Email;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Sequences;

public class SequencesRegistrationTests
{
    [Fact]
    public async Task AddFunnel_WithASenderAndDefinitions_ResolvesAnEngineThatEnrols()
    {
        ServiceCollection services = new();
        services.AddFunnel(o => o.TimeZoneId = "Europe/Berlin");
        services.AddSingleton(GuideSequences.Nurture);
        services.AddSingleton<IEmailSender>(sp => new RecordingSender(sp.GetRequiredService<IClock>()));
        using ServiceProvider provider = services.BuildServiceProvider();

        SequenceEngine engine = provider.GetRequiredService<SequenceEngine>();
        var events = await engine.HandleAsync(SequenceWorld.OptIn(LeadId.New(), SystemClock.Instance.GetCurrentInstant()));

        events.OfType<SequenceEnrolled>().ShouldHaveSingleItem().Sequence.ShouldBe("guide-nurture");
        provider.GetRequiredService<ISendOutbox>().ShouldBeOfType<InMemorySendOutbox>().Count.ShouldBe(1);
    }

    [Fact]
    public void AddFunnel_InvalidSequenceOptions_ThrowNamingTheOption()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.Configure<SequenceOptions>(o => o.Tracking = new TrackingOptions { BaseUrl = "https://example.com", SigningKey = "too-short" });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SequenceOptions>>().Value);

        error.Message.ShouldContain("Tracking.SigningKey");
    }
}
