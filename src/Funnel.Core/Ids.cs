using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Funnel;

/// <summary>Identifies a person travelling through a funnel, from the first anonymous visit onwards.</summary>
/// <remarks>
/// A visitor gets a <see cref="LeadId"/> on the first tracked event (for example from a first-party cookie), and
/// keeps it after opting in, buying and referring others: the lifecycle stage changes, the identity does not.
/// <c>default(LeadId)</c> is <see cref="Guid.Empty"/> and is rejected wherever an id is required.
/// </remarks>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type. See the thread safety section of the user guide for more information.</threadsafety>
public readonly record struct LeadId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static LeadId New() => new(Guid.CreateVersion7());

    /// <summary>Parses an identifier from its <see cref="ToString"/> form.</summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The parsed identifier.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a GUID.</exception>
    public static LeadId Parse(string text) => new(Guid.Parse(text, CultureInfo.InvariantCulture));

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format, for example <c>0194f5c2-...</c>.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>Identifies an order placed by a lead.</summary>
/// <remarks><c>default(OrderId)</c> is <see cref="Guid.Empty"/> and is rejected wherever an id is required.</remarks>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct OrderId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static OrderId New() => new(Guid.CreateVersion7());

    /// <summary>Parses an identifier from its <see cref="ToString"/> form.</summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The parsed identifier.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a GUID.</exception>
    public static OrderId Parse(string text) => new(Guid.Parse(text, CultureInfo.InvariantCulture));

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>Identifies one recorded funnel event, so that consumers can process it exactly once.</summary>
/// <remarks><c>default(EventId)</c> is <see cref="Guid.Empty"/>.</remarks>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct EventId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static EventId New() => new(Guid.CreateVersion7());

    /// <summary>Derives the id of an event caused by another, the same every time for the same cause and name.</summary>
    /// <remarks>
    /// A handler that reacts to an event and records events of its own derives their ids from the cause, so that when
    /// the cause is delivered again (delivery is at least once) the caused events get the same ids and the event log,
    /// which appends idempotently by id, records them once. The id is a version 8 GUID from a SHA-256 hash.
    /// </remarks>
    /// <param name="cause">The id of the event that caused this one.</param>
    /// <param name="name">What distinguishes this caused event from the others of the same cause, such as <c>sequences:enrolled:nurture</c>.</param>
    /// <returns>The derived id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    public static EventId Derive(EventId cause, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] input = new byte[16 + System.Text.Encoding.UTF8.GetByteCount(name)];
        _ = cause.Value.TryWriteBytes(input, bigEndian: true, out _);
        System.Text.Encoding.UTF8.GetBytes(name, input.AsSpan(16));
        byte[] hashed = System.Security.Cryptography.SHA256.HashData(input);
        Span<byte> bytes = hashed.AsSpan(0, 16);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new EventId(new Guid(bytes, bigEndian: true));
    }

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>The stable key of a funnel definition, such as <c>ebook-masterclass</c>.</summary>
/// <remarks>Keys are case-sensitive, compared ordinally. See <see cref="Key"/> for the allowed characters.</remarks>
/// <param name="Value">The key text.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct FunnelId(string Value)
{
    /// <summary>Returns the key text.</summary>
    /// <returns>The key, or an empty string for <c>default</c>.</returns>
    public override string ToString() => Value ?? string.Empty;

    /// <summary>Converts a string to a funnel key.</summary>
    /// <param name="value">The key text.</param>
    public static implicit operator FunnelId(string value) => new(value);
}

/// <summary>The stable key of a funnel stage, such as <c>awareness</c>.</summary>
/// <param name="Value">The key text.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct StageKey(string Value)
{
    /// <summary>Returns the key text.</summary>
    /// <returns>The key, or an empty string for <c>default</c>.</returns>
    public override string ToString() => Value ?? string.Empty;

    /// <summary>Converts a string to a stage key.</summary>
    /// <param name="value">The key text.</param>
    public static implicit operator StageKey(string value) => new(value);
}

/// <summary>The stable key of a funnel step (a page or touch point), such as <c>sales-page</c>.</summary>
/// <param name="Value">The key text.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct StepKey(string Value)
{
    /// <summary>Returns the key text.</summary>
    /// <returns>The key, or an empty string for <c>default</c>.</returns>
    public override string ToString() => Value ?? string.Empty;

    /// <summary>Converts a string to a step key.</summary>
    /// <param name="value">The key text.</param>
    public static implicit operator StepKey(string value) => new(value);
}

/// <summary>The stable key of an offer in a catalogue, such as <c>masterclass-basic</c>.</summary>
/// <param name="Value">The key text.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct OfferId(string Value)
{
    /// <summary>Returns the key text.</summary>
    /// <returns>The key, or an empty string for <c>default</c>.</returns>
    public override string ToString() => Value ?? string.Empty;

    /// <summary>Converts a string to an offer key.</summary>
    /// <param name="value">The key text.</param>
    public static implicit operator OfferId(string value) => new(value);
}

/// <summary>Rules shared by the string keys (<see cref="FunnelId"/>, <see cref="StageKey"/>, <see cref="StepKey"/>, <see cref="OfferId"/>).</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class Key
{
    /// <summary>The longest key allowed, in characters.</summary>
    public const int MaxLength = 100;

    /// <summary>Tells whether a text is a valid key.</summary>
    /// <remarks>
    /// A key is 1 to <see cref="MaxLength"/> characters of lowercase ASCII letters, digits, <c>-</c>, <c>_</c>
    /// and <c>.</c>, starting with a letter or digit. Keys end up in URLs, file names, metrics tags and
    /// idempotency keys, so they are kept to a safe alphabet.
    /// </remarks>
    /// <param name="value">The candidate key.</param>
    /// <returns><see langword="true"/> if <paramref name="value"/> is a valid key.</returns>
    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || !IsLetterOrDigit(value[0]))
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!IsLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLetterOrDigit(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
