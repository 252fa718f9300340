using FluentValidation;

namespace Funnel.Analytics.Parquet;

/// <summary>Where and how <see cref="ParquetEventExporter"/> writes the event log as Parquet files.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class ParquetExportOptions
{
    /// <summary>Gets or sets the root folder of the export; each UTC day is a <c>day=yyyy-MM-dd</c> folder inside it.</summary>
    /// <remarks>
    /// The folder is created when missing. It belongs to the exporter: besides the day folders it holds
    /// <c>_funnel_export.position</c> (the last exported log position) and <c>_funnel_export.lock</c> (held while an
    /// export runs). Point a warehouse at <c>&lt;root&gt;/*/*.parquet</c> with Hive partitioning.
    /// </remarks>
    /// <value>Defaults to the empty string, which fails validation: set it.</value>
    public string Directory { get; set; } = "";

    /// <summary>Gets or sets the most rows a row group holds; a day with more rows gets several row groups.</summary>
    /// <remarks>
    /// The rows of a row group are buffered before they are written, so this, times <see cref="MaxOpenDays"/>, bounds
    /// the rows held in memory (each row holds the event's JSON).
    /// </remarks>
    /// <value>Defaults to 50,000.</value>
    public int RowGroupSize { get; set; } = 50_000;

    /// <summary>Gets or sets how many events are read from the log at a time.</summary>
    /// <value>Defaults to 1,000.</value>
    public int ReadBatchSize { get; set; } = 1_000;

    /// <summary>Gets or sets how many day files an export keeps open at once.</summary>
    /// <remarks>
    /// The log is in append order, which is nearly time order, so an export usually has one or two days open. When an
    /// event of another day arrives and this many are open, the least recently used day's file is finished; a later
    /// event of that day in the same export starts a further file in its folder.
    /// </remarks>
    /// <value>Defaults to 8.</value>
    public int MaxOpenDays { get; set; } = 8;
}

/// <summary>Validates <see cref="ParquetExportOptions"/>.</summary>
internal sealed class ParquetExportOptionsValidator : AbstractValidator<ParquetExportOptions>
{
    public ParquetExportOptionsValidator()
    {
        RuleFor(o => o.Directory).NotEmpty().WithMessage("Set the root folder of the export.")
            .Must(d => d.IndexOfAny(Path.GetInvalidPathChars()) < 0).WithMessage("The folder contains invalid characters.");
        RuleFor(o => o.RowGroupSize).InclusiveBetween(1, 1_000_000);
        RuleFor(o => o.ReadBatchSize).InclusiveBetween(1, 100_000);
        RuleFor(o => o.MaxOpenDays).InclusiveBetween(1, 366);
    }
}
