using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;

namespace Funnel.Offers;

/// <summary>When the offer path moves from one offer to the next.</summary>
public enum OfferTransition
{
    /// <summary>After the buyer purchased the offer: an upsell, charged with one click to the payment method on file.</summary>
    Purchased = 0,

    /// <summary>After the buyer declined the offer (an upsell): a downsell.</summary>
    Declined = 1,

    /// <summary>After a prospect left the offer's sales page without buying: a downsell.</summary>
    LeftSalesPage = 2,

    /// <summary>On the offer's checkout page, as a suggestion: a cross-sell.</summary>
    AtCheckout = 3,

    /// <summary>On the offer's checkout form, as a tick box: an order bump.</summary>
    OnCheckoutForm = 4,
}

/// <summary>One edge of an <see cref="OfferPath"/>: after <see cref="When"/> happens on <see cref="From"/>, offer <see cref="To"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OfferPathEdge
{
    /// <summary>Gets the offer the edge starts from.</summary>
    public required OfferId From { get; init; }

    /// <summary>Gets what must happen on <see cref="From"/>.</summary>
    public required OfferTransition When { get; init; }

    /// <summary>Gets the offer made next.</summary>
    public required OfferId To { get; init; }

    /// <summary>Gets whether <see cref="To"/> is a higher tier of <see cref="From"/>, so it must not be cheaper.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool HigherTier { get; init; }
}

/// <summary>The offer path: a graph of which offer comes after which, from the main offer's sales page onwards.</summary>
/// <remarks>
/// A <see cref="OfferTransition.Purchased"/>, <see cref="OfferTransition.Declined"/> or
/// <see cref="OfferTransition.LeftSalesPage"/> edge leads to at most one next offer; any number of bumps and
/// cross-sells may hang off one offer. Validate it against its catalogue with <see cref="OfferPathValidator"/>:
/// cycles, edges to unknown offers, and higher tiers cheaper than what they follow are errors naming the node.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record OfferPath
{
    /// <summary>Gets the offer the path starts with (the one the sales page sells).</summary>
    public required OfferId Entry { get; init; }

    /// <summary>Gets the edges.</summary>
    public ImmutableArray<OfferPathEdge> Edges { get; init; } = [];

    /// <summary>Returns the offer that follows <paramref name="from"/> after <paramref name="when"/>.</summary>
    /// <param name="from">The current offer.</param>
    /// <param name="when">What happened: purchased, declined or left the sales page.</param>
    /// <returns>The next offer, or <see langword="null"/> when the path ends there.</returns>
    public OfferId? Next(OfferId from, OfferTransition when)
    {
        foreach (OfferPathEdge edge in Edges)
        {
            if (edge.From == from && edge.When == when)
            {
                return edge.To;
            }
        }

        return null;
    }

    /// <summary>Returns the offers attached to <paramref name="from"/> by a transition, such as its order bumps.</summary>
    /// <param name="from">The offer.</param>
    /// <param name="when">Usually <see cref="OfferTransition.OnCheckoutForm"/> (bumps) or <see cref="OfferTransition.AtCheckout"/> (cross-sells).</param>
    /// <returns>The offers, in edge order.</returns>
    public ImmutableArray<OfferId> All(OfferId from, OfferTransition when)
    {
        ImmutableArray<OfferId>.Builder result = ImmutableArray.CreateBuilder<OfferId>();
        foreach (OfferPathEdge edge in Edges)
        {
            if (edge.From == from && edge.When == when)
            {
                result.Add(edge.To);
            }
        }

        return result.ToImmutable();
    }

    /// <summary>Tells whether <paramref name="offer"/> is offered after a purchase of <paramref name="purchased"/>, directly or after declines.</summary>
    /// <param name="purchased">The offer that was bought.</param>
    /// <param name="offer">The post-purchase offer (an upsell or downsell).</param>
    /// <returns><see langword="true"/> when following one purchased edge and then declined edges reaches <paramref name="offer"/>.</returns>
    public bool IsPostPurchaseOffer(OfferId purchased, OfferId offer)
    {
        OfferId? current = Next(purchased, OfferTransition.Purchased);
        for (int hops = 0; current is { } c && hops <= Edges.Length; hops++)
        {
            if (c == offer)
            {
                return true;
            }

            current = Next(c, OfferTransition.Declined);
        }

        return false;
    }
}

