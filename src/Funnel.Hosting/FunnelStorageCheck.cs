using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Hosting;

/// <summary>Finds the Funnel stores that are still the in-memory defaults.</summary>
/// <remarks>
/// A store is a service whose interface comes from a Funnel assembly and whose name ends in <c>Store</c>, <c>Log</c>,
/// <c>Outbox</c> or <c>Inventory</c>; it is in memory when the registered implementation's type name starts with
/// <c>InMemory</c>. Only singletons are looked at, and only those already registered as types or instances, so the
/// check creates nothing.
/// </remarks>
internal sealed class FunnelStorageCheck(IEnumerable<string> inMemory)
{
    public IReadOnlyList<string> InMemoryStores { get; } = [.. inMemory.Order(StringComparer.Ordinal)];

    public static FunnelStorageCheck From(IServiceCollection services)
    {
        List<string> found = [];
        foreach (ServiceDescriptor d in services)
        {
            if (d.Lifetime != ServiceLifetime.Singleton || d.IsKeyedService || !IsStoreSeam(d.ServiceType))
            {
                continue;
            }

            Type? implementation = d.ImplementationType ?? d.ImplementationInstance?.GetType();
            if (implementation is null && d.ImplementationFactory is not null)
            {
                // A factory's product is unknown until it runs; the storage packages register types or instances.
                continue;
            }

            if (implementation is not null && implementation.Name.StartsWith("InMemory", StringComparison.Ordinal))
            {
                found.Add(d.ServiceType.Name);
            }
        }

        return new FunnelStorageCheck(found.Distinct(StringComparer.Ordinal));
    }

    private static bool IsStoreSeam(Type type) =>
        type.IsInterface
        && (type.Assembly.GetName().Name?.StartsWith("Funnel.", StringComparison.Ordinal) ?? false)
        && (type.Name.EndsWith("Store", StringComparison.Ordinal) || type.Name.EndsWith("Log", StringComparison.Ordinal)
            || type.Name.EndsWith("Outbox", StringComparison.Ordinal) || type.Name.EndsWith("Inventory", StringComparison.Ordinal));
}
