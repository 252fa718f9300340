using System.Net;
using System.Text.RegularExpressions;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>Reads a rendered page's table rows as text, so tests compare the figures a reader sees.</summary>
internal static partial class PageTables
{
    /// <summary>Returns the decoded cells (header and data) of the first row whose first cell is <paramref name="header"/>.</summary>
    public static string[] Row(string page, string header) =>
        Rows(page, header).FirstOrDefault() ?? throw new ShouldAssertException($"The page has no row headed '{header}'.");

    /// <summary>Returns the decoded cells of every row whose first cell is <paramref name="header"/>, in page order.</summary>
    public static List<string[]> Rows(string page, string header) =>
        [.. RowPattern().Matches(page)
            .Select(static row => CellPattern().Matches(row.Groups[1].Value).Select(static c => Text(c.Groups[1].Value)).ToArray())
            .Where(cells => cells.Length > 0 && cells[0] == header)];

    private static string Text(string html) => WebUtility.HtmlDecode(TagPattern().Replace(html, ""));

    [GeneratedRegex("<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex RowPattern();

    [GeneratedRegex("<t[hd][^>]*>(.*?)</t[hd]>", RegexOptions.Singleline)]
    private static partial Regex CellPattern();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex TagPattern();
}
