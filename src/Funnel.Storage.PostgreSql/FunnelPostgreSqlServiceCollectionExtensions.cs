using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Storage.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Funnel.Storage.PostgreSql;

/// <summary>Registers PostgreSQL storage for every Funnel store and the event log.</summary>
public static partial class FunnelPostgreSqlServiceCollectionExtensions
{
    /// <summary>Stores everything in PostgreSQL, opening connections from a connection string.</summary>
    /// <remarks>
    /// <para>
    /// Replaces the in-memory stores of <c>AddFunnel</c>, <c>AddFunnelSequences</c>, <c>AddFunnelCommerce</c> and
    /// <c>AddFunnelAdvocacy</c> (it may be called before or after them). The schema is created or upgraded when the host
    /// starts, before any other hosted service, unless <see cref="FunnelPostgreSqlOptions.Migrations"/> says otherwise.
    /// </para>
    /// <para>
    /// Several app instances may share one database: sends, webhook retries and the pipeline's partitions are claimed with
    /// leases, and completions are fenced, so each instance does a share of the work and none does another's.
    /// </para>
    /// <para>
    /// Adds the health check <c>funnel-postgresql</c> (tag <c>funnel</c>): unhealthy when the database cannot be reached or
    /// its schema is not at this package's version, degraded when a due send has waited over 5 minutes.
    /// </para>
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="connectionString"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPostgreSql(this IServiceCollection services, string connectionString) =>
        services.AddFunnelPostgreSql(connectionString, static _ => { });

    /// <summary>Stores everything in PostgreSQL, opening connections from a connection string, with further options.</summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Changes further options, such as <see cref="FunnelPostgreSqlOptions.Schema"/>.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPostgreSql(this IServiceCollection services, string connectionString, Action<FunnelPostgreSqlOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddFunnelPostgreSql(options =>
        {
            options.ConnectionString = connectionString;
            configure(options);
        });
    }

    /// <summary>Stores everything in PostgreSQL, configured by <paramref name="configure"/> (for binding from configuration).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets <see cref="FunnelPostgreSqlOptions.ConnectionString"/> and any other option.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPostgreSql(this IServiceCollection services, Action<FunnelPostgreSqlOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton<IValidator<FunnelPostgreSqlOptions>, FunnelPostgreSqlOptionsValidator>();
        return AddCore(services, configure);
    }

    /// <summary>Stores everything in PostgreSQL, on the app's own data source (its pool, its settings).</summary>
    /// <remarks>
    /// Funnel adds no type mapping to the data source and never disposes it; the app owns it. Size its pool for
    /// Funnel's connections too: see the deployment guide.
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="dataSource">The app's data source.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="dataSource"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPostgreSql(this IServiceCollection services, NpgsqlDataSource dataSource) =>
        services.AddFunnelPostgreSql(dataSource, static _ => { });

    /// <summary>Stores everything in PostgreSQL, on the app's own data source, with further options such as the schema.</summary>
    /// <remarks>Funnel adds no type mapping to the data source and never disposes it; the app owns it.</remarks>
    /// <param name="services">The services.</param>
    /// <param name="dataSource">The app's data source.</param>
    /// <param name="configure">Changes further options, such as <see cref="FunnelPostgreSqlOptions.Schema"/>.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelPostgreSql(this IServiceCollection services, NpgsqlDataSource dataSource, Action<FunnelPostgreSqlOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(configure);
        services.RemoveAll<FunnelPostgreSqlDataSource>();
        services.AddSingleton(new FunnelPostgreSqlDataSource(dataSource));
        services.RemoveAll<IValidator<FunnelPostgreSqlOptions>>();
        services.AddSingleton<IValidator<FunnelPostgreSqlOptions>>(new FunnelPostgreSqlOptionsValidator(dataSourceGiven: true));
        return AddCore(services, configure);
    }

    private static IServiceCollection AddCore(IServiceCollection services, Action<FunnelPostgreSqlOptions> configure)
    {
        services.AddOptions<FunnelPostgreSqlOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelPostgreSqlOptions>, FluentValidateOptions<FunnelPostgreSqlOptions>>());
        services.TryAddSingleton(static sp => new PgDatabase(
            sp.GetRequiredService<IOptions<FunnelPostgreSqlOptions>>(), sp.GetService<FunnelPostgreSqlDataSource>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PgSchemaHostedService>());
        AddCoreStores(services);
        AddSequenceStores(services);
        AddCommerceStores(services);
        AddAdvocacyStores(services);
        if (!services.Any(d => d.ServiceType == typeof(PgHealthCheck)))
        {
            services.AddSingleton<PgHealthCheck>();
            services.AddHealthChecks().AddCheck<PgHealthCheck>("funnel-postgresql", tags: ["funnel"]);
        }

        return services;
    }

    static partial void AddCoreStores(IServiceCollection services);

    static partial void AddSequenceStores(IServiceCollection services);

    static partial void AddCommerceStores(IServiceCollection services);

    static partial void AddAdvocacyStores(IServiceCollection services);

    /// <summary>Replaces every registration of <typeparamref name="TService"/> with the singleton <typeparamref name="TImplementation"/>.</summary>
    private static void Replace<TService, TImplementation>(IServiceCollection services)
        where TService : class
        where TImplementation : class, TService
    {
        services.RemoveAll<TService>();
        services.AddSingleton<TService, TImplementation>();
    }
}

/// <summary>Migrates (or validates) the schema while the host starts, before any other hosted service starts.</summary>
internal sealed class PgSchemaHostedService(PgDatabase database) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => database.EnsureReadyAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
