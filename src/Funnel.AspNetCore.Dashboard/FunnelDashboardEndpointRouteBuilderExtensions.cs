using Funnel.AspNetCore.Dashboard;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Funnel dashboard.</summary>
/// <threadsafety>Call these methods while building the app, from one thread.</threadsafety>
public static class FunnelDashboardEndpointRouteBuilderExtensions
{
    /// <summary>Maps the dashboard's pages and actions under a route prefix, behind its authorization policy.</summary>
    /// <remarks>
    /// <para>
    /// Pages: <c>{prefix}/</c> (overview), <c>{prefix}/email</c>, <c>{prefix}/sequences</c>, <c>{prefix}/broadcasts</c>,
    /// <c>{prefix}/payments</c>, <c>{prefix}/webhooks</c>, <c>{prefix}/experiments</c>, <c>{prefix}/affiliates</c>,
    /// <c>{prefix}/pipeline</c>, <c>{prefix}/leads</c> and <c>{prefix}/leads/{id}</c>; actions are <c>POST</c>s under
    /// the same paths, each validating the antiforgery token and refused in read-only mode.
    /// </para>
    /// <para>
    /// Reading the options here validates them, so a dashboard without a policy (outside Development with
    /// <see cref="FunnelDashboardOptions.AllowAnonymousInDevelopment"/>) fails the start; a policy that is not
    /// registered fails it too, naming the policy. The group requires the policy on every request; add more
    /// conventions to the returned group if you need them.
    /// </para>
    /// </remarks>
    /// <param name="endpoints">The endpoint route builder, such as the <c>WebApplication</c>.</param>
    /// <param name="prefix">The route prefix.</param>
    /// <returns>The dashboard's endpoint group.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> or <paramref name="prefix"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or does not start with <c>/</c>.</exception>
    /// <exception cref="InvalidOperationException"><c>AddFunnelDashboard</c> was not called, or the policy is not registered.</exception>
    /// <exception cref="OptionsValidationException">The <see cref="FunnelDashboardOptions"/> are not valid.</exception>
    public static RouteGroupBuilder MapFunnelDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/funnel-admin")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (!prefix.StartsWith('/'))
        {
            throw new ArgumentException("The dashboard's prefix must start with '/', such as \"/funnel-admin\".", nameof(prefix));
        }

        IServiceProvider services = endpoints.ServiceProvider;
        if (services.GetService<IEnumerable<IValidateOptions<FunnelDashboardOptions>>>() is not { } validators || !validators.Any())
        {
            throw new InvalidOperationException("Call services.AddFunnelDashboard(o => o.AuthorizationPolicy = \"...\") before MapFunnelDashboard.");
        }

        FunnelDashboardOptions options = services.GetRequiredService<IOptions<FunnelDashboardOptions>>().Value;
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        if (options.AuthorizationPolicy is { Length: > 0 } policy)
        {
            IAuthorizationPolicyProvider provider = services.GetRequiredService<IAuthorizationPolicyProvider>();
            if (provider.GetPolicyAsync(policy).GetAwaiter().GetResult() is null)
            {
                throw new InvalidOperationException(
                    $"The Funnel dashboard's authorization policy \"{policy}\" is not registered: add it with "
                    + $"services.AddAuthorization(o => o.AddPolicy(\"{policy}\", p => ...)).");
            }

            group.RequireAuthorization(policy);
        }

        DashboardEndpoints.Map(group, prefix, options);
        group.ExcludeFromDescription();
        return group;
    }
}
