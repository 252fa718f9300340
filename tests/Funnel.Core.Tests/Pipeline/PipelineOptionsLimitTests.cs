using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Funnel.Tests.Pipeline;

/// <summary>Issue 17: durations near <see cref="Duration.MaxValue"/> fail validation at start-up instead of overflowing at run time.</summary>
public class PipelineOptionsLimitTests
{
    public static TheoryData<string, Action<FunnelPipelineOptions>> Extreme => new()
    {
        { "longest retry delay", o => o.MaxRetryDelay = Duration.MaxValue },
        { "longest retry delay", o => o.MaxRetryDelay = Duration.FromDays(31) },
        { "lease duration", o => o.LeaseDuration = Duration.MaxValue },
        { "retry delay", o => o.RetryDelay = Duration.MinValue },
    };

    [Theory]
    [MemberData(nameof(Extreme))]
    public void FunnelPipelineOptions_ExtremeDuration_FailsValidationNamingIt(string option, Action<FunnelPipelineOptions> change)
    {
        using ServiceProvider app = new ServiceCollection().AddFunnel().Configure(change).BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(() => app.GetRequiredService<IOptions<FunnelPipelineOptions>>().Value);

        error.Message.ShouldContain(option);
    }
}
