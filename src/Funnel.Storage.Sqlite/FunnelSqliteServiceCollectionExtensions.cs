using FluentValidation;
using Funnel.DependencyInjection;
using Funnel.Storage.Sqlite.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Funnel.Storage.Sqlite;

/// <summary>Registers SQLite storage for every Funnel store.</summary>
public static partial class FunnelSqliteServiceCollectionExtensions
{
    /// <summary>Stores every Funnel store and the event log in one SQLite database file, replacing the in-memory defaults.</summary>
    /// <remarks>
    /// <para>
    /// Call it before or after the other <c>Add…</c> calls: it replaces their in-memory stores either way. The file and
    /// its tables are created when missing and upgraded at start-up (see <see cref="FunnelSqliteOptions.Migrations"/>).
    /// The options are validated when the host starts (<c>ValidateOnStart</c>), or when a store is first resolved.
    /// </para>
    /// <para>
    /// SQLite serves one process on a local disk. Writes from all stores share commits (group commit), and a write
    /// completes only once it is on disk. Run a second instance of the app against PostgreSQL, not against one file.
    /// </para>
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The connection string, such as <c>Data Source=funnel.db</c>.</param>
    /// <param name="configure">Changes the other options.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="connectionString"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSqlite(this IServiceCollection services, string connectionString, Action<FunnelSqliteOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return services.AddFunnelSqlite(options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
    }

    /// <summary>Stores every Funnel store and the event log in one SQLite database file, with options set by <paramref name="configure"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="FunnelSqliteOptions.ConnectionString"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSqlite(this IServiceCollection services, Action<FunnelSqliteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FunnelSqliteOptions>().Configure(configure).ValidateOnStart();
        services.TryAddSingleton<IValidator<FunnelSqliteOptions>, FunnelSqliteOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FunnelSqliteOptions>, FluentValidateOptions<FunnelSqliteOptions>>());
        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SqliteSchemaHostedService>());
        AddCoreStores(services);
        AddSequenceStores(services);
        AddCommerceStores(services);
        AddAdvocacyStores(services);
        return services;
    }

    /// <summary>Registers the SQLite stores of Funnel.Core (leads, segments, the event log and the pipeline's positions).</summary>
    static partial void AddCoreStores(IServiceCollection services);

    /// <summary>Registers the SQLite stores of Funnel.Sequences (enrolments and the send outbox).</summary>
    static partial void AddSequenceStores(IServiceCollection services);

    /// <summary>Registers the SQLite stores of Funnel.Commerce (orders, webhooks, coupons, deadlines, seats).</summary>
    static partial void AddCommerceStores(IServiceCollection services);

    /// <summary>Registers the SQLite stores of Funnel.Advocacy (affiliates, referrals, reviews, onboarding, webinars).</summary>
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

/// <summary>Migrates or validates the schema before any hosted service starts, so a schema problem stops start-up.</summary>
internal sealed class SqliteSchemaHostedService(SqliteDatabase database) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        database.EnsureReady();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
