using System.Text.Json;

namespace Funnel.Storage;

/// <summary>Writes and reads the JSON documents of the commerce tables (<see cref="FunnelJson.Options"/>), the same in every storage package.</summary>
/// <remarks>
/// Each row records its document's shape in a <c>format</c> column. This release writes and reads format
/// <see cref="Format"/>; unknown JSON properties are ignored, so a later release may add properties without a new
/// format. A format this release does not know means a newer release wrote the row: reading it fails clearly rather
/// than guess.
/// </remarks>
internal static class CommerceDocuments
{
    /// <summary>The document format this release writes.</summary>
    public const int Format = 1;

    private static readonly string Package = typeof(CommerceDocuments).Assembly.GetName().Name!;

    public static string Write<T>(T document) => JsonSerializer.Serialize(document, FunnelJson.Options);

    /// <exception cref="FunnelSchemaException">The row was written in a format this release cannot read.</exception>
    /// <exception cref="JsonException">The document is not valid JSON of <typeparamref name="T"/>.</exception>
    /// <param name="json">The document.</param>
    /// <param name="format">The row's format column.</param>
    /// <param name="what">Names the record in an error, such as <c>Order</c>.</param>
    /// <param name="key">The record's key, for the error.</param>
    public static T Read<T>(string json, long format, string what, string key)
    {
        if (format != Format)
        {
            throw new FunnelSchemaException(
                $"{what} {key} is stored in document format {format}, which this version of {Package} cannot read (it reads format {Format}): a newer version wrote it.");
        }

        return JsonSerializer.Deserialize<T>(json, FunnelJson.Options)
            ?? throw new JsonException($"{what} {key} is stored as JSON null.");
    }
}
