using FluentValidation;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Segments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers lead capture, scoring and segment services, and their handlers and job, for <c>AddFunnel</c>.</summary>
internal static class LeadsRegistration
{
    public static void AddLeads(IServiceCollection services)
    {
        services.TryAddSingleton<ILeadStore, InMemoryLeadStore>();
        services.TryAddSingleton<ISegmentMembershipStore, InMemorySegmentMembershipStore>();
        services.TryAddSingleton(ConfirmationPolicy.Default);
        services.TryAddSingleton(sp => new LeadCapture(
            sp.GetRequiredService<ILeadStore>(),
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<LeadLifecycle>(),
            sp.GetRequiredService<IDateTimeZoneProvider>(),
            confirmation: sp.GetRequiredService<ConfirmationPolicy>()));
        services.TryAddSingleton<IValidator<LeadMagnet>, LeadMagnetValidator>();
        services.TryAddSingleton<IValidator<ScoringModel>, ScoringModelValidator>();
        services.TryAddSingleton<IValidator<SegmentDefinition>, SegmentRuleValidator>();
        services.AddFunnelHandler<LifecycleHandler>(LifecycleHandler.Name);
        services.AddFunnelHandler<ScoringHandler>(ScoringHandler.Name);
        services.AddFunnelHandler<TagsHandler>(TagsHandler.Name);
        services.AddFunnelHandler<SegmentsHandler>(SegmentsHandler.Name);
        services.AddFunnelJob<SegmentsJob>();
    }
}
