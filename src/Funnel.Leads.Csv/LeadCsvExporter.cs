using System.Collections.Immutable;
using CsvHelper;
using NodaTime.Text;

namespace Funnel.Leads.Csv;

/// <summary>Writes leads to CSV, one row per lead, streaming, with cells that cannot run as spreadsheet formulas.</summary>
/// <remarks>
/// <para>
/// The columns are <c>email</c>, <c>lead_id</c>, <c>created_at</c> (ISO 8601, UTC), <c>stage</c>, <c>score</c>,
/// <c>consent</c> (<c>granted</c>, <c>pending</c>, <c>withdrawn</c> or <c>none</c>), <c>consent_source</c>,
/// <c>unsubscribed_at</c>, <c>tags</c> (separated by <c>;</c>), <c>time_zone</c>, then one column per custom field
/// named in <see cref="LeadCsvExportOptions.Fields"/>. The file is UTF-8 without a byte order mark, with CRLF line
/// ends (RFC 4180), and reads back with <see cref="LeadCsvImporter"/>.
/// </para>
/// <para>
/// Following OWASP's advice on CSV injection, a cell that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a
/// carriage return is prefixed with <c>'</c> and quoted, so a spreadsheet shows it as text instead of running it.
/// </para>
/// <para>
/// Leads are written as they are enumerated and flushed every 1,000 rows, so memory does not grow with their number.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadCsvExporter
{
    private const int FlushEvery = 1_000;
    private static readonly string[] Fixed = ["email", "lead_id", "created_at", "stage", "score", "consent", "consent_source", "unsubscribed_at", "tags", "time_zone"];
    private readonly ImmutableArray<string> _fields;

    /// <summary>Initializes the exporter.</summary>
    /// <param name="options">The custom fields to export.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A field is blank or repeats a fixed column.</exception>
    public LeadCsvExporter(LeadCsvExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Fields.IsDefault || options.Fields.Any(f => string.IsNullOrWhiteSpace(f) || Fixed.Contains(f)) || options.Fields.Distinct().Count() != options.Fields.Length)
        {
            throw new ArgumentException("'Fields' must be distinct, non-blank custom field names that are not fixed columns (" + string.Join(", ", Fixed) + ").", nameof(options));
        }

        _fields = options.Fields;
    }

    /// <summary>Writes the leads to CSV.</summary>
    /// <param name="leads">The leads, such as a page-by-page read of your store.</param>
    /// <param name="output">Where the CSV goes; left open.</param>
    /// <param name="cancellationToken">Cancels between rows.</param>
    /// <returns>The number of leads written.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public async Task<long> ExportAsync(IAsyncEnumerable<LeadProfile> leads, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leads);
        ArgumentNullException.ThrowIfNull(output);
        CsvWriterOptions options = new()
        {
            Injection = CsvInjection.Escape,
            InjectionCharacters = "=+-@\t\r",
            InjectionEscape = '\'',
            NewLine = "\r\n",
        };
        await using CsvWriter writer = CsvWriter.Create(output, options, true);
        string[] header = [.. Fixed, .. _fields];
        writer.WriteHeader(header);
        string[] row = new string[header.Length];
        long count = 0;
        await foreach (LeadProfile lead in leads.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            ArgumentNullException.ThrowIfNull(lead, nameof(leads));
            row[0] = lead.Email.Value ?? string.Empty;
            row[1] = lead.Id.ToString();
            row[2] = InstantPattern.ExtendedIso.Format(lead.CreatedAt);
            row[3] = lead.Stage.ToKey();
            row[4] = lead.Score.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            row[5] = lead.ConsentStatus.ToString().ToLowerInvariant();
            row[6] = lead.Consent?.Source ?? string.Empty;
            row[7] = lead.UnsubscribedAt is { } at ? InstantPattern.ExtendedIso.Format(at) : string.Empty;
            row[8] = string.Join(';', lead.Tags);
            row[9] = lead.TimeZoneId ?? string.Empty;
            for (int i = 0; i < _fields.Length; i++)
            {
                row[Fixed.Length + i] = lead.CustomFields.TryGetValue(_fields[i], out string? value) ? value : string.Empty;
            }

            writer.WriteRecord(row);
            if (++count % FlushEvery == 0)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return count;
    }
}

/// <summary>What <see cref="LeadCsvExporter"/> writes besides the fixed columns.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadCsvExportOptions
{
    /// <summary>Gets the custom fields exported, one column each in this order, such as <c>first_name</c>.</summary>
    /// <remarks>Leads are streamed, so the columns are fixed up front: name every field you want.</remarks>
    /// <value>Defaults to <c>first_name</c> and <c>last_name</c>.</value>
    public ImmutableArray<string> Fields { get; init; } = ["first_name", "last_name"];
}
