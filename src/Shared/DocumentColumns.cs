namespace Funnel.Storage;

// Linked into both storage packages: the column model of their document tables (SqliteDocumentTable, PgDocumentTable).

/// <summary>What a column of a document table holds, and whether a replacement may change it.</summary>
internal enum DocumentColumnRole
{
    /// <summary>Part of the primary key: finds the document, and a replacement must keep it.</summary>
    PrimaryKey,

    /// <summary>A unique or owning column (a code, an owner) that a replacement must keep.</summary>
    Kept,

    /// <summary>A value derived from the document for a query, rewritten with each replacement.</summary>
    Derived,
}

/// <summary>A column of a document table, named as in SQL (its parameter takes the same name) and taken from the document.</summary>
/// <typeparam name="T">The stored document.</typeparam>
/// <param name="Name">The column name.</param>
/// <param name="Role">Whether it is the key, kept or rewritten.</param>
/// <param name="ValueOf">Returns the column's value for a document (converted to the database's type by the table).</param>
internal sealed record DocumentColumn<T>(string Name, DocumentColumnRole Role, Func<T, object?> ValueOf);

/// <summary>How a versioned document carries its store version.</summary>
/// <typeparam name="T">The stored document.</typeparam>
/// <param name="Of">Returns a document's version.</param>
/// <param name="With">Returns a document with another version.</param>
internal sealed record DocumentVersioning<T>(Func<T, long> Of, Func<T, long, T> With);
