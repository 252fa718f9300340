using System.Globalization;
using Funnel.Events;
using NodaTime;
using Parquet;

namespace Funnel.Analytics.Parquet;

/// <summary>One Parquet file of one day being written under a hidden temporary name, a row group at a time.</summary>
internal sealed class DayFile : IAsyncDisposable
{
    private readonly int _rowGroupSize;
    private readonly List<string> _ids = [];
    private readonly List<long?> _positions = [];
    private readonly List<string> _types = [];
    private readonly List<string?> _subjects = [];
    private readonly List<DateTime> _times = [];
    private readonly List<string?> _leads = [];
    private readonly List<string?> _channels = [];
    private readonly List<string?> _campaigns = [];
    private readonly List<string?> _sources = [];
    private readonly List<string?> _mediums = [];
    private readonly List<string?> _contents = [];
    private readonly List<string?> _terms = [];
    private readonly List<string?> _referrers = [];
    private readonly List<long?> _amounts = [];
    private readonly List<string?> _currencies = [];
    private readonly List<string> _payloads = [];
    private FileStream? _stream;
    private ParquetWriter? _writer;

    private DayFile(LocalDate day, string tempPath, string finalPath, int rowGroupSize)
    {
        Day = day;
        TempPath = tempPath;
        FinalPath = finalPath;
        _rowGroupSize = rowGroupSize;
    }

    public LocalDate Day { get; }

    public string TempPath { get; }

    public string FinalPath { get; }

    public long Rows { get; private set; }

    public long LastUsed { get; set; }

    /// <summary>Returns the folder name of a day, <c>day=yyyy-MM-dd</c>.</summary>
    public static string FolderOf(LocalDate day) =>
        "day=" + day.ToString("uuuu'-'MM'-'dd", CultureInfo.InvariantCulture);

    public static async Task<DayFile> CreateAsync(
        string root, LocalDate day, string fileName, int rowGroupSize, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(root, FolderOf(day));
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, "." + fileName + ".tmp");
        var file = new DayFile(day, temp, Path.Combine(folder, fileName), rowGroupSize);
        file._stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        file._writer = await ParquetWriter.CreateAsync(EventSchema.Schema, file._stream, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        file._writer.CustomMetadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["funnel.schema"] = "funnel-events/1",
            ["funnel.day"] = day.ToString("uuuu'-'MM'-'dd", CultureInfo.InvariantCulture),
        };
        return file;
    }

    public async Task AddAsync(FunnelEvent funnelEvent, long? position, string payload, CancellationToken cancellationToken)
    {
        Attribution a = funnelEvent.Attribution ?? Attribution.None;
        Money? money = EventSchema.MoneyOf(funnelEvent);
        _ids.Add(funnelEvent.Id.ToString());
        _positions.Add(position);
        _types.Add(funnelEvent.EventType);
        _subjects.Add(funnelEvent.Subject);
        _times.Add(funnelEvent.OccurredAt.ToDateTimeUtc());
        _leads.Add(EventSchema.LeadOf(funnelEvent)?.ToString());
        _channels.Add(a.Channel);
        _campaigns.Add(a.Campaign);
        _sources.Add(a.Source);
        _mediums.Add(a.Medium);
        _contents.Add(a.Content);
        _terms.Add(a.Term);
        _referrers.Add(a.Referrer);
        _amounts.Add(money?.MinorUnits);
        _currencies.Add(money?.Currency.Code);
        _payloads.Add(payload);
        Rows++;
        if (_ids.Count >= _rowGroupSize)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the buffered rows, finishes the file and flushes it to disk; it keeps its temporary name.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _writer!.DisposeAsync().ConfigureAwait(false);
        _writer = null;
        await _stream!.FlushAsync(cancellationToken).ConfigureAwait(false);
        _stream.Flush(flushToDisk: true);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stream = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            try
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The file is abandoned; it keeps its temporary name and the next export deletes it.
            }

            _writer = null;
        }

        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            _stream = null;
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_ids.Count == 0)
        {
            return;
        }

        using (ParquetRowGroupWriter group = _writer!.CreateRowGroup())
        {
            await group.WriteAsync(EventSchema.EventId, _ids).ConfigureAwait(false);
            await group.WriteAsync<long>(EventSchema.Position, _positions.ToArray(), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Type, _types).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Subject, _subjects!).ConfigureAwait(false);
            await group.WriteAsync<DateTime>(EventSchema.OccurredAt, _times.ToArray(), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            await group.WriteAsync(EventSchema.LeadId, _leads!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Channel, _channels!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Campaign, _campaigns!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Source, _sources!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Medium, _mediums!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Content, _contents!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Term, _terms!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Referrer, _referrers!).ConfigureAwait(false);
            await group.WriteAsync<long>(EventSchema.AmountMinor, _amounts.ToArray(), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Currency, _currencies!).ConfigureAwait(false);
            await group.WriteAsync(EventSchema.Payload, _payloads).ConfigureAwait(false);
            group.CompleteValidate();
        }

        _ids.Clear();
        _positions.Clear();
        _types.Clear();
        _subjects.Clear();
        _times.Clear();
        _leads.Clear();
        _channels.Clear();
        _campaigns.Clear();
        _sources.Clear();
        _mediums.Clear();
        _contents.Clear();
        _terms.Clear();
        _referrers.Clear();
        _amounts.Clear();
        _currencies.Clear();
        _payloads.Clear();
    }
}
