using System.Collections.Immutable;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics.Parquet;

/// <summary>The files of one export: an open file per day (a bounded number), renamed into place together at the end.</summary>
internal sealed class ExportRun : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _prefix;
    private readonly ParquetExportOptions _options;
    private readonly FunnelEventSerializer _serializer;
    private readonly Dictionary<LocalDate, DayFile> _open = [];
    private readonly Dictionary<LocalDate, int> _fileCounts = [];
    private readonly List<(LocalDate Day, string TempPath, string FinalPath)> _completed = [];
    private long _clock;
    private long _events;

    public ExportRun(string root, string prefix, ParquetExportOptions options, FunnelEventSerializer serializer)
    {
        _root = root;
        _prefix = prefix;
        _options = options;
        _serializer = serializer;
    }

    public async Task AddAsync(FunnelEvent funnelEvent, long? position, string paramName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent, paramName);
        string payload = _serializer.Serialize(funnelEvent);
        LocalDate day = funnelEvent.OccurredAt.InUtc().Date;
        if (!_open.TryGetValue(day, out DayFile? file))
        {
            if (_open.Count >= _options.MaxOpenDays)
            {
                DayFile oldest = _open.Values.MinBy(f => f.LastUsed)!;
                _open.Remove(oldest.Day);
                await CompleteAsync(oldest, cancellationToken).ConfigureAwait(false);
            }

            int n = _fileCounts.GetValueOrDefault(day);
            _fileCounts[day] = n + 1;
            file = await DayFile.CreateAsync(_root, day, $"{_prefix}-{n:D5}.parquet", _options.RowGroupSize, cancellationToken)
                .ConfigureAwait(false);
            _open.Add(day, file);
        }

        file.LastUsed = ++_clock;
        await file.AddAsync(funnelEvent, position, payload, cancellationToken).ConfigureAwait(false);
        _events++;
    }

    /// <summary>Finishes every file and renames each into place; returns what was written.</summary>
    public async Task<ParquetExportResult> CommitAsync(long? position, CancellationToken cancellationToken)
    {
        foreach (DayFile file in _open.Values.OrderBy(f => f.Day).ToArray())
        {
            _open.Remove(file.Day);
            await CompleteAsync(file, cancellationToken).ConfigureAwait(false);
        }

        foreach ((_, string tempPath, string finalPath) in _completed)
        {
            File.Move(tempPath, finalPath, overwrite: true);
        }

        return new ParquetExportResult(
            _events,
            [.. _completed.Select(f => f.Day).Distinct().Order()],
            [
                .. _completed.Select(f => Path.GetRelativePath(_root, f.FinalPath).Replace('\\', '/'))
                    .Order(StringComparer.Ordinal),
            ],
            position);
    }

    /// <summary>Gets the final paths of the files renamed into place by <see cref="CommitAsync"/>.</summary>
    public ImmutableArray<string> CommittedPaths => [.. _completed.Select(f => f.FinalPath)];

    public async ValueTask DisposeAsync()
    {
        foreach (DayFile file in _open.Values)
        {
            await file.DisposeAsync().ConfigureAwait(false);
            TryDelete(file.TempPath);
        }

        _open.Clear();
        foreach ((_, string tempPath, _) in _completed)
        {
            TryDelete(tempPath);
        }
    }

    /// <summary>Finishes a file and keeps only its paths, so a finished day holds no buffers until the commit.</summary>
    private async Task CompleteAsync(DayFile file, CancellationToken cancellationToken)
    {
        _completed.Add((file.Day, file.TempPath, file.FinalPath));
        await using (file.ConfigureAwait(false))
        {
            await file.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left behind; the next export deletes temporary files before it writes.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
