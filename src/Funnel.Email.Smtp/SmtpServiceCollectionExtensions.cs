using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Email.Smtp;
using Funnel.Email;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SMTP email sender.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SmtpServiceCollectionExtensions
{
    /// <summary>Adds an <see cref="IEmailSender"/> that sends over SMTP with MailKit, configured by <see cref="SmtpOptions"/>.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered, the sender as a singleton <see cref="IEmailSender"/> (it keeps up to
    /// <see cref="SmtpOptions.MaxConnections"/> connections open and reuses them) and <see cref="IClock"/>
    /// (<see cref="SystemClock.Instance"/>), for the <c>Date</c> header.
    /// </para>
    /// <para>
    /// The options are validated when the host starts (<c>ValidateOnStart</c>), or without a host when the sender is
    /// first resolved; an invalid option throws <see cref="OptionsValidationException"/> naming the option. Calling this
    /// method again adds the configuration and registers nothing twice.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSmtp(this IServiceCollection services, Action<SmtpOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SmtpOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(SmtpMarker)))
        {
            return services;
        }

        services.AddSingleton<SmtpMarker>();
        services.AddOptions<SmtpOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<SmtpOptions>, SmtpOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SmtpOptions>, FluentValidateOptions<SmtpOptions>>());
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton<IEmailSender>(sp => new SmtpEmailSender(sp.GetRequiredService<IOptions<SmtpOptions>>().Value, sp.GetRequiredService<IClock>()));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelSmtp"/> ran.</summary>
    private sealed class SmtpMarker;
}
