using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Email;
using Funnel.Email.SendGrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SendGrid email sender and its webhook's services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SendGridServiceCollectionExtensions
{
    /// <summary>Adds an <see cref="IEmailSender"/> that sends through the SendGrid v3 mail API, configured by <see cref="SendGridOptions"/>.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered, the sender as a singleton <see cref="IEmailSender"/> and
    /// <see cref="IClock"/> (<see cref="SystemClock.Instance"/>), which the Event Webhook checks its timestamps with. Map
    /// the webhook with <c>MapFunnelSendGridWebhook</c>; it records through the <see cref="IEmailFeedbackRecorder"/>
    /// that <c>AddFunnelSequences()</c> registers.
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
    public static IServiceCollection AddFunnelSendGrid(this IServiceCollection services, Action<SendGridOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SendGridOptions>().Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(SendGridMarker)))
        {
            return services;
        }

        services.AddSingleton<SendGridMarker>();
        services.AddOptions<SendGridOptions>().ValidateOnStart();
        services.TryAddSingleton<IValidator<SendGridOptions>, SendGridOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SendGridOptions>, FluentValidateOptions<SendGridOptions>>());
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.TryAddSingleton<IEmailSender>(sp => new SendGridEmailSender(sp.GetRequiredService<IOptions<SendGridOptions>>().Value));
        services.TryAddSingleton(sp => new SendGridWebhookHandler(
            sp.GetRequiredService<IOptions<SendGridOptions>>().Value,
            sp.GetRequiredService<IClock>()));
        return services;
    }

    /// <summary>Marks that <see cref="AddFunnelSendGrid"/> ran.</summary>
    private sealed class SendGridMarker;
}
