using System.Globalization;
using System.Text.RegularExpressions;
using FluentValidation.Results;
using Funnel.Events;
using Funnel.Pipeline;

namespace Funnel.Analytics.Parquet;

/// <summary>Exports funnel events to Parquet files partitioned by UTC day, in Hive layout, for warehouse engines.</summary>
/// <remarks>
/// <para>
/// Each event is one row of a file <c>&lt;root&gt;/day=yyyy-MM-dd/part-….parquet</c>, where the day is the UTC date of
/// <see cref="FunnelEvent.OccurredAt"/> (never a local date, so a day is always 24 hours, across daylight saving
/// changes too). The columns are <c>event_id</c>, <c>position</c> (the log position, or null), <c>type</c> (the
/// event's wire type name, as in its JSON), <c>subject</c>, <c>occurred_at</c> (timestamp, UTC, microseconds),
/// <c>lead_id</c> (null for events about no lead), the attribution (<c>channel</c>, <c>campaign</c>, <c>source</c>,
/// <c>medium</c>, <c>content</c>, <c>term</c>, <c>referrer</c>), <c>amount_minor</c> and <c>currency</c> (the
/// event's one <see cref="Money"/> field, or null) and <c>payload</c>, the event's full JSON as
/// <see cref="FunnelEventSerializer"/> writes it, which reads back into the same event. The <c>day</c> column is
/// the folder name, which readers add with Hive partitioning.
/// </para>
/// <para>
/// Memory is bounded: events are streamed, and at most <see cref="ParquetExportOptions.MaxOpenDays"/> row groups of
/// <see cref="ParquetExportOptions.RowGroupSize"/> rows are buffered. Files are written under hidden temporary names
/// and renamed into place together when the export completes, so a reader never sees a half-written file. One export
/// runs at a time per root folder (a lock file keeps a second one, in this process or another, out).
/// </para>
/// </remarks>
/// <threadsafety>Instances are safe to share; exports into the same folder run one at a time.</threadsafety>
public sealed partial class ParquetEventExporter
{
    private const string PositionFile = "_funnel_export.position";
    private const string LockFile = "_funnel_export.lock";
    private static readonly ParquetExportOptionsValidator Validator = new();

    private readonly FunnelEventSerializer _serializer;
    private readonly ParquetExportOptions _options;
    private readonly string _root;

    /// <summary>Initializes an exporter.</summary>
    /// <param name="serializer">The serializer of the registered event types, which writes the <c>payload</c> column.</param>
    /// <param name="options">The root folder and limits.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options are invalid; the message names each field at fault.</exception>
    public ParquetEventExporter(FunnelEventSerializer serializer, ParquetExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(options);
        ValidationResult result = Validator.Validate(options);
        if (!result.IsValid)
        {
            throw new ArgumentException(
                string.Join(" ", result.Errors.Select(e => $"{nameof(ParquetExportOptions)}.{e.PropertyName}: {e.ErrorMessage}"))
                    .Trim(),
                nameof(options));
        }

        _serializer = serializer;
        _options = new ParquetExportOptions
        {
            Directory = options.Directory,
            RowGroupSize = options.RowGroupSize,
            ReadBatchSize = options.ReadBatchSize,
            MaxOpenDays = options.MaxOpenDays,
        };
        _root = Path.GetFullPath(options.Directory);
    }

    /// <summary>Exports the events appended to the log since the last export into the folder.</summary>
    /// <remarks>
    /// <para>
    /// The folder keeps the last exported position in <c>_funnel_export.position</c>; an export reads the log after it
    /// (from the start the first time), writes the new events into new files of their days, named
    /// <c>part-&lt;position it started after, 19 digits&gt;-&lt;n&gt;.parquet</c>, renames them into place, and only
    /// then records the new position. So every event is exported exactly once across exports: re-running adds only
    /// what was appended since, and an export that failed or was cancelled part-way is undone by the next one, which
    /// deletes the files of exports that started at or after the recorded position (and any temporary files) before
    /// it writes. Between such a failure and the next export, a reader may see that export's files.
    /// </para>
    /// <para>
    /// An event that arrives late (one whose <see cref="FunnelEvent.OccurredAt"/> is in a day already exported) is
    /// added to that day as a further file; days are never rewritten. Use one root folder per log, and do not mix
    /// with <see cref="ExportSnapshotAsync"/> in the same folder.
    /// </para>
    /// </remarks>
    /// <param name="log">The event log.</param>
    /// <param name="cancellationToken">Stops the export; the files it wrote are deleted (or by the next export).</param>
    /// <returns>What was written, and the position reached.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="log"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event's type is not registered with the serializer.</exception>
    /// <exception cref="InvalidOperationException">Another export into the folder is running.</exception>
    /// <exception cref="InvalidDataException">The folder's position file is not a position.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task<ParquetExportResult> ExportAsync(IFunnelEventLog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(_root);
        using FileStream exportLock = AcquireLock();
        long start = ReadPosition();
        RemoveUncommitted(start);
        long after = start;
        string prefix = "part-" + start.ToString("D19", CultureInfo.InvariantCulture);
        await using var run = new ExportRun(_root, prefix, _options, _serializer);
        while (true)
        {
            IReadOnlyList<LoggedEvent> page = await log.ReadAsync(after, _options.ReadBatchSize, cancellationToken)
                .ConfigureAwait(false);
            foreach (LoggedEvent logged in page)
            {
                if (logged.Position <= after)
                {
                    throw new InvalidOperationException(
                        $"The event log returned position {logged.Position} after {after}; positions must increase.");
                }

                await run.AddAsync(logged.Event, logged.Position, nameof(log), cancellationToken).ConfigureAwait(false);
                after = logged.Position;
            }

            if (page.Count < _options.ReadBatchSize)
            {
                break;
            }
        }

