using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Templates.Liquid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Templates;

public sealed class LiquidSequenceTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 5, 9, 0);

    private static readonly SequenceDefinition Welcome = new()
    {
        Key = "liquid-welcome",
        Triggers = [EventMatch.For(EventTypes.OptedIn, "guide")],
        Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),
        Steps =
        [
            new SequenceStep
            {
                Key = "welcome-1",
                Timing = StepTiming.AfterEnrolment,
                Subject = "{% if tags contains 'vip' %}[VIP] {% endif %}Welcome, {{ first_name }}",
                TextBody = "Hi {{ first_name }},\n{% for tag in tags %}- {{ tag }}\n{% endfor %}Unsubscribe: {{ unsubscribe_url }}",
                HtmlBody = "<p>Hi {{ first_name }}</p><ul>{% for tag in tags %}<li>{{ tag }}</li>{% endfor %}</ul>",
            },
        ],
    };

    [Fact]
    public async Task Dispatch_LiquidTemplates_RendersFieldsTagsAndEscapesTheHtmlBodyOnly()
    {
        FakeClock clock = new(Start);
        RecordingEmailSender sender = new();
        InMemoryLeadStore leads = new();
        LeadProfile lead = await AddLeadAsync(leads, "<script>x</script>", "vip", "b&b");
        SequenceEngine engine = Engine(clock, sender, leads, [Welcome]);

        await engine.HandleAsync(new OptedIn { LeadId = lead.Id, OccurredAt = Start, Magnet = "guide" });
        clock.Advance(Duration.FromMinutes(1));
        await engine.DispatchDueAsync();

        EmailMessage message = sender.Sent.ShouldHaveSingleItem();
        message.Subject.ShouldBe("[VIP] Welcome, <script>x</script>");
        message.TextBody.ShouldStartWith("Hi <script>x</script>,\n- b&b\n- vip\nUnsubscribe: ");
        message.HtmlBody.ShouldBe("<p>Hi &lt;script&gt;x&lt;/script&gt;</p><ul><li>b&amp;b</li><li>vip</li></ul>");
    }

    [Fact]
    public void Engine_InvalidLiquidTemplate_FailsNamingTheSequenceStepAndPosition()
    {
        SequenceDefinition broken = Welcome with
        {
            Steps = [Welcome.Steps[0] with { HtmlBody = "<p>{% if tags contains 'vip' %}VIP</p>" }],
        };

        ArgumentException error = Should.Throw<ArgumentException>(() => Engine(new FakeClock(Start), new RecordingEmailSender(), new InMemoryLeadStore(), [broken]));

        error.Message.ShouldContain("Sequence 'liquid-welcome' is invalid");
        error.Message.ShouldContain("'Steps[0].HtmlBody' (step 'welcome-1') is not a valid template: Liquid syntax error: '{% endif %}' was expected at (1:");
    }

    [Fact]
    public void Validator_UndeclaredVariable_IsAnErrorButLoopVariablesAreNot()
    {
        SequenceDefinition definition = Welcome with
        {
            Steps = [Welcome.Steps[0] with { TextBody = "{% for t in tags %}{{ t }}{% endfor %}{{ frist_name }}" }],
        };

        FluentValidation.Results.ValidationResult result = new SequenceDefinitionValidator(LiquidTemplateRendererTests.Renderer()).Validate(definition);

        result.Errors.ShouldHaveSingleItem().ErrorMessage.ShouldContain("uses the field 'frist_name'");
    }

    [Fact]
    public async Task AddFunnelLiquidTemplates_AfterAddFunnelSequences_ReplacesThePlaceholderRenderer()
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(new FakeClock(Start));
        services.AddSingleton<IEmailSender>(new RecordingEmailSender());
        services.AddFunnelSequences();
        services.AddFunnelLiquidTemplates(o => o.MaxSteps = 5_000);
        services.AddFunnelLiquidTemplates();
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetServices<ITemplateRenderer>().ShouldHaveSingleItem().ShouldBeOfType<LiquidTemplateRenderer>();
        provider.GetRequiredService<IOptions<LiquidTemplateOptions>>().Value.MaxSteps.ShouldBe(5_000);
    }

    [Fact]
    public async Task AddFunnelLiquidTemplates_InvalidOption_FailsNamingIt()
    {
        ServiceCollection services = new();
        services.AddFunnelLiquidTemplates(o => o.MaxSteps = 0);
        await using ServiceProvider provider = services.BuildServiceProvider();

        Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<ITemplateRenderer>()).Message.ShouldContain("LiquidTemplateOptions.MaxSteps");
    }

    private static SequenceEngine Engine(IClock clock, IEmailSender sender, ILeadStore leads, ImmutableArray<SequenceDefinition> definitions) => new(new SequenceEngineSettings
    {
        Definitions = definitions,
        Enrolments = new InMemoryEnrolmentStore(),
        Outbox = new InMemorySendOutbox(),
        Leads = leads,
        Sender = sender,
        EventLog = new InMemoryFunnelEventLog(),
        Clock = clock,
        Renderer = LiquidTemplateRendererTests.Renderer(),
        Options = new SequenceOptions { From = "Jane <jane@example.com>" },
    });

    private static async Task<LeadProfile> AddLeadAsync(InMemoryLeadStore leads, string firstName, params string[] tags)
    {
        LeadProfile profile = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse("lead@example.com"),
            CreatedAt = Start,
            Consent = new ConsentRecord { Purpose = "marketing", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "test", RecordedAt = Start },
            Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, tags),
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", firstName),
        };
        (await leads.TryAddAsync(profile)).ShouldBeTrue();
        return profile;
    }
}
