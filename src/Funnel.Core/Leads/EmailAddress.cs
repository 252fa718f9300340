using System.Globalization;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;

namespace Funnel.Leads;

/// <summary>A validated email address in its canonical form, used to identify and deduplicate leads.</summary>
/// <remarks>
/// <para>
/// <see cref="Parse"/> and <see cref="TryParse"/> trim the input, reject display names, whitespace and
/// malformed addresses, convert an internationalised domain to ASCII (IDNA, with
/// <see cref="IdnMapping"/>) and lower-case the <em>whole</em> address, local part included.
/// </para>
/// <para>
/// Characters a reader cannot see are rejected anywhere in the address: control characters (Unicode category Cc),
/// invisible formatting and bidirectional controls (Cf, such as U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH
/// SPACE and U+FEFF), line and paragraph separators, private-use, unassigned code points and lone surrogates. They
/// let one address look like another in a list or an email client. Error messages show them as <c>U+XXXX</c>.
/// </para>
/// <para>
/// Internationalised domains are accepted and stored in their normalised ASCII (punycode) form, lower-cased:
/// <c>ann@Exämple.com</c> is stored as <c>ann@xn--exmple-cua.com</c>. What <see cref="IdnMapping"/> (UTS #46)
/// rejects is rejected, and so is a domain label with any character other than letters, combining marks, decimal
/// digits and <c>-</c> (the shape of IDNA 2008's valid code points): emoji and symbol domains, such as
/// <c>ann@😀.example</c> or <c>ann@♥.example</c>, which UTS #46 alone still maps, are refused.
/// </para>
/// <para> RFC 5321 allows a
/// case-sensitive local part, but no mainstream mailbox provider uses one, and ad platforms (Meta, Google
/// Customer Match) require the whole address lower-cased before hashing: one canonical form means the same
/// person opting in as <c>Ann@Example.com</c> and <c>ann@example.com</c> is one lead, and the audience hash
/// matches the platform's. Dots and <c>+tags</c> in the local part are kept, because they are meaningful for
/// most providers.
/// </para>
/// <para><c>default(EmailAddress)</c> has a <see langword="null"/> <see cref="Value"/> and is rejected wherever an address is required.</para>
/// </remarks>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct EmailAddress
{
    /// <summary>The longest address accepted, in characters (RFC 5321 path limit less the angle brackets).</summary>
    public const int MaxLength = 254;

    private EmailAddress(string value) => Value = value;

    /// <summary>Gets the canonical address, such as <c>ann@example.com</c>.</summary>
    /// <value><see langword="null"/> for <c>default</c>.</value>
    public string Value { get; }

    /// <summary>Normalises and validates an email address.</summary>
    /// <param name="text">The address as typed, such as <c> Ann@Exämple.COM </c>.</param>
    /// <returns>The canonical address, such as <c>ann@xn--exmple-cua.com</c>.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a valid address; the message says why.</exception>
    public static EmailAddress Parse(string? text) =>
        TryParse(text, out EmailAddress email, out string? error) ? email : throw new FormatException(error);

    /// <summary>Normalises and validates an email address without throwing.</summary>
    /// <param name="text">The address as typed.</param>
    /// <param name="email">The canonical address, or <c>default</c> when invalid.</param>
    /// <param name="error">Why the address is invalid, such as <c>'ann.example.com' is not a valid email address: it has no '@'.</c>, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the address is valid.</returns>
    public static bool TryParse(string? text, out EmailAddress email, out string? error)
    {
        email = default;
        error = Check(text, out string? canonical);
        if (error is not null)
        {
            return false;
        }

        email = new EmailAddress(canonical!);
        return true;
    }

    /// <summary>Returns the SHA-256 hash of the canonical address as 64 lower-case hex digits, the form ad platforms accept for customer lists.</summary>
    /// <returns>The hex hash of the UTF-8 bytes of <see cref="Value"/>.</returns>
    /// <exception cref="InvalidOperationException">This is <c>default(EmailAddress)</c>.</exception>
    public string ToSha256Hex()
    {
        if (Value is null)
        {
            throw new InvalidOperationException("default(EmailAddress) has no address to hash.");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Value)));
    }

    /// <summary>Returns the canonical address.</summary>
    /// <returns>The address, or an empty string for <c>default</c>.</returns>
    public override string ToString() => Value ?? string.Empty;

    private static string? Check(string? text, out string? canonical)
    {
        canonical = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return "An email address is required.";
        }

        string trimmed = text.Trim();
        string Bad(string why) => $"'{trimmed}' is not a valid email address: {why}.";

        if (trimmed.Length > MaxLength)
        {
            return Bad($"it is longer than {MaxLength} characters");
        }

        // Invisible characters first, with the message showing them escaped: echoing a U+202E back would reorder
        // the message itself.
        if (FirstInvisible(trimmed) is { } invisible)
        {
            return $"'{Escape(trimmed)}' is not a valid email address: it contains the invisible formatting or control character {invisible}.";
        }

        foreach (char c in trimmed)
        {
            if (char.IsWhiteSpace(c))
            {
                return Bad("it contains a space");
            }
        }

        int at = trimmed.LastIndexOf('@');
        if (at < 0)
        {
            return Bad("it has no '@'");
        }

        string local = trimmed[..at];
        string domain = trimmed[(at + 1)..];
        if (local.Length == 0)
        {
            return Bad("nothing comes before the '@'");
        }

        if (local.Length > 64)
        {
            return Bad("the part before the '@' is longer than 64 characters");
        }

        if (domain.Length == 0)
        {
            return Bad("the domain after the '@' is missing");
        }

        string asciiDomain;
        string unicodeDomain;
        try
        {
            var idn = new IdnMapping();
            asciiDomain = idn.GetAscii(domain.TrimEnd('.')).ToLowerInvariant();
            unicodeDomain = idn.GetUnicode(asciiDomain);
        }
        catch (ArgumentException)
        {
            return Bad($"'{domain}' is not a valid domain");
        }

        if (FirstNonLabelCharacter(unicodeDomain) is { } symbol)
        {
            return Bad($"the domain '{domain}' has the character {symbol}; a domain may hold letters, digits and '-', not emoji or symbols");
        }

        string? domainError = CheckDomain(asciiDomain);
        if (domainError is not null)
        {
            return Bad(domainError);
        }

        string candidate = local.ToLowerInvariant() + "@" + asciiDomain;
        if (!MailAddress.TryCreate(candidate, out MailAddress? parsed)
            || !string.Equals(parsed.Address, candidate, StringComparison.Ordinal)
            || parsed.DisplayName.Length != 0)
        {
            return Bad("the part before the '@' has characters or dots in places an address cannot have");
        }

        canonical = candidate;
        return null;
    }

    /// <summary>Returns the first character a reader cannot see, as <c>U+XXXX</c>, or <see langword="null"/>.</summary>
    private static string? FirstInvisible(string text)
    {
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (IsInvisible(rune))
            {
                return $"U+{rune.Value:X4}";
            }
        }

        return null;
    }

    private static bool IsInvisible(Rune rune) =>
        rune == Rune.ReplacementChar // what EnumerateRunes yields for a lone surrogate
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate;

    /// <summary>Returns the text with every invisible character written as <c>U+XXXX</c>, safe to show in a message.</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (IsInvisible(rune))
            {
                sb.Append(CultureInfo.InvariantCulture, $"U+{rune.Value:X4}");
            }
            else
            {
                sb.Append(rune.ToString());
            }
        }

        return sb.ToString();
    }

    /// <summary>Returns the first character of a Unicode domain that is not a letter, mark, digit, '-' or '.', as <c>'c' (U+XXXX)</c>.</summary>
    private static string? FirstNonLabelCharacter(string unicodeDomain)
    {
        foreach (Rune rune in unicodeDomain.EnumerateRunes())
        {
            if (rune.Value is '-' or '.')
            {
                continue;
            }

            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.LowercaseLetter or UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                    or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber:
                    continue;
                default:
                    return $"'{rune}' (U+{rune.Value:X4})";
            }
        }

        return null;
    }

    private static string? CheckDomain(string domain)
    {
        string[] labels = domain.Split('.');
        if (labels.Length < 2)
        {
            return $"the domain '{domain}' has no dot (such as example.com)";
        }

        foreach (string label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return $"the domain '{domain}' has an empty, too long or hyphen-edged label";
            }

            foreach (char c in label)
            {
                if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
                {
                    return $"the domain '{domain}' has the character '{c}'";
                }
            }
        }

        if (labels[^1].All(char.IsAsciiDigit))
        {
            return $"the domain '{domain}' ends in a number, not a top-level domain";
        }

        return null;
    }
}
