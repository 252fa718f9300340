using System.Collections.Concurrent;
using Funnel.Offers;

namespace Funnel.Samples.WebShop;

/// <summary>Grants access to bought products by remembering them; the thank-you page lists them.</summary>
public sealed class ShopEntitlements : IEntitlementGrantor
{
    private readonly ConcurrentDictionary<(OrderId, string), Entitlement> granted = new();

    /// <inheritdoc/>
    public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
    {
        granted[(entitlement.Order, entitlement.Product)] = entitlement;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
    {
        granted.TryRemove((entitlement.Order, entitlement.Product), out _);
        return Task.CompletedTask;
    }

    /// <summary>Returns the products a lead has access to.</summary>
    public IReadOnlyList<Entitlement> Of(LeadId lead) => [.. granted.Values.Where(e => e.Lead == lead).OrderBy(e => e.Product, StringComparer.Ordinal)];
}
