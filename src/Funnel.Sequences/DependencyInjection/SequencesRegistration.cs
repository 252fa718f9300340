using FluentValidation;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Funnel.Pipeline;
using Funnel.Segments;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers the email sequence services for <c>AddFunnel</c>.</summary>
internal static class SequencesRegistration
{
    public static void AddSequences(IServiceCollection services)
    {
        services.AddOptions<SequenceOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<SequenceOptions>, SequenceOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SequenceOptions>, FluentValidateOptions<SequenceOptions>>());
        services.TryAddSingleton<ITemplateRenderer>(PlaceholderTemplateRenderer.Instance);
        services.TryAddSingleton<IValidator<SequenceDefinition>>(sp => new SequenceDefinitionValidator(sp.GetRequiredService<ITemplateRenderer>()));
        services.TryAddSingleton<IEnrolmentStore, InMemoryEnrolmentStore>();
        services.TryAddSingleton<ISendOutbox, InMemorySendOutbox>();
        services.TryAddSingleton<IBroadcastStore, InMemoryBroadcastStore>();
        services.TryAddSingleton<ISequenceTestStore, InMemorySequenceTestStore>();
        services.TryAddSingleton<IValidator<BroadcastDefinition>>(sp => new BroadcastDefinitionValidator(sp.GetRequiredService<ITemplateRenderer>()));
        services.TryAddSingleton(sp =>
        {
            IDateTimeZoneProvider zones = sp.GetRequiredService<IDateTimeZoneProvider>();
            return new BroadcastService(
                sp.GetRequiredService<IBroadcastStore>(),
                sp.GetRequiredService<ISegmentMembershipStore>(),
                sp.GetRequiredService<ILeadStore>(),
                sp.GetRequiredService<ISendOutbox>(),
                sp.GetRequiredService<IClock>(),
                zones,
                zones[sp.GetRequiredService<IOptions<FunnelOptions>>().Value.TimeZoneId],
                sp.GetRequiredService<IOptions<SequenceOptions>>().Value,
                sp.GetRequiredService<IValidator<BroadcastDefinition>>(),
                sp.GetServices<SegmentDefinition>(),
                Definitions(sp.GetServices<SequenceDefinition>()),
                sp.GetServices<EmailTopic>(),
                sp.GetRequiredService<IFunnelEventLog>(),
                sp.GetService<IVariantWinnerSelector>());
        });
        services.TryAddSingleton(sp =>
        {
            IDateTimeZoneProvider zones = sp.GetRequiredService<IDateTimeZoneProvider>();
            return new SequenceEngine(new SequenceEngineSettings
            {
                Definitions = Definitions(sp.GetServices<SequenceDefinition>()),
                Enrolments = sp.GetRequiredService<IEnrolmentStore>(),
                Outbox = sp.GetRequiredService<ISendOutbox>(),
                Leads = sp.GetRequiredService<ILeadStore>(),
                Sender = sp.GetRequiredService<IEmailSender>(),
                EventLog = sp.GetRequiredService<IFunnelEventLog>(),
                Clock = sp.GetRequiredService<IClock>(),
                Renderer = sp.GetRequiredService<ITemplateRenderer>(),
                TimeZones = zones,
                DefaultZone = zones[sp.GetRequiredService<IOptions<FunnelOptions>>().Value.TimeZoneId],
                Options = sp.GetRequiredService<IOptions<SequenceOptions>>().Value,
                Topics = [.. sp.GetServices<EmailTopic>()],
                Broadcasts = sp.GetRequiredService<IBroadcastStore>(),
                Segments = sp.GetRequiredService<ISegmentMembershipStore>(),
                Webhooks = sp.GetService<Funnel.Webhooks.IOutgoingWebhookClient>(),
                Tests = sp.GetRequiredService<ISequenceTestStore>(),
                Winners = sp.GetService<IVariantWinnerSelector>(),
            });
        });
        services.TryAddSingleton<IEmailFeedbackRecorder>(sp => new EmailFeedbackRecorder(
            sp.GetRequiredService<ILeadStore>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IOptions<SequenceOptions>>().Value));
        services.AddFunnelHandler<SequencesHandler>("sequences");
    }

    /// <summary>The registered definitions, with the built-in ones whose key no registered definition takes.</summary>
    private static System.Collections.Immutable.ImmutableArray<SequenceDefinition> Definitions(IEnumerable<SequenceDefinition> registered)
    {
        List<SequenceDefinition> all = [.. registered];
        foreach (SequenceDefinition builtIn in (ReadOnlySpan<SequenceDefinition>)[FunnelSequences.OptInConfirmation, FunnelSequences.LeadMagnetDelivery])
        {
            if (!all.Exists(d => d.Key == builtIn.Key))
            {
                all.Add(builtIn);
            }
        }

        return [.. all];
    }
}
