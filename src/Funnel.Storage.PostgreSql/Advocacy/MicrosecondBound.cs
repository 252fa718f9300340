using System.Collections.Immutable;

namespace Funnel.Storage.PostgreSql.Advocacy;

/// <summary>Makes a query on a microsecond <c>timestamptz</c> column exact to the nanosecond of the stored document.</summary>
/// <remarks>
/// A derived instant column and the bound it is compared with are both truncated to the microsecond, so the query
/// selects every row the exact comparison would, and also rows within the bound's own microsecond that lie on the
/// other side of it. <see cref="Keep"/> drops those by the document's own instant, so a row is never listed before it
/// is due. A page that held such a row may then have fewer than <c>max</c> rows although more are due: that needs two
/// instants less than a microsecond apart at the end of a page, and the next call lists them.
/// </remarks>
internal static class MicrosecondBound
{
    /// <summary>Returns the documents that meet the exact condition, in their order.</summary>
    /// <typeparam name="T">The document.</typeparam>
    /// <param name="documents">The documents the query selected.</param>
    /// <param name="exact">The query's condition on the document's own instant.</param>
    public static ImmutableArray<T> Keep<T>(ImmutableArray<T> documents, Func<T, bool> exact) =>
        documents.All(exact) ? documents : [.. documents.Where(exact)];
}
