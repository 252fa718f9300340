using System.Collections.Immutable;
using NodaTime;

namespace Funnel.Analytics.Parquet;

/// <summary>What one export wrote.</summary>
/// <param name="Events">The number of events (rows) written.</param>
/// <param name="Days">The UTC days whose folders received files, in order.</param>
/// <param name="Files">The Parquet files written, as paths relative to the root, in order.</param>
/// <param name="Position">
/// The log position the export reached: the next export of the log reads after it. For a snapshot export, which
/// reads no log, <see langword="null"/>.
/// </param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ParquetExportResult(
    long Events, ImmutableArray<LocalDate> Days, ImmutableArray<string> Files, long? Position);
