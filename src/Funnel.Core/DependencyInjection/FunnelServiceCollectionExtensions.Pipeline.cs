using Funnel.DependencyInjection;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <content>Registers handlers for the Funnel event pipeline.</content>
public static partial class FunnelServiceCollectionExtensions
{
    /// <summary>Registers an <see cref="IFunnelHandler"/> that the <see cref="FunnelPipeline"/> delivers every event to.</summary>
    /// <remarks>
    /// <para>
    /// The handler is a singleton (registered unless <typeparamref name="THandler"/> is already). Its
    /// <paramref name="name"/> keys its durable position in the event log, so it must not change once the app has run:
    /// a new name starts the handler from the beginning of the log. Also calls <c>AddFunnel()</c>.
    /// </para>
    /// <para>Registering the same name and type again does nothing.</para>
    /// </remarks>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The handler's stable name: 1 to 64 lowercase letters, digits, <c>-</c> or <c>.</c>.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> has other characters, or is registered for another handler type.</exception>
    public static IServiceCollection AddFunnelHandler<THandler>(this IServiceCollection services, string name)
        where THandler : class, IFunnelHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 64 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
        {
            throw new ArgumentException($"The handler name '{name}' must be 1 to 64 lowercase letters, digits, '-' or '.'.", nameof(name));
        }

        services.AddFunnel();
        foreach (ServiceDescriptor descriptor in services.Where(d => d.ServiceType == typeof(FunnelHandlerRegistration)))
        {
            if (descriptor.ImplementationInstance is FunnelHandlerRegistration existing && existing.Name == name)
            {
                return existing.HandlerType == typeof(THandler)
                    ? services
                    : throw new ArgumentException(
                        $"The handler name '{name}' is already registered for {existing.HandlerType.FullName}; each handler needs its own name.", nameof(name));
            }
        }

        services.TryAddSingleton<THandler>();
        services.AddSingleton(new FunnelHandlerRegistration(name, typeof(THandler)));
        return services;
    }

    /// <summary>Registers a background job for the job runner of <c>AddFunnelHosting()</c>.</summary>
    /// <remarks>The job is a singleton; registering the same type again adds nothing.</remarks>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelJob<TJob>(this IServiceCollection services)
        where TJob : class, IFunnelJob
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFunnelJob, TJob>());
        return services;
    }
}
