using System.Globalization;

namespace Funnel.Subscriptions;

/// <summary>Identifies a lead's subscription to a recurring offer.</summary>
/// <remarks><c>default(SubscriptionId)</c> is <see cref="Guid.Empty"/> and is rejected wherever an id is required.</remarks>
/// <param name="Value">The underlying unique value.</param>
/// <threadsafety>This type is an immutable value type.</threadsafety>
public readonly record struct SubscriptionId(Guid Value)
{
    /// <summary>Creates a new random identifier.</summary>
    /// <returns>A new identifier backed by a version 7 (time-ordered) GUID.</returns>
    public static SubscriptionId New() => new(Guid.CreateVersion7());

    /// <summary>Parses an identifier from its <see cref="ToString"/> form.</summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The parsed identifier.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a GUID.</exception>
    public static SubscriptionId Parse(string text) => new(Guid.Parse(text, CultureInfo.InvariantCulture));

    /// <summary>Returns the identifier in the GUID "D" format.</summary>
    /// <returns>The GUID in the "D" format.</returns>
    public override string ToString() => Value.ToString("D", CultureInfo.InvariantCulture);
}
