using System.Text.Json;
using Funnel.Events;

namespace Funnel.Storage;

/// <summary>The lead an event is about, as the durable event logs store it (column <c>events.lead_id</c>).</summary>
internal static class EventLeads
{
    /// <summary>Returns the lead of a <see cref="LeadEvent"/>, or the <c>leadId</c> field of an <see cref="UnknownEvent"/>.</summary>
    /// <remarks>
    /// An <see cref="UnknownEvent"/> (a type a newer version wrote) keeps its <c>leadId</c> field, so one passed back
    /// through this process stays in that lead's history and partition.
    /// </remarks>
    /// <param name="funnelEvent">The event.</param>
    /// <returns>The lead, or <see langword="null"/> for an event about no lead.</returns>
    public static LeadId? LeadOf(FunnelEvent funnelEvent)
    {
        switch (funnelEvent)
        {
            case LeadEvent lead:
                return lead.LeadId;
            case UnknownEvent unknown:
                try
                {
                    using JsonDocument json = JsonDocument.Parse(unknown.Json);
                    return json.RootElement.ValueKind == JsonValueKind.Object
                        && json.RootElement.TryGetProperty("leadId", out JsonElement id)
                        && id.ValueKind == JsonValueKind.String
                        && Guid.TryParseExact(id.GetString(), "D", out Guid guid)
                        ? new LeadId(guid)
                        : null;
                }
                catch (JsonException)
                {
                    return null;
                }

            default:
                return null;
        }
    }
}
