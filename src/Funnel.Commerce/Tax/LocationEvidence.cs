using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Funnel.Tax;

/// <summary>The pieces of evidence of where a consumer lives, recorded for the place of supply of a digital sale.</summary>
/// <remarks>
/// Each is an ISO 3166-1 alpha-2 country code (<c>DE</c>, <c>GB</c>), or <see langword="null"/> when not known: the
/// billing address the buyer entered, the country of the IP address of the checkout request, and the country that
/// issued the payment card (from the payment provider). Codes are compared ignoring case.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LocationEvidence
{
    /// <summary>Gets the country of the billing address.</summary>
    public string? BillingCountry { get; init; }

    /// <summary>Gets the country of the buyer's IP address.</summary>
    public string? IpCountry { get; init; }

    /// <summary>Gets the country that issued the buyer's payment card.</summary>
    public string? CardCountry { get; init; }

    /// <summary>Gets the postal code of the billing address (a US ZIP code), or <see langword="null"/>.</summary>
    /// <remarks>EU and UK VAT does not use it; a sales-tax engine (US states and their localities) needs it.</remarks>
    public string? BillingPostalCode { get; init; }

    /// <summary>Gets the state, province or region of the billing address (<c>NY</c>, <c>CA</c>), or <see langword="null"/>.</summary>
    /// <remarks>EU and UK VAT does not use it; a sales-tax engine may.</remarks>
    public string? BillingState { get; init; }
}

/// <summary>Whether the evidence settles the place of supply.</summary>
public enum PlaceOfSupplyStatus
{
    /// <summary>At least two pieces of evidence name the same country (or a valid VAT number names it).</summary>
    Determined = 0,

    /// <summary>Two or more pieces of evidence were given but no two name the same country.</summary>
    Conflict = 1,

    /// <summary>Fewer than two pieces of evidence were given.</summary>
    Insufficient = 2,
}

/// <summary>Where a digital sale is taxed, and the evidence it was decided from.</summary>
/// <remarks>
/// <para>
/// A sale of an electronically supplied service to a consumer is taxed where the consumer lives (Article 58 of
/// Council Directive 2006/112/EC); the seller must hold two pieces of non-contradictory evidence of it (Article 24b
/// of Implementing Regulation (EU) No 282/2011). <see cref="Determine"/> applies that rule to the three pieces
/// Funnel records: the country named by at least two of them is the place of supply, and a third piece naming
/// another country is kept in <see cref="Evidence"/> but does not overturn two that agree. When no two agree the
/// result is <see cref="PlaceOfSupplyStatus.Conflict"/>, and with fewer than two pieces it is
/// <see cref="PlaceOfSupplyStatus.Insufficient"/>; the checkout then stops with
/// <see cref="Offers.OrderRejection.LocationUnresolved"/> so the buyer can confirm their country.
/// </para>
/// <para>A business buyer with a valid VAT number is taxed where it is established, which the number names.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PlaceOfSupply
{
    /// <summary>Gets whether the place of supply is settled.</summary>
    public required PlaceOfSupplyStatus Status { get; init; }

    /// <summary>Gets the country of supply (ISO 3166-1 alpha-2, upper case), or <see langword="null"/> unless <see cref="PlaceOfSupplyStatus.Determined"/>.</summary>
    public string? Country { get; init; }

    /// <summary>Gets the evidence the decision was made from, as given.</summary>
    public required LocationEvidence Evidence { get; init; }

    /// <summary>Gets the distinct countries the evidence names, upper case, in the order billing, IP, card.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> CountriesNamed { get; init; } = [];

    /// <summary>Decides the place of supply of a sale to a consumer from the location evidence.</summary>
    /// <param name="evidence">The evidence.</param>
    /// <returns>The decision; never throws for evidence that conflicts or is missing.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="evidence"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A piece of evidence is not a two-letter country code; the message names it.</exception>
    public static PlaceOfSupply Determine(LocationEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        string? billing = Normalise(evidence.BillingCountry, nameof(LocationEvidence.BillingCountry));
        string? ip = Normalise(evidence.IpCountry, nameof(LocationEvidence.IpCountry));
        string? card = Normalise(evidence.CardCountry, nameof(LocationEvidence.CardCountry));
        int given = (billing is null ? 0 : 1) + (ip is null ? 0 : 1) + (card is null ? 0 : 1);
        var named = new string[given];
        int count = 0;
        foreach (string? piece in (ReadOnlySpan<string?>)[billing, ip, card])
        {
            if (piece is not null && Array.IndexOf(named, piece, 0, count) < 0)
            {
                named[count++] = piece;
            }
        }

        PlaceOfSupplyStatus status = given < 2 ? PlaceOfSupplyStatus.Insufficient
            : count < given ? PlaceOfSupplyStatus.Determined // some country was named twice
            : PlaceOfSupplyStatus.Conflict;
        string? agreed = status != PlaceOfSupplyStatus.Determined ? null
            : billing is not null && (billing == ip || billing == card) ? billing
            : ip;
        return new PlaceOfSupply { Status = status, Country = agreed, Evidence = evidence, CountriesNamed = ImmutableCollectionsMarshal.AsImmutableArray(count == given ? named : named[..count]) };
    }

    /// <summary>Returns the place of supply of a sale to a business, where its VAT number says it is established.</summary>
    /// <param name="country">The ISO 3166-1 alpha-2 country of the VAT number.</param>
    /// <param name="evidence">The location evidence, kept for the record.</param>
    /// <returns>A determined place of supply.</returns>
    internal static PlaceOfSupply ForBusiness(string country, LocationEvidence evidence) =>
        new() { Status = PlaceOfSupplyStatus.Determined, Country = country, Evidence = evidence, CountriesNamed = [country] };

    /// <summary>Returns the code in upper case, <see langword="null"/> for none, or throws for anything but two letters.</summary>
    internal static string? Normalise(string? code, string field)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return null;
        }

        string trimmed = code.Length == 2 ? code : code.Trim();
        if (trimmed.Length != 2 || !char.IsAsciiLetter(trimmed[0]) || !char.IsAsciiLetter(trimmed[1]))
        {
            throw new ArgumentException($"{field}: '{code}' is not an ISO 3166-1 alpha-2 country code such as DE or GB.", field);
        }

        return char.IsAsciiLetterUpper(trimmed[0]) && char.IsAsciiLetterUpper(trimmed[1]) ? trimmed : trimmed.ToUpperInvariant();
    }
}
