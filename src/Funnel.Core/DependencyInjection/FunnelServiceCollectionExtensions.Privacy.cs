using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <content>Registers the export and erasure of a lead's personal data.</content>
public static partial class FunnelServiceCollectionExtensions
{
    /// <summary>Adds <see cref="LeadPrivacyService"/> and configures <see cref="PrivacyOptions"/>.</summary>
    /// <remarks>
    /// <para>
    /// The service walks every registered <see cref="IPersonalDataStore"/>, plus the <see cref="ILeadStore"/> and
    /// <see cref="IFunnelEventLog"/> when they are one (the in-memory defaults are). The storage packages register
    /// theirs. Also calls <c>AddFunnel()</c>.
    /// </para>
    /// <para>
    /// The options are validated when the host starts (<c>ValidateOnStart</c>), or without a host at the first
    /// <c>IOptions&lt;PrivacyOptions&gt;.Value</c>: a missing or short <see cref="PrivacyOptions.SuppressionKey"/>
    /// throws <see cref="OptionsValidationException"/> naming <c>PrivacyOptions.SuppressionKey</c>. Calling this
    /// method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPrivacy(this IServiceCollection services, Action<PrivacyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddFunnel();
        services.AddOptions<PrivacyOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(PrivacyMarker)))
        {
            return services;
        }

        services.AddSingleton<PrivacyMarker>();
        services.AddOptions<PrivacyOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<PrivacyOptions>, PrivacyOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrivacyOptions>, FluentValidateOptions<PrivacyOptions>>());
        services.TryAddSingleton(sp =>
        {
            ILeadStore leads = sp.GetRequiredService<ILeadStore>();
            IEnumerable<IPersonalDataStore> stores = sp.GetServices<IPersonalDataStore>()
                .Concat(new object[] { sp.GetRequiredService<IFunnelEventLog>(), leads }.OfType<IPersonalDataStore>());
            return new LeadPrivacyService(leads, stores, sp.GetRequiredService<IOptions<PrivacyOptions>>(), sp.GetRequiredService<IClock>(), sp.GetRequiredService<IFunnelEventLog>());
        });
        return services;
    }

    private sealed class PrivacyMarker;
}
