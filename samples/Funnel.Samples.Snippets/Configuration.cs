using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/configuration.md.</summary>
internal static class ConfigurationSnippets
{
    public static void AddFunnel(IServiceCollection services)
    {
        // <snippet:configuration-add-funnel>
        services.AddFunnel(options =>
        {
            options.DefaultCurrency = "EUR";
            options.TimeZoneId = "Europe/Berlin";
            options.BounceWindow = Duration.FromMinutes(30);
            options.CustomerLifespanPeriods = 3m;
        });
        // </snippet:configuration-add-funnel>
    }
}
