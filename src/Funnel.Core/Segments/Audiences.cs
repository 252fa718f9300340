using System.Collections.Immutable;
using System.Text;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Segments;

/// <summary>A named list of leads' email addresses to upload to an ad platform, such as a retargeting audience.</summary>
/// <param name="Name">The audience name, such as the segment key.</param>
/// <param name="Members">The normalised addresses, each once.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Audience(string Name, ImmutableArray<EmailAddress> Members);

/// <summary>Exports an audience to an ad platform or a file.</summary>
/// <remarks>Implementations hash the normalised addresses (<see cref="EmailAddress.ToSha256Hex"/>) as ad platforms require; no plain address leaves the process.</remarks>
/// <threadsafety>Implementations must be safe to call from many threads at once.</threadsafety>
public interface IAudienceExporter
{
    /// <summary>Exports an audience.</summary>
    /// <param name="audience">The audience.</param>
    /// <param name="cancellationToken">Cancels the export.</param>
    /// <returns>The number of members exported.</returns>
    Task<int> ExportAsync(Audience audience, CancellationToken cancellationToken = default);
}

/// <summary>Writes audiences in the customer-list CSV upload format that Meta Custom Audiences and Google Customer Match accept.</summary>
/// <remarks>
/// The file is UTF-8 without a byte order mark, with <c>\n</c> line endings: a header line <c>email</c>, then one
/// line per member with the lower-case hex SHA-256 of the normalised address (trimmed, whole address
/// lower-cased, IDN domain in ASCII; see <see cref="EmailAddress"/>). Members are written in order, each once.
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once when the destination factory is.</threadsafety>
public sealed class CsvAudienceExporter : IAudienceExporter
{
    private static readonly byte[] Header = "email\n"u8.ToArray();
    private readonly Func<Audience, Stream> _openDestination;

    /// <summary>Initializes an exporter that writes each audience to the stream the factory opens (and disposes it afterwards).</summary>
    /// <param name="openDestination">Opens the stream for an audience, such as a file named after it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="openDestination"/> is <see langword="null"/>.</exception>
    public CsvAudienceExporter(Func<Audience, Stream> openDestination)
    {
        ArgumentNullException.ThrowIfNull(openDestination);
        _openDestination = openDestination;
    }

    /// <summary>Writes the members of an audience as CSV to a stream, which stays open.</summary>
    /// <param name="destination">The stream.</param>
    /// <param name="members">The addresses; <c>default</c> entries and repeats are skipped.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The number of rows written, without the header.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static async Task<int> WriteAsync(Stream destination, IEnumerable<EmailAddress> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(members);
        await destination.WriteAsync(Header, cancellationToken).ConfigureAwait(false);
        HashSet<EmailAddress> seen = [];
        byte[] line = new byte[65];
        line[64] = (byte)'\n';
        int rows = 0;
        foreach (EmailAddress email in members)
        {
            if (email.Value is null || !seen.Add(email))
            {
                continue;
            }

            Encoding.ASCII.GetBytes(email.ToSha256Hex(), line);
            await destination.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            rows++;
        }

        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="audience"/> is <see langword="null"/>.</exception>
    public async Task<int> ExportAsync(Audience audience, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audience);
        Stream stream = _openDestination(audience) ?? throw new InvalidOperationException("The destination factory returned null.");
        await using (stream.ConfigureAwait(false))
        {
            return await WriteAsync(stream, audience.Members, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The guide's two retargeting audiences as segments.</summary>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class RetargetingSegments
{
    /// <summary>Visited a blog post but not the lead-magnet page: show them an ad for the free guide.</summary>
    /// <param name="leadMagnetPage">The lead-magnet (opt-in) page path, such as <c>/free-guide</c>.</param>
    /// <param name="blogPages">The blog pages, as a prefix ending in <c>*</c>.</param>
    /// <param name="within">How recent the blog visit must be, or <see langword="null"/> for any time.</param>
    /// <returns>The segment <c>visited-blog-not-lead-magnet</c>: all of page <paramref name="blogPages"/> (within the window) and not page <paramref name="leadMagnetPage"/>.</returns>
    /// <exception cref="ArgumentException">A page is blank.</exception>
    public static SegmentDefinition VisitedBlogNotLeadMagnetPage(string leadMagnetPage, string blogPages = "/blog/*", Duration? within = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(leadMagnetPage);
        ArgumentException.ThrowIfNullOrWhiteSpace(blogPages);
        return new("visited-blog-not-lead-magnet", new AllRule([new PageRule(blogPages, within), new NotRule(new PageRule(leadMagnetPage))]));
    }

    /// <summary>Downloaded the guide but did not visit the sales page: show them an ad for the offer.</summary>
    /// <param name="magnet">The lead magnet key, such as <c>quick-start-guide</c>.</param>
    /// <param name="offer">The offer whose sales page counts, or <see langword="null"/> for any sales page.</param>
    /// <param name="within">How recent the opt-in must be, or <see langword="null"/> for any time.</param>
    /// <returns>The segment <c>downloaded-guide-not-sales-page</c>: all of <c>opted_in</c> for the magnet and not <c>sales_page_visited</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="magnet"/> is blank.</exception>
    public static SegmentDefinition DownloadedGuideNotSalesPage(string magnet, OfferId? offer = null, Duration? within = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(magnet);
        return new("downloaded-guide-not-sales-page", new AllRule(
        [
            new EventRule { EventType = EventTypes.OptedIn, Subject = magnet, Within = within },
            new NotRule(new EventRule { EventType = EventTypes.SalesPageVisited, Subject = offer?.Value }),
        ]));
    }
}
