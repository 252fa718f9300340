namespace Funnel.Events;

/// <summary>The JSON of an event is malformed, or lacks a required field, and cannot be read.</summary>
/// <remarks>The message names the event type and the field when known; so do <see cref="EventType"/> and <see cref="Field"/>.</remarks>
public sealed class FunnelEventFormatException : FormatException
{
    /// <summary>Initializes the exception.</summary>
    public FunnelEventFormatException()
        : this("The event JSON cannot be read.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public FunnelEventFormatException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes the exception with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The parser's or converter's error.</param>
    public FunnelEventFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the event type name, such as <c>order_placed</c>.</summary>
    /// <value><see langword="null"/> when the JSON did not get as far as a type name.</value>
    public string? EventType { get; init; }

    /// <summary>Gets the JSON path of the offending field, such as <c>total.amount</c>.</summary>
    /// <value><see langword="null"/> when the problem is not one field (such as text that is not JSON).</value>
    public string? Field { get; init; }
}
