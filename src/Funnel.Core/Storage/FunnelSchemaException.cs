namespace Funnel.Storage;

/// <summary>The database's Funnel schema does not match this version: it is missing migrations, has newer ones, or a script changed.</summary>
public sealed class FunnelSchemaException : Exception
{
    /// <summary>Initializes an exception with a default message.</summary>
    public FunnelSchemaException()
    {
    }

    /// <summary>Initializes an exception with a message.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public FunnelSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes an exception with a message and its cause.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The cause.</param>
    public FunnelSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
