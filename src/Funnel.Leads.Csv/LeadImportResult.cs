using System.Collections.Immutable;

namespace Funnel.Leads.Csv;

/// <summary>A row the import left out, and why.</summary>
/// <param name="Row">The line of the file where the row starts (the header is line 1): the row number a spreadsheet shows when no value spans lines.</param>
/// <param name="Field">The header of the column at fault, or <see langword="null"/> when the whole row is (wrong number of fields, broken quotes).</param>
/// <param name="Reason">What is wrong, such as <c>'ann.example.com' is not a valid email address: it has no '@'.</c></param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RejectedRow(long Row, string? Field, string Reason);

/// <summary>What a CSV import did: the counts, the column mapping it used and the rejected rows.</summary>
/// <param name="Rows">The data rows read (the header not counted).</param>
/// <param name="Created">The new leads.</param>
/// <param name="Updated">The existing leads that changed (tags, fields, time zone or consent).</param>
/// <param name="Unchanged">The rows whose lead already had everything they carried (including repeats of an address in the file).</param>
/// <param name="ConsentGranted">The leads that got marketing consent from this import.</param>
/// <param name="RejectedCount">The rejected rows, including those beyond the report's limit.</param>
/// <param name="Rejected">The rejected rows, in file order, up to <see cref="LeadCsvOptions.MaxReportedRejections"/>.</param>
/// <param name="Columns">The columns used: header → what it was read as (<c>email</c>, <c>consent</c>, <c>tags</c>, <c>time_zone</c> or <c>field:first_name</c>).</param>
/// <param name="IgnoredColumns">The headers that were not mapped.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadImportResult(
    long Rows,
    long Created,
    long Updated,
    long Unchanged,
    long ConsentGranted,
    long RejectedCount,
    ImmutableArray<RejectedRow> Rejected,
    ImmutableDictionary<string, string> Columns,
    ImmutableArray<string> IgnoredColumns)
{
    /// <summary>Gets why the import stopped before the end of the file, such as a record longer than the limit.</summary>
    /// <value><see langword="null"/> when the whole file was read; the rows before the stop are imported.</value>
    public string? StoppedEarly { get; init; }
}
