namespace Funnel.Offers;

/// <summary>Counts coupon redemptions so limits hold; replace the in-memory default with durable storage.</summary>
public interface ICouponRedemptionStore
{
    /// <summary>Redeems the coupon once for the lead if neither limit is reached, atomically.</summary>
    /// <param name="code">The coupon code (as defined in the catalogue).</param>
    /// <param name="lead">The lead.</param>
    /// <param name="maxTotal">The limit over all leads, or <see langword="null"/> for none.</param>
    /// <param name="maxPerLead">The limit for one lead, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when redeemed; <see langword="false"/> when a limit was reached.</returns>
    Task<bool> TryRedeemAsync(string code, LeadId lead, int? maxTotal, int? maxPerLead, CancellationToken cancellationToken = default);

    /// <summary>Gives back one redemption, when an order could not be placed after all.</summary>
    /// <param name="code">The coupon code.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the redemption is given back.</returns>
    Task ReleaseAsync(string code, LeadId lead, CancellationToken cancellationToken = default);
}
