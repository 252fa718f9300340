using Funnel;
using Funnel.AspNetCore;
using Funnel.Leads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Http;

/// <summary>Links the browser's anonymous visitor to a lead from an application's own pages, such as its login.</summary>
/// <threadsafety>The methods are safe to call from many requests at once.</threadsafety>
public static class FunnelHttpContextExtensions
{
    /// <summary>Links the browser's visitor cookie to a lead who just logged in, so the visitor's anonymous events count as the lead's.</summary>
    /// <remarks>
    /// <para>
    /// Call it where a known lead signs in (the opt-in endpoint of <c>MapFunnel</c> links by itself). It reads the
    /// visitor cookie (<see cref="FunnelAspNetCoreOptions.VisitorCookieName"/>), links that anonymous visitor id to
    /// the lead through <see cref="LeadCapture.LinkAsync"/> (an <see cref="IdentityLinked"/> event, recorded once
    /// however often the lead signs in), and sets the cookie to the lead's id, so the events of the rest of the visit
    /// are recorded as the lead's directly.
    /// </para>
    /// <para>
    /// A cookie that is the id of another lead (someone else used this browser before) is not linked: that would count
    /// two people as one. The cookie is set to the lead's id all the same.
    /// </para>
    /// </remarks>
    /// <param name="context">The request of the lead who signed in.</param>
    /// <param name="leadId">The lead's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// <see langword="true"/> when the browser's visitor id is linked to the lead (by this call or an earlier one);
    /// <see langword="false"/> when there was no visitor cookie, it was already the lead's id, or it is another lead's id.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="leadId"/> is the empty (default) id or names no lead.</exception>
    /// <exception cref="InvalidOperationException"><c>AddFunnel</c> and <c>AddFunnelAspNetCore</c> were not called.</exception>
    public static async Task<bool> LinkVisitorAsync(this HttpContext context, LeadId leadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (leadId.Value == Guid.Empty)
        {
            throw new ArgumentException("The lead id is empty (default).", nameof(leadId));
        }

        IServiceProvider services = context.RequestServices;
        FunnelAspNetCoreOptions options = services.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value;
        bool linked = false;
        if (FunnelEndpoints.ReadVisitor(context, options) is { } visitor
            && visitor != leadId
            && await services.GetRequiredService<ILeadStore>().FindAsync(visitor, cancellationToken).ConfigureAwait(false) is null)
        {
            await services.GetRequiredService<LeadCapture>().LinkAsync(visitor, leadId, cancellationToken).ConfigureAwait(false);
            linked = true;
        }

        FunnelEndpoints.WriteVisitor(context, options, leadId);
        return linked;
    }
}
