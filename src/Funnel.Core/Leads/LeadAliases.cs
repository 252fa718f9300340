using System.Collections.Frozen;
using Funnel.Events;

namespace Funnel.Leads;

/// <summary>Resolves visitor ids linked by <see cref="IdentityLinked"/> events to the lead they belong to.</summary>
/// <remarks>
/// <para>
/// Counting that is per person (funnel steps, customers, first-touch channels) resolves every event's
/// <see cref="LeadEvent.LeadId"/> through <see cref="Resolve"/> first, so a visitor's anonymous events count as the
/// lead's. The <see cref="Kpis.FunnelReporter"/> of Funnel.Core and the analytics store of Funnel.Analytics do.
/// </para>
/// <para>
/// The links are applied in time order (then by visitor id and lead id, so the result does not depend on the order
/// the events are given in). A visitor id belongs to the lead of its first link; later links of the same visitor id
/// are ignored. A link whose lead is, through earlier links, the visitor itself would close a cycle and is ignored.
/// Links chain: when a visitor is linked to an id that is linked in turn, it resolves to the end of the chain.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadAliases
{
    private readonly FrozenDictionary<LeadId, LeadId> _canonical;

    private LeadAliases(FrozenDictionary<LeadId, LeadId> canonical)
    {
        _canonical = canonical;
    }

    /// <summary>Gets the aliases of no links: every id resolves to itself.</summary>
    public static LeadAliases Empty { get; } = new(FrozenDictionary<LeadId, LeadId>.Empty);

    /// <summary>Gets the number of visitor ids that resolve to another id.</summary>
    public int Count => _canonical.Count;

    /// <summary>Builds the aliases of a set of links.</summary>
    /// <param name="links">The <see cref="IdentityLinked"/> events, in any order; repeats count once.</param>
    /// <returns>The aliases; <see cref="Empty"/> when there are no links.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="links"/> or one of its items is <see langword="null"/>.</exception>
    public static LeadAliases From(IEnumerable<IdentityLinked> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        List<IdentityLinked> ordered = [];
        foreach (IdentityLinked link in links)
        {
            ArgumentNullException.ThrowIfNull(link, nameof(links));
            ordered.Add(link);
        }

        if (ordered.Count == 0)
        {
            return Empty;
        }

        ordered.Sort(static (a, b) =>
        {
            int c = a.OccurredAt.CompareTo(b.OccurredAt);
            c = c != 0 ? c : a.VisitorId.Value.CompareTo(b.VisitorId.Value);
            return c != 0 ? c : a.LeadId.Value.CompareTo(b.LeadId.Value);
        });
        var parent = new Dictionary<LeadId, LeadId>();
        foreach (IdentityLinked link in ordered)
        {
            LeadId visitor = link.VisitorId, lead = link.LeadId;
            // A visitor belongs to the lead of its first link; a link back to the visitor would close a cycle.
            if (visitor != lead && !parent.ContainsKey(visitor) && Root(parent, lead) != visitor)
            {
                parent[visitor] = lead;
            }
        }

        var canonical = new Dictionary<LeadId, LeadId>(parent.Count);
        foreach (LeadId visitor in parent.Keys)
        {
            canonical[visitor] = Root(parent, visitor);
        }

        return new LeadAliases(canonical.ToFrozenDictionary());
    }

    /// <summary>Returns the lead an id belongs to: the linked lead of a visitor id, else the id itself.</summary>
    /// <param name="id">A lead or visitor id.</param>
    /// <returns>The canonical lead id.</returns>
    public LeadId Resolve(LeadId id) => _canonical.Count == 0 ? id : _canonical.GetValueOrDefault(id, id);

    /// <summary>Follows the links from an id to the end of its chain; the chains hold no cycle, so this ends.</summary>
    private static LeadId Root(Dictionary<LeadId, LeadId> parent, LeadId id)
    {
        while (parent.TryGetValue(id, out LeadId next))
        {
            id = next;
        }

        return id;
    }
}
