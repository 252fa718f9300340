using System.Buffers;
using System.Globalization;

namespace Funnel.Tax;

/// <summary>What the offline check of a VAT number found.</summary>
public enum VatNumberStatus
{
    /// <summary>The number has its country's format and, where the country has a simple one, a correct check digit.</summary>
    Valid = 0,

    /// <summary>The number does not start with the prefix of an EU member state, <c>GB</c> or <c>XI</c>.</summary>
    UnknownCountry = 1,

    /// <summary>The part after the prefix does not have the country's length or characters.</summary>
    BadFormat = 2,

    /// <summary>The number has the right format but its check digits are wrong (a typing error, or made up).</summary>
    BadChecksum = 3,
}

/// <summary>The outcome of checking a VAT number offline.</summary>
/// <param name="Input">The number as given.</param>
/// <param name="Prefix">The VAT prefix (<c>DE</c>, <c>EL</c> for Greece, <c>XI</c> for Northern Ireland), or <see langword="null"/> when unknown.</param>
/// <param name="Number">The number without prefix, spaces or punctuation, upper case; or <see langword="null"/> when the prefix is unknown.</param>
/// <param name="Status">What the check found.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct VatNumberCheck(string Input, string? Prefix, string? Number, VatNumberStatus Status)
{
    /// <summary>Gets whether the number passed the offline check.</summary>
    public bool IsValid => Status == VatNumberStatus.Valid;

    /// <summary>Gets the number with its prefix, such as <c>DE136695976</c>, or <see langword="null"/> when the prefix is unknown.</summary>
    public string? Normalized => Prefix is null ? null : Prefix + Number;

    /// <summary>Gets the ISO 3166-1 alpha-2 country the number belongs to (<c>GR</c> for <c>EL</c>, <c>GB</c> for <c>XI</c>), or <see langword="null"/> when the prefix is unknown.</summary>
    public string? Country => Prefix switch
    {
        null => null,
        "EL" => "GR",
        "XI" => "GB",
        _ => Prefix,
    };
}

