using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Leads;

/// <summary>Applies <see cref="LeadTagged"/> and <see cref="LeadUntagged"/> to the lead's profile.</summary>
/// <remarks>
/// Adding a tag the lead has, or removing one they do not have, changes nothing, so a redelivered event is harmless.
/// An event about a lead without a profile (erased, or never captured) is ignored.
/// </remarks>
internal sealed class TagsHandler(ILeadStore store) : IFunnelHandler
{
    /// <summary>The name under which <c>AddFunnel</c> registers the handler.</summary>
    public const string Name = "tags";

    public async Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        (LeadId lead, string tag, bool add) = funnelEvent switch
        {
            LeadTagged t => (t.LeadId, t.Tag, true),
            LeadUntagged u => (u.LeadId, u.Tag, false),
            _ => (default, string.Empty, false),
        };
        if (tag.Length == 0)
        {
            return;
        }

        await OptimisticConcurrency.UpdateAsync(
            c => store.FindAsync(lead, c),
            current => current switch
            {
                null => null,
                _ when add && !current.Tags.Contains(tag) => current with { Tags = current.Tags.Add(tag) },
                _ when !add && current.Tags.Contains(tag) => current with { Tags = current.Tags.Remove(tag) },
                _ => current,
            },
            tryAddAsync: null,
            store.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {lead}",
            cancellationToken).ConfigureAwait(false);
    }
}