        ParquetExportResult result = await run.CommitAsync(after, cancellationToken).ConfigureAwait(false);
        if (after != start)
        {
            WritePosition(after);
        }

        return result;
    }

    /// <summary>Exports a stream of events as the whole content of the days they fall in, replacing those days' files.</summary>
    /// <remarks>
    /// <para>
    /// For a full re-export, a replay of whole days, or events from outside a log. The <c>position</c> column is null.
    /// The new files (<c>part-s&lt;export id&gt;-&lt;n&gt;.parquet</c>) are renamed into place together, then every
    /// other Parquet file of each day the stream touched is deleted; days the stream does not touch are left alone.
    /// So re-running with the same events gives the same rows, never twice; between the renames and the deletes a
    /// reader may briefly see a day twice, and an export that failed there leaves it so until it is run again.
    /// </para>
    /// <para>The stream must hold every event of each day it touches: a day's other events are deleted.</para>
    /// </remarks>
    /// <param name="events">The events, in any order.</param>
    /// <param name="cancellationToken">Stops the export; the files it wrote are deleted and no day is replaced.</param>
    /// <returns>What was written; its position is <see langword="null"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An event's type is not registered with the serializer.</exception>
    /// <exception cref="InvalidOperationException">Another export into the folder is running.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task<ParquetExportResult> ExportSnapshotAsync(
        IAsyncEnumerable<FunnelEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        Directory.CreateDirectory(_root);
        using FileStream exportLock = AcquireLock();
        RemoveUncommitted(long.MaxValue);
        string prefix = "part-s" + Guid.NewGuid().ToString("N")[..16];
        await using var run = new ExportRun(_root, prefix, _options, _serializer);
        await foreach (FunnelEvent e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await run.AddAsync(e, null, nameof(events), cancellationToken).ConfigureAwait(false);
        }

        ParquetExportResult result = await run.CommitAsync(null, cancellationToken).ConfigureAwait(false);
        var keep = new HashSet<string>(run.CommittedPaths, StringComparer.Ordinal);
        foreach (string day in result.Days.Select(d => Path.Combine(_root, DayFile.FolderOf(d))))
        {
            foreach (string file in Directory.EnumerateFiles(day, "*.parquet"))
            {
                if (!keep.Contains(file))
                {
                    File.Delete(file);
                }
            }
        }

        return result;
    }

    private FileStream AcquireLock()
    {
        try
        {
            return new FileStream(
                Path.Combine(_root, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Another export into '{_root}' is running.", e);
        }
    }

    private long ReadPosition()
    {
        string path = Path.Combine(_root, PositionFile);
        if (!File.Exists(path))
        {
            return 0;
        }

        string text = File.ReadAllText(path).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long position)
            ? position
            : throw new InvalidDataException($"'{path}' does not hold a log position: '{text[..Math.Min(text.Length, 40)]}'.");
    }

    private void WritePosition(long position)
    {
        string path = Path.Combine(_root, PositionFile);
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(position.ToString(CultureInfo.InvariantCulture)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Deletes temporary files, and the log files of exports that started at or after <paramref name="position"/>.</summary>
    private void RemoveUncommitted(long position)
    {
        foreach (string folder in Directory.EnumerateDirectories(_root, "day=*"))
        {
            foreach (string file in Directory.EnumerateFiles(folder))
            {
                string name = Path.GetFileName(file);
                Match log = LogFileName().Match(name);
                if ((name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal))
                    || (log.Success && long.Parse(log.Groups[1].ValueSpan, CultureInfo.InvariantCulture) >= position))
                {
                    File.Delete(file);
                }
            }
        }
    }

    [GeneratedRegex(@"^part-(\d{19})-\d{5}\.parquet$", RegexOptions.CultureInvariant)]
    private static partial Regex LogFileName();
}