/// <summary>Checks the format and check digits of EU and UK VAT numbers, offline.</summary>
/// <remarks>
/// <para>
/// Every EU member state's prefix (with <c>EL</c> for Greece) and the UK's <c>GB</c> and <c>XI</c> are known. Spaces,
/// dots, dashes, slashes, colons and brackets are ignored and letters may be in either case. The check digits are
/// verified for AT, BE, BG (9 digits), CY, CZ (8 and 10 digits), DE, DK, EE, EL, FI, FR (numeric key), GB/XI, HR, HU,
/// IE, IT, LT, LU, LV (legal persons), MT, NL, PL, PT, RO, SE, SI and SK; Spain and the other forms are checked for
/// their format only.
/// </para>
/// <para>
/// A valid format does not prove the number is registered: that takes the online check of the member state
/// (VIES) or HMRC, behind <see cref="IVatNumberVerifier"/>.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public static class VatNumbers
{
    private static readonly SearchValues<char> Ignored = SearchValues.Create(" .-/:()\t");

    /// <summary>Gets the VAT prefixes this check knows: the 27 EU member states, <c>GB</c> and <c>XI</c>.</summary>
    public static IReadOnlyList<string> Prefixes { get; } =
    [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
        "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB", "XI",
    ];

    /// <summary>Checks a VAT number's prefix, format and check digits.</summary>
    /// <param name="vatNumber">The number with its country prefix, such as <c>DE 136 695 976</c>.</param>
    /// <returns>The outcome; an unknown prefix or a bad format is a result, not an exception.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vatNumber"/> is <see langword="null"/>.</exception>
    public static VatNumberCheck Check(string vatNumber)
    {
        ArgumentNullException.ThrowIfNull(vatNumber);
        var compact = new System.Text.StringBuilder(vatNumber.Length);
        foreach (char c in vatNumber)
        {
            if (!Ignored.Contains(c))
            {
                compact.Append(char.ToUpperInvariant(c));
            }
        }

        string all = compact.ToString();
        string prefix = all.Length >= 2 ? all[..2] : all;
        if (!Prefixes.Contains(prefix))
        {
            return new VatNumberCheck(vatNumber, null, null, VatNumberStatus.UnknownCountry);
        }

        string number = all[2..];
        if (prefix == "BE" && number.Length == 9)
        {
            number = "0" + number;
        }

        if (prefix == "EL" && number.Length == 8)
        {
            number = "0" + number;
        }

        if (prefix == "NL" && number.Length is >= 10 and < 12 && number[^3] == 'B')
        {
            number = number.PadLeft(12, '0');
        }

        return new VatNumberCheck(vatNumber, prefix, number, Validate(prefix, number));
    }

    private static VatNumberStatus Validate(string prefix, string n) => prefix switch
    {
        "AT" => n.Length == 9 && n[0] == 'U' && Digits(n[1..]) ? Result((6 - LuhnSum(n[1..8])).Mod(10) == D(n, 8)) : VatNumberStatus.BadFormat,
        "BE" => n.Length == 10 && Digits(n) && n[0] is '0' or '1' ? Result(97 - (Long(n[..8]) % 97) == Long(n[8..])) : VatNumberStatus.BadFormat,
        "BG" => n.Length == 9 && Digits(n) ? Result(Bulgaria(n)) : n.Length == 10 && Digits(n) ? VatNumberStatus.Valid : VatNumberStatus.BadFormat,
        "CY" => n.Length == 9 && Digits(n[..8]) && n[0] != '2' && char.IsAsciiLetterUpper(n[8]) ? Result(Cyprus(n)) : VatNumberStatus.BadFormat,
        "CZ" => Czech(n),
        "DE" => n.Length == 9 && Digits(n) && n[0] != '0' ? Result(Mod11_10(n)) : VatNumberStatus.BadFormat,
        "DK" => n.Length == 8 && Digits(n) && n[0] != '0' ? Result(Weighted(n, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 == 0) : VatNumberStatus.BadFormat,
        "EE" => n.Length == 9 && Digits(n) && n.StartsWith("10", StringComparison.Ordinal)
            ? Result((10 - Weighted(n[..8], [3, 7, 1, 3, 7, 1, 3, 7]) % 10) % 10 == D(n, 8)) : VatNumberStatus.BadFormat,
        "EL" => n.Length == 9 && Digits(n) ? Result(Weighted(n[..8], [256, 128, 64, 32, 16, 8, 4, 2]) % 11 % 10 == D(n, 8)) : VatNumberStatus.BadFormat,
        "ES" => n.Length == 9 && char.IsAsciiLetterOrDigit(n[0]) && Digits(n[1..8]) && char.IsAsciiLetterOrDigit(n[8]) ? VatNumberStatus.Valid : VatNumberStatus.BadFormat,
        "FI" => n.Length == 8 && Digits(n) ? Result(Weighted(n, [7, 9, 10, 5, 8, 4, 2, 1]) % 11 == 0) : VatNumberStatus.BadFormat,
        "FR" => France(n),
        "GB" or "XI" => Britain(n),
        "HR" => n.Length == 11 && Digits(n) ? Result(Mod11_10(n)) : VatNumberStatus.BadFormat,
        "HU" => n.Length == 8 && Digits(n) ? Result((10 - Weighted(n[..7], [9, 7, 3, 1, 9, 7, 3]) % 10) % 10 == D(n, 7)) : VatNumberStatus.BadFormat,
        "IE" => Ireland(n),
        "IT" => n.Length == 11 && Digits(n) ? Result(LuhnSum(n) % 10 == 0) : VatNumberStatus.BadFormat,
        "LT" => (n.Length == 9 || n.Length == 12) && Digits(n) ? Result(Lithuania(n)) : VatNumberStatus.BadFormat,
        "LU" => n.Length == 8 && Digits(n) ? Result(Long(n[..6]) % 89 == Long(n[6..])) : VatNumberStatus.BadFormat,
        "LV" => n.Length == 11 && Digits(n)
            ? (D(n, 0) > 3 ? Result(Weighted(n, [9, 1, 4, 8, 3, 10, 2, 5, 7, 6, 1]) % 11 == 3) : VatNumberStatus.Valid) : VatNumberStatus.BadFormat,
        "MT" => n.Length == 8 && Digits(n) && n[0] != '0' ? Result(37 - Weighted(n[..6], [3, 4, 6, 7, 8, 9]) % 37 == Long(n[6..])) : VatNumberStatus.BadFormat,
        "NL" => n.Length == 12 && Digits(n[..9]) && n[9] == 'B' && Digits(n[10..]) && n[10..] != "00" ? Result(Netherlands(n)) : VatNumberStatus.BadFormat,
        "PL" => n.Length == 10 && Digits(n) ? Result(Weighted(n[..9], [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 == D(n, 9)) : VatNumberStatus.BadFormat,
        "PT" => n.Length == 9 && Digits(n) && n[0] != '0' ? Result((11 - Weighted(n[..8], [9, 8, 7, 6, 5, 4, 3, 2]) % 11) % 11 % 10 == D(n, 8)) : VatNumberStatus.BadFormat,
        "RO" => n.Length is >= 2 and <= 10 && Digits(n) && n[0] != '0' ? Result(Romania(n)) : VatNumberStatus.BadFormat,
        "SE" => n.Length == 12 && Digits(n) && n.EndsWith("01", StringComparison.Ordinal) ? Result(LuhnSum(n[..10]) % 10 == 0) : VatNumberStatus.BadFormat,
        "SI" => n.Length == 8 && Digits(n) && n[0] != '0' ? Result(Slovenia(n)) : VatNumberStatus.BadFormat,
        "SK" => n.Length == 10 && Digits(n) && n[0] != '0' && n[2] is '2' or '3' or '4' or '7' or '8' or '9'
            ? Result(Long(n) % 11 == 0) : VatNumberStatus.BadFormat,
        _ => VatNumberStatus.UnknownCountry,
    };

    private static VatNumberStatus Result(bool checksumOk) => checksumOk ? VatNumberStatus.Valid : VatNumberStatus.BadChecksum;

    private static bool Digits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    private static int D(string s, int i) => s[i] - '0';

    private static long Long(string s) => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);

    private static int Mod(this int value, int modulus) => ((value % modulus) + modulus) % modulus;

    private static int Weighted(string digits, ReadOnlySpan<int> weights)
    {
        int sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += (digits[i] - '0') * weights[i];
        }

        return sum;
    }

    /// <summary>The Luhn sum of the digits, the rightmost undoubled: a number is Luhn-valid when it is a multiple of 10.</summary>
    private static int LuhnSum(string digits)
    {
        int sum = 0;
        for (int i = 0; i < digits.Length; i++)
        {
            int d = digits[digits.Length - 1 - i] - '0';
            sum += i % 2 == 0 ? d : (d * 2 / 10) + (d * 2 % 10);
        }

        return sum;
    }

    /// <summary>ISO 7064 MOD 11,10 (Germany, Croatia): the last digit checks the others.</summary>
    private static bool Mod11_10(string digits)
    {
        int product = 10;
        for (int i = 0; i < digits.Length - 1; i++)
        {
            int sum = (digits[i] - '0' + product) % 10;
            product = (sum == 0 ? 10 : sum) * 2 % 11;
        }

        return (11 - product) % 10 == digits[^1] - '0';
    }

    private static bool Bulgaria(string n)
    {
        int check = Weighted(n, [1, 2, 3, 4, 5, 6, 7, 8]) % 11;
        if (check == 10)
        {
            check = Weighted(n, [3, 4, 5, 6, 7, 8, 9, 10]) % 11 % 10;
        }

        return check == D(n, 8);
    }

    private static bool Cyprus(string n)
    {
        ReadOnlySpan<int> odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
        int sum = 0;
        for (int i = 0; i < 8; i++)
        {
            sum += i % 2 == 0 ? odd[D(n, i)] : D(n, i);
        }

        return n[8] == (char)('A' + (sum % 26));
    }

    private static VatNumberStatus Czech(string n)
    {
        if (!Digits(n) || n.Length is < 8 or > 10)
        {
            return VatNumberStatus.BadFormat;
        }

        return n.Length switch
        {
            8 => n[0] == '9' ? VatNumberStatus.BadFormat : Result(CzechLegal(n) == D(n, 7)),
            10 => Result(Long(n) % 11 == 0),
            _ => VatNumberStatus.Valid,
        };
    }

    /// <summary>The check digit of a Czech legal person's number: 11 minus the weighted sum mod 11, with 0 as 1 and 10 as 0.</summary>
    private static int CzechLegal(string n)
    {
        int check = (11 - (Weighted(n, [8, 7, 6, 5, 4, 3, 2]) % 11)) % 11;
        return (check == 0 ? 1 : check) % 10;
    }

    private static VatNumberStatus France(string n)
    {
        if (n.Length != 11 || !Digits(n[2..]) || !char.IsAsciiLetterOrDigit(n[0]) || !char.IsAsciiLetterOrDigit(n[1])
            || n[..2].Contains('I', StringComparison.Ordinal) || n[..2].Contains('O', StringComparison.Ordinal))
        {
            return VatNumberStatus.BadFormat;
        }

        return Digits(n[..2]) ? Result(Long(n[..2]) == (12 + (3 * (Long(n[2..]) % 97))) % 97) : VatNumberStatus.Valid;
    }

    private static VatNumberStatus Britain(string n)
    {
        if (n.Length == 5 && (n.StartsWith("GD", StringComparison.Ordinal) || n.StartsWith("HA", StringComparison.Ordinal)) && Digits(n[2..]))
        {
            return VatNumberStatus.Valid; // government departments and health authorities: no check digits
        }

        if ((n.Length != 9 && n.Length != 12) || !Digits(n))
        {
            return VatNumberStatus.BadFormat;
        }

        long total = Weighted(n, [8, 7, 6, 5, 4, 3, 2]) + Long(n[7..9]);
        return Result(total % 97 == 0 || (total + 55) % 97 == 0);
    }

    private static VatNumberStatus Ireland(string n)
    {
        const string Letters = "WABCDEFGHIJKLMNOPQRSTUV";
        if (n.Length == 8 && char.IsAsciiDigit(n[0]) && (char.IsAsciiLetterUpper(n[1]) || n[1] is '+' or '*') && Digits(n[2..7]) && char.IsAsciiLetterUpper(n[7]))
        {
            n = "0" + n[2..7] + n[0] + n[7]; // the old form, 1X23456A, is 0234561A
        }

        if (n.Length is < 8 or > 9 || !Digits(n[..7]) || !Letters.Contains(n[7], StringComparison.Ordinal)
            || (n.Length == 9 && !(n[8] is (>= 'A' and <= 'I') or 'W')))
        {
            return VatNumberStatus.BadFormat;
        }

        int sum = Weighted(n, [8, 7, 6, 5, 4, 3, 2]) + (n.Length == 9 ? Letters.IndexOf(n[8], StringComparison.Ordinal) * 9 : 0);
        return Result(Letters[sum % 23] == n[7]);
    }

    private static bool Lithuania(string n)
    {
        string body = n[..^1];
        int check = 0;
        for (int i = 0; i < body.Length; i++)
        {
            check += ((i % 9) + 1) * (body[i] - '0');
        }

        check %= 11;
        if (check == 10)
        {
            check = 0;
            for (int i = 0; i < body.Length; i++)
            {
                check += (((i + 2) % 9) + 1) * (body[i] - '0');
            }

            check = check % 11 % 10;
        }

        return check == n[^1] - '0';
    }

    private static bool Netherlands(string n)
    {
        if ((Weighted(n, [9, 8, 7, 6, 5, 4, 3, 2]) - D(n, 8)) % 11 == 0)
        {
            return true;
        }

        // Sole traders' numbers since 2020: ISO 7064 MOD 97-10 over "NL" + number, letters as 10..35.
        int remainder = 0;
        foreach (char c in "NL" + n)
        {
            int value = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = ((remainder * (value >= 10 ? 100 : 10)) + value) % 97;
        }

        return remainder == 1;
    }

    private static bool Romania(string n)
    {
        string body = n[..^1].PadLeft(9, '0');
        return Weighted(body, [7, 5, 3, 2, 1, 7, 5, 3, 2]) * 10 % 11 % 10 == n[^1] - '0';
    }

    private static bool Slovenia(string n)
    {
        int check = 11 - (Weighted(n, [8, 7, 6, 5, 4, 3, 2]) % 11);
        return check != 11 && check % 10 == D(n, 7);
    }
}
