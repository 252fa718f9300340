using FluentValidation;

namespace Funnel.Leads.Csv;

/// <summary>The limits of CSV import: batch size, field and record length, and the size of the rejection report.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class LeadCsvOptions
{
    /// <summary>Gets or sets how many rows are read before they are written to the lead store and their events recorded.</summary>
    /// <value>Defaults to 1,000.</value>
    public int BatchSize { get; set; } = 1_000;

    /// <summary>Gets or sets the longest value of a custom field or tag list, in characters; a longer one rejects its row.</summary>
    /// <value>Defaults to 1,000.</value>
    public int MaxFieldLength { get; set; } = 1_000;

    /// <summary>Gets or sets the longest record the reader accepts, in bytes; a longer one stops the import (the rows before it are kept).</summary>
    /// <remarks>
    /// It bounds the memory a hostile file can make the reader use, such as an unterminated quote that swallows the rest
    /// of a large file. The reader checks it as its buffer grows, so a record somewhat longer (up to its 64 KiB buffer)
    /// may still be read.
    /// </remarks>
    /// <value>Defaults to 1 MiB.</value>
    public int MaxRecordBytes { get; set; } = 1 << 20;

    /// <summary>Gets or sets how many rejected rows the result lists; further ones are only counted.</summary>
    /// <value>Defaults to 10,000.</value>
    public int MaxReportedRejections { get; set; } = 10_000;
}

/// <summary>Validates <see cref="LeadCsvOptions"/>.</summary>
internal sealed class LeadCsvOptionsValidator : AbstractValidator<LeadCsvOptions>
{
    public LeadCsvOptionsValidator()
    {
        RuleFor(o => o.BatchSize).InclusiveBetween(1, 100_000);
        RuleFor(o => o.MaxFieldLength).InclusiveBetween(1, 1_000_000);
        RuleFor(o => o.MaxRecordBytes).InclusiveBetween(1_024, 256 << 20);
        RuleFor(o => o.MaxReportedRejections).InclusiveBetween(0, 10_000_000);
    }
}