/// <summary>Validates an <see cref="OfferPath"/> against the catalogue whose offers it connects.</summary>
/// <remarks>
/// Errors: an entry or edge end that the catalogue does not define (<c>Edges[2].To</c>), two edges leaving one
/// offer on the same purchased/declined/left transition, an edge from an offer to itself or any cycle (named
/// by the offers on it), and an edge marked <see cref="OfferPathEdge.HigherTier"/> whose target is cheaper
/// than its source.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class OfferPathValidator : AbstractValidator<OfferPath>
{
    private readonly Catalogue catalogue;

    /// <summary>Initializes a validator for paths over the given catalogue.</summary>
    /// <param name="catalogue">The catalogue that defines the offers.</param>
    /// <exception cref="ArgumentNullException"><paramref name="catalogue"/> is <see langword="null"/>.</exception>
    public OfferPathValidator(Catalogue catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        this.catalogue = catalogue;
        RuleFor(p => p).Custom(Validate);
    }

    private void Validate(OfferPath path, ValidationContext<OfferPath> context)
    {
        if (catalogue.FindOffer(path.Entry) is null)
        {
            context.AddFailure(nameof(OfferPath.Entry), $"The path starts at offer '{path.Entry}', which the catalogue does not define.");
        }

        if (path.Edges.IsDefault)
        {
            context.AddFailure(nameof(OfferPath.Edges), "Edges must not be default; use [] for none.");
            return;
        }

        var single = new Dictionary<(OfferId, OfferTransition), int>();
        var next = new Dictionary<OfferId, List<(OfferId To, int Edge)>>();
        for (int i = 0; i < path.Edges.Length; i++)
        {
            string at = string.Create(CultureInfo.InvariantCulture, $"Edges[{i}]");
            OfferPathEdge? edge = path.Edges[i];
            if (edge is null)
            {
                context.AddFailure(at, "An edge must not be null.");
                continue;
            }

            Offer? from = catalogue.FindOffer(edge.From);
            Offer? to = catalogue.FindOffer(edge.To);
            if (from is null)
            {
                context.AddFailure(at + ".From", $"Edge from '{edge.From}' starts at an offer the catalogue does not define.");
            }

            if (to is null)
            {
                context.AddFailure(at + ".To", $"Edge from '{edge.From}' leads to '{edge.To}', which the catalogue does not define.");
            }

            if (!Enum.IsDefined(edge.When))
            {
                context.AddFailure(at + ".When", $"Edge from '{edge.From}' has an unknown transition {edge.When}.");
            }
            else if (edge.When is OfferTransition.Purchased or OfferTransition.Declined or OfferTransition.LeftSalesPage
                && !single.TryAdd((edge.From, edge.When), i))
            {
                context.AddFailure(at, $"Offer '{edge.From}' already has a '{edge.When}' edge (Edges[{single[(edge.From, edge.When)]}]); the next offer must be unambiguous.");
            }

            if (edge.HigherTier && from is not null && to is not null && from.Price.Currency == to.Price.Currency && to.Price < from.Price)
            {
                context.AddFailure(at + ".To", $"Offer '{edge.To}' ({to.Price}) is marked as a higher tier of '{edge.From}' ({from.Price}) but is cheaper.");
            }

            if (!next.TryGetValue(edge.From, out var list))
            {
                next[edge.From] = list = [];
            }

            list.Add((edge.To, i));
        }

        if (FindCycle(next) is { } cycle)
        {
            context.AddFailure(string.Create(CultureInfo.InvariantCulture, $"Edges[{cycle.Edge}]"),
                $"The offer path has a cycle through offer '{cycle.Offer}': {string.Join(" -> ", cycle.Offers)}.");
        }
    }

    private static (OfferId Offer, int Edge, List<OfferId> Offers)? FindCycle(Dictionary<OfferId, List<(OfferId To, int Edge)>> next)
    {
        // Iterative depth-first search with colours: 1 = on the current path, 2 = finished.
        var colour = new Dictionary<OfferId, int>();
        foreach (OfferId root in next.Keys.OrderBy(k => k.Value, StringComparer.Ordinal))
        {
            if (colour.ContainsKey(root))
            {
                continue;
            }

            var stack = new List<(OfferId Node, int Child)> { (root, 0) };
            colour[root] = 1;
            while (stack.Count > 0)
            {
                var (node, child) = stack[^1];
                List<(OfferId To, int Edge)>? children = next.GetValueOrDefault(node);
                if (children is null || child >= children.Count)
                {
                    colour[node] = 2;
                    stack.RemoveAt(stack.Count - 1);
                    continue;
                }

                stack[^1] = (node, child + 1);
                var (to, edge) = children[child];
                int c = colour.GetValueOrDefault(to);
                if (c == 1)
                {
                    int start = stack.FindIndex(s => s.Node == to);
                    List<OfferId> offers = [.. stack.Skip(start).Select(s => s.Node), to];
                    return (to, edge, offers);
                }

                if (c == 0)
                {
                    colour[to] = 1;
                    stack.Add((to, 0));
                }
            }
        }

        return null;
    }
}
