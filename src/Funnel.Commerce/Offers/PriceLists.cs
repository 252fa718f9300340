using System.Collections.Immutable;

namespace Funnel.Offers;

/// <summary>Lookups of an amount in the catalogue's currency or one of its per-currency alternatives.</summary>
internal static class PriceLists
{
    /// <summary>Returns <paramref name="main"/> when it is in <paramref name="currency"/>, else the alternative in it, or <see langword="null"/>.</summary>
    public static Money? Find(Money main, ImmutableArray<Money> others, Currency currency)
    {
        if (main.Currency == currency)
        {
            return main;
        }

        if (!others.IsDefault)
        {
            foreach (Money other in others)
            {
                if (other.Currency == currency)
                {
                    return other;
                }
            }
        }

        return null;
    }
}
