using FluentValidation;
using Funnel;
using Funnel.DependencyInjection;
using Funnel.Definitions;
using Funnel.Kpis;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel core services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static partial class FunnelServiceCollectionExtensions
{
    /// <summary>Adds the Funnel core services with default options.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnel(this IServiceCollection services) => services.AddFunnel(static _ => { });

    /// <summary>Adds the Funnel core services and configures <see cref="FunnelOptions"/>.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: <see cref="IClock"/> (<see cref="SystemClock.Instance"/>),
    /// <see cref="IDateTimeZoneProvider"/> (TZDB), validators for <see cref="FunnelOptions"/> and
    /// <see cref="FunnelDefinition"/>, <see cref="LeadLifecycle.Default"/>, an <see cref="ICustomerLifetimeValueModel"/>
    /// (<see cref="SimpleCustomerLifetimeValueModel"/>), an <see cref="IFunnelReporter"/> with every registered
    /// <see cref="IFunnelReportSection"/>; the event log, handler positions, parked events and the
    /// <see cref="Funnel.Pipeline.FunnelPipeline"/>; the event types of Funnel.Core with a <c>FunnelEventTypes</c>
    /// registry and <c>FunnelEventSerializer</c> (see <c>AddFunnelEventTypes</c>); and for leads an
    /// <see cref="ILeadStore"/> and an <see cref="Funnel.Segments.ISegmentMembershipStore"/> (in memory),
    /// <see cref="LeadCapture"/> and validators for lead magnets, scoring models and segments. Register your own
    /// before or after this call to replace any of them.
    /// </para>
    /// <para>
    /// This registers the core only. Each feature package adds its own services and calls this method itself, so the
    /// order of the calls does not matter: <c>AddFunnelSequences()</c> (Funnel.Sequences), <c>AddFunnelCommerce()</c>
    /// (Funnel.Commerce: offers, orders and payments) and <c>AddFunnelAdvocacy()</c> (Funnel.Advocacy).
    /// </para>
    /// <para>
    /// The options are validated when the host starts (<c>ValidateOnStart</c>), or without a host at the first
    /// <c>IOptions&lt;FunnelOptions&gt;.Value</c>; an invalid option throws <see cref="OptionsValidationException"/>
    /// naming the option and the problem. Calling this method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnel(this IServiceCollection services, Action<FunnelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<FunnelOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(FunnelMarker)))
        {
            return services;
        }

        services.AddSingleton<FunnelMarker>();
        services.AddOptions<FunnelOptions>().ValidateOnStart();
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton(DateTimeZoneProviders.Tzdb);
        services.TryAddSingleton<IValidator<FunnelOptions>>(sp => new FunnelOptionsValidator(sp.GetRequiredService<IDateTimeZoneProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelOptions>, FluentValidateOptions<FunnelOptions>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelOptions>, FunnelPrerequisitesValidator>());
        services.TryAddSingleton<IValidator<FunnelDefinition>, FunnelDefinitionValidator>();
        services.TryAddSingleton(LeadLifecycle.Default);
        services.TryAddSingleton<ICustomerLifetimeValueModel>(sp =>
            new SimpleCustomerLifetimeValueModel(sp.GetRequiredService<IOptions<FunnelOptions>>().Value.CustomerLifespanPeriods));
        services.TryAddSingleton<IFunnelReporter>(sp =>
        {
            FunnelOptions options = sp.GetRequiredService<IOptions<FunnelOptions>>().Value;
            return new FunnelReporter(new FunnelReportSettings
            {
                Currency = Currency.FromCode(options.DefaultCurrency),
                BounceWindow = options.BounceWindow,
                Lifecycle = sp.GetRequiredService<LeadLifecycle>(),
                CustomerLifetimeValue = sp.GetRequiredService<ICustomerLifetimeValueModel>(),
                ExchangeRates = sp.GetService<Funnel.Currencies.IExchangeRates>(),
                Sections = [.. sp.GetServices<IFunnelReportSection>()],
            });
        });
        PipelineRegistration.AddPipeline(services);
        LeadsRegistration.AddLeads(services);
        services.AddFunnelEventTypes(typeof(FunnelServiceCollectionExtensions).Assembly);
        return services;
    }

    /// <summary>Declares a service that a registration needs, so that the app fails at start-up, naming it, when it is missing.</summary>
    /// <remarks>
    /// <para>
    /// Packages call this for what their <c>Add…</c> method needs but cannot register itself, such as the catalogue of
    /// offers or an email sender; your own extension methods can too. When the host starts (or, without a host, at the
    /// first <c>IOptions&lt;FunnelOptions&gt;.Value</c>), every prerequisite that is not registered is reported in one
    /// <see cref="OptionsValidationException"/> whose failures read
    /// <c>{registration} needs a {service}, which is not registered: {remedy}</c>. Also calls <c>AddFunnel()</c>.
    /// </para>
    /// <para>The check uses <see cref="IServiceProviderIsService"/>; a container without it skips the check.</para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="registration">The registration that needs the service, as the user wrote it, such as <c>AddFunnelPaymentWebhooks("stripe")</c>.</param>
    /// <param name="service">The service type that must be registered.</param>
    /// <param name="remedy">How to register it, such as <c>services.AddSingleton(catalogue)</c>.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPrerequisite(this IServiceCollection services, string registration, Type service, string remedy)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(remedy);
        services.AddFunnel();
        services.AddSingleton(new FunnelPrerequisite(registration, service, remedy));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnel(IServiceCollection, Action{FunnelOptions})"/> ran.</summary>
    private sealed class FunnelMarker;
}
