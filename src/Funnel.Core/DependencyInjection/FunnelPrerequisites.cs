using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Funnel.DependencyInjection;

/// <summary>A service that one of the <c>AddFunnel…</c> registrations needs and does not register itself.</summary>
internal sealed record FunnelPrerequisite(string Registration, Type Service, string Remedy);

/// <summary>Fails <see cref="FunnelOptions"/> validation, and so the host's start-up, when a prerequisite is not registered.</summary>
/// <remarks>
/// <see cref="FunnelOptions"/> are validated on start (<c>ValidateOnStart</c>), before any hosted service runs, so a
/// missing catalogue or sender stops the app with a message naming the registration, the service and how to add it,
/// instead of failing a background job later. Without a host it runs at the first <c>IOptions&lt;FunnelOptions&gt;.Value</c>.
/// </remarks>
internal sealed class FunnelPrerequisitesValidator(IEnumerable<FunnelPrerequisite> prerequisites, IServiceProvider services) : IValidateOptions<FunnelOptions>
{
    public ValidateOptionsResult Validate(string? name, FunnelOptions options)
    {
        if ((name is not null && name != Options.DefaultName) || services.GetService<IServiceProviderIsService>() is not { } isService)
        {
            return ValidateOptionsResult.Skip;
        }

        string[] missing = [.. prerequisites
            .Where(p => !isService.IsService(p.Service))
            .Select(p => $"{p.Registration} needs a {p.Service.FullName}, which is not registered: {p.Remedy}")
            .Distinct(StringComparer.Ordinal)];
        return missing.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(missing);
    }
}
