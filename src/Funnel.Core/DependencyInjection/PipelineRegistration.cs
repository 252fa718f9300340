using FluentValidation;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.DependencyInjection;

/// <summary>Registers the event log and the pipeline for <c>AddFunnel</c>.</summary>
internal static class PipelineRegistration
{
    public static void AddPipeline(IServiceCollection services)
    {
        services.AddOptions<FunnelPipelineOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<FunnelPipelineOptions>, FunnelPipelineOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelPipelineOptions>, FluentValidateOptions<FunnelPipelineOptions>>());
        services.TryAddSingleton<IFunnelEventLog, InMemoryFunnelEventLog>();
        services.TryAddSingleton<IEventSubscriptionStore, InMemoryEventSubscriptionStore>();
        services.TryAddSingleton<IParkedEventStore, InMemoryParkedEventStore>();
        services.TryAddSingleton(sp => new FunnelWorkSignal(sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton(sp => new FunnelPipeline(
            sp.GetRequiredService<IFunnelEventLog>(),
            sp.GetRequiredService<IEventSubscriptionStore>(),
            sp.GetRequiredService<IParkedEventStore>(),
            sp.GetServices<FunnelHandlerRegistration>(),
            sp,
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IOptions<FunnelPipelineOptions>>()));
    }
}
