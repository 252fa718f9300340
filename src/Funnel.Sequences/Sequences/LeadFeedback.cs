using Funnel.Events;
using Funnel.Leads;

namespace Funnel.Sequences;

/// <summary>The one read-modify-write of a lead's suppression facts for email feedback (dispatcher and feedback recorder).</summary>
internal static class LeadFeedback
{
    /// <summary>Applies <paramref name="feedback"/> to the lead with <see cref="LeadProfile.ApplyFeedback"/>; returns whether the stored profile changed.</summary>
    internal static async Task<bool> ApplyAsync(ILeadStore leads, LeadId lead, EmailEvent feedback, int softBounceThreshold, CancellationToken cancellationToken) =>
        (await OptimisticConcurrency.UpdateAsync(
            c => leads.FindAsync(lead, c),
            current => current?.ApplyFeedback(feedback, softBounceThreshold),
            tryAddAsync: null,
            leads.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {lead}",
            cancellationToken).ConfigureAwait(false)).Changed;

    /// <summary>Starts the lead's soft-bounce count again (a send was accepted).</summary>
    internal static async Task ResetSoftBouncesAsync(ILeadStore leads, LeadId lead, CancellationToken cancellationToken) =>
        _ = await OptimisticConcurrency.UpdateAsync(
            c => leads.FindAsync(lead, c),
            current => current is null || current.SoftBounces == 0 ? current : current with { SoftBounces = 0 },
            tryAddAsync: null,
            leads.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Lead {lead}",
            cancellationToken).ConfigureAwait(false);
}
