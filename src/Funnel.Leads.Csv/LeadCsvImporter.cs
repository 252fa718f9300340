using System.Collections.Immutable;
using System.Text.RegularExpressions;
using CsvHelper;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Privacy;
using NodaTime;

namespace Funnel.Leads.Csv;

/// <summary>Imports leads from a CSV file into the lead store: mapped, normalised, deduplicated by email, with recorded consent.</summary>
/// <remarks>
/// <para>
/// The file is read as a stream, one record at a time, and written to the <see cref="ILeadStore"/> every
/// <see cref="LeadCsvOptions.BatchSize"/> rows, so memory does not grow with the file. UTF-8 with or without a byte
/// order mark, CRLF or LF line ends, quoted values with doubled quotes and line breaks, and <c>,</c> or <c>;</c> as the
/// separator (detected from the header) are read as usual.
/// </para>
/// <para>
/// Each row's address is normalised by <see cref="EmailAddress"/>; a lead with that address is updated (tags added,
/// missing fields filled in, consent granted where allowed), otherwise one is created at the stage
/// <see cref="LifecycleStage.Lead"/>. An address repeated in the file updates the same lead. Tags are trimmed and
/// lower-cased; values are trimmed and empty ones skipped. Imported leads are not opt-ins: no
/// <see cref="OptedIn"/> is recorded and no opt-in sequence starts. Each consent granted by the import is recorded as
/// a <see cref="ConsentRecorded"/> event with <see cref="ConsentMethod.Imported"/>.
/// </para>
/// <para>
/// Recognised headers (any case, spaces and punctuation ignored): <c>email</c>, <c>e-mail</c>, <c>email address</c>,
/// <c>mail</c>; consent: <c>consent</c>, <c>marketing consent</c>, <c>opt in</c>, <c>opted in</c>, <c>subscribed</c>,
/// <c>accepts marketing</c>; <c>tags</c>, <c>tag</c>, <c>labels</c>; <c>time zone</c>, <c>tz</c>; and as fields
/// <c>first name</c>/<c>given name</c> → <c>first_name</c>, <c>last name</c>/<c>surname</c> → <c>last_name</c>,
/// <c>name</c>, <c>company</c>, <c>phone</c>, <c>country</c>, <c>city</c>.
/// </para>
/// <para>
/// A row is rejected, and reported with its line, column and reason, when its number of fields differs from the
/// header's, its quotes are broken, its address is invalid, a value is longer than
/// <see cref="LeadCsvOptions.MaxFieldLength"/>, its consent or time zone cannot be read, or it has no consent and
/// <see cref="LeadImportRequest.WithoutConsent"/> is <see cref="RowsWithoutConsent.Reject"/>. With a
/// <see cref="LeadPrivacyService"/>, a row whose address belongs to an erased lead (and has not opted in again since) is
/// rejected too: an import is not the person's own new consent. Each consent the import grants is appended to the
/// lead's <see cref="LeadProfile.ConsentHistory"/> with the import's source and stated basis.
/// </para>
/// </remarks>
/// <threadsafety>Instances are safe to use from many threads at once when the store and log are; each call reads its own file.</threadsafety>
public sealed partial class LeadCsvImporter
{
    private static readonly string[] Yes = ["yes", "y", "true", "1", "granted", "subscribed", "opted in", "opted-in", "opt-in", "x"];
    private static readonly string[] No = ["no", "n", "false", "0", "none", "pending", "withdrawn", "unsubscribed", "denied", ""];
    private static readonly char[] TagSeparators = [';', ',', '|'];

    private readonly ILeadStore _store;
    private readonly IFunnelEventLog _log;
    private readonly IClock _clock;
    private readonly LeadCsvOptions _options;
    private readonly IDateTimeZoneProvider _zones;
    private readonly LeadPrivacyService? _privacy;

    /// <summary>Initializes the importer.</summary>
    /// <param name="store">Where leads are kept.</param>
    /// <param name="eventLog">Where the consent the import grants is recorded.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="options">The limits.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid; the message names the option.</exception>
    public LeadCsvImporter(ILeadStore store, IFunnelEventLog eventLog, IClock clock, LeadCsvOptions options)
        : this(store, eventLog, clock, options, privacy: null)
    {
    }

    /// <summary>Initializes the importer, rejecting the rows of erased addresses.</summary>
    /// <param name="store">Where leads are kept.</param>
    /// <param name="eventLog">Where the consent the import grants is recorded.</param>
    /// <param name="clock">The source of "now".</param>
    /// <param name="options">The limits.</param>
    /// <param name="privacy">Tells erased addresses (<see cref="LeadPrivacyService.IsSuppressedAsync"/>); <see langword="null"/> imports every address.</param>
    /// <exception cref="ArgumentNullException"><paramref name="store"/>, <paramref name="eventLog"/>, <paramref name="clock"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid; the message names the option.</exception>
    public LeadCsvImporter(ILeadStore store, IFunnelEventLog eventLog, IClock clock, LeadCsvOptions options, LeadPrivacyService? privacy)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(eventLog);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(options);
        FluentValidation.Results.ValidationResult valid = new LeadCsvOptionsValidator().Validate(options);
        if (!valid.IsValid)
        {
            throw new ArgumentException("Invalid CSV options: " + string.Join(" ", valid.Errors.Select(e => e.ErrorMessage)), nameof(options));
        }

        _store = store;
        _log = eventLog;
        _clock = clock;
        _options = options;
        _zones = DateTimeZoneProviders.Tzdb;
        _privacy = privacy;
    }

    /// <summary>Imports the leads of a CSV file.</summary>
    /// <param name="csv">The file, read once from its current position and left open.</param>
    /// <param name="request">The source, mapping and consent of the import.</param>
    /// <param name="cancellationToken">Cancels the import between rows; the batches already written stay.</param>
    /// <returns>The counts, the columns used and the rejected rows.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The request is invalid; the message names the property.</exception>
    /// <exception cref="FormatException">The file has no header, no email column, or lacks a column the mapping names.</exception>
    public async Task<LeadImportResult> ImportAsync(Stream csv, LeadImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(request);
        CheckRequest(request);

        Tally tally = new(_options.MaxReportedRejections);
        CsvReaderOptions readerOptions = new()
        {
            HasHeader = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MalformedData = CsvMalformedDataHandling.Skip,
            OnMalformedRecord = m => tally.Reject(new RejectedRow(m.LineNumber, null, MalformedReason(m.Reason))),
            MaxRecordSize = _options.MaxRecordBytes,
            TrackLineNumbers = true,
        };
        await using CsvReader reader = CsvReader.Create(csv, readerOptions, true);
        ColumnPlan? plan = null;
        Instant now = _clock.GetCurrentInstant();
        List<ImportRow> batch = new(_options.BatchSize);
        string? stopped = null;
        while (true)
        {
            bool read;
            try
            {
                read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (CsvFormatException e)
            {
                stopped = $"Line {e.LineNumber}: {e.Message} The import stopped there; the rows before it were imported.";
                break;
            }

            if (!read)
            {
                break;
            }

            plan ??= ColumnPlan.Resolve(reader.Headers, request.Mapping);
            tally.Rows++;
            (ImportRow? row, RejectedRow? rejected) = Parse(reader, plan, request);
            if (row is null)
            {
                tally.Reject(rejected!);
                continue;
            }

            batch.Add(row);
            if (batch.Count >= _options.BatchSize)
            {
                await WriteAsync(batch, request, now, tally, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await WriteAsync(batch, request, now, tally, cancellationToken).ConfigureAwait(false);
        }

        plan ??= reader.Headers.Count > 0
            ? ColumnPlan.Resolve(reader.Headers, request.Mapping)
            : stopped is null ? throw new FormatException("The file is empty: it needs a header row, such as 'email,first name,consent'.") : null;
        return new LeadImportResult(
            tally.Rows, tally.Created, tally.Updated, tally.Unchanged, tally.ConsentGranted, tally.RejectedCount,
            tally.Report.ToImmutable(), plan?.Used ?? ImmutableDictionary<string, string>.Empty, plan?.Ignored ?? [])
        {
            StoppedEarly = stopped,
        };
    }

    private (ImportRow? Row, RejectedRow? Rejected) Parse(CsvReader reader, ColumnPlan plan, LeadImportRequest request)
    {
        long line = reader.LineNumber;
        if (reader.FieldCount != plan.HeaderCount)
        {
            return Reject(line, null, $"The row has {reader.FieldCount} fields; the header has {plan.HeaderCount}.");
        }

        string emailText = reader.GetString(plan.Email);
        if (!EmailAddress.TryParse(emailText, out EmailAddress email, out string? emailError))
        {
            return Reject(line, plan.Headers[plan.Email], emailError!);
        }

        ImmutableDictionary<string, string>.Builder fields = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach ((int index, string field) in plan.Fields)
        {
            string value = reader.GetString(index).Trim();
            if (value.Length > _options.MaxFieldLength)
            {
                return Reject(line, plan.Headers[index], $"The value is {value.Length} characters long; at most {_options.MaxFieldLength} are allowed.");
            }

            if (value.Length > 0)
            {
                fields[field] = value;
            }
        }

        ImmutableArray<string>.Builder tags = ImmutableArray.CreateBuilder<string>();
        tags.AddRange(request.Tags.Select(NormaliseTag));
        if (plan.Tags >= 0)
        {
            string value = reader.GetString(plan.Tags);
            if (value.Length > _options.MaxFieldLength)
            {
                return Reject(line, plan.Headers[plan.Tags], $"The value is {value.Length} characters long; at most {_options.MaxFieldLength} are allowed.");
            }

            foreach (string tag in value.Split(TagSeparators, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (tag.Length > 100)
                {
                    return Reject(line, plan.Headers[plan.Tags], $"The tag '{tag[..20]}…' is {tag.Length} characters long; at most 100 are allowed.");
                }

                tags.Add(NormaliseTag(tag));
            }
        }

        string? zone = null;
        if (plan.TimeZone >= 0)
        {
            string value = reader.GetString(plan.TimeZone).Trim();
            if (value.Length > 0 && _zones.GetZoneOrNull(value) is null)
            {
                return Reject(line, plan.Headers[plan.TimeZone], $"'{Clip(value)}' is not a known IANA time zone id, such as Europe/Berlin.");
            }

            zone = value.Length > 0 ? value : null;
        }

        bool consent;
        string? consentText = request.ConsentBasis;
        if (plan.Consent >= 0)
        {
            string value = reader.GetString(plan.Consent).Trim().ToLowerInvariant();
            if (Yes.Contains(value))
            {
                consent = true;
                consentText ??= $"The imported file's column '{plan.Headers[plan.Consent]}' said '{value}'.";
            }
            else if (No.Contains(value))
            {
                consent = false;
            }
            else
            {
                return Reject(line, plan.Headers[plan.Consent], $"'{Clip(value)}' is not a consent value: use yes or no (true/false, 1/0, granted/withdrawn).");
            }
        }
        else
        {
            consent = request.ConsentBasis is not null;
        }

        if (!consent && request.WithoutConsent == RowsWithoutConsent.Reject)
        {
            return Reject(line, plan.Consent >= 0 ? plan.Headers[plan.Consent] : null, "The row has no marketing consent, and this import rejects such rows.");
        }

        return (new ImportRow(line, plan.Headers[plan.Email], email, fields.ToImmutable(), tags.ToImmutable(), zone, consent ? consentText : null), null);
    }

    private async Task WriteAsync(List<ImportRow> batch, LeadImportRequest request, Instant now, Tally tally, CancellationToken cancellationToken)
    {
        List<LeadEvent> events = [];
        foreach (ImportRow row in batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_privacy is not null && await _privacy.IsSuppressedAsync(row.Email.Value, cancellationToken).ConfigureAwait(false))
            {
                tally.Reject(new RejectedRow(row.Line, row.EmailColumn, "The address belongs to an erased lead; only the person's own new opt-in brings it back."));
                continue;
            }

            LeadId fresh = LeadId.New();
            OptimisticConcurrency.Update<LeadProfile> update = await OptimisticConcurrency.UpdateAsync(
                c => _store.FindByEmailAsync(row.Email, c),
                current => Merge(current, row, request, fresh, now),
                _store.TryAddAsync,
                _store.TryUpdateAsync,
                static (current, next) => next with { Version = current.Version + 1 },
                $"Lead '{row.Email}'",
                cancellationToken).ConfigureAwait(false);
            if (!update.Changed)
            {
                tally.Unchanged++;
                continue;
            }

            if (update.Before is null)
            {
                tally.Created++;
            }
            else
            {
                tally.Updated++;
            }

            LeadProfile after = update.After!;
            if (after.ConsentStatus == ConsentStatus.Granted && update.Before?.ConsentStatus != ConsentStatus.Granted)
            {
                tally.ConsentGranted++;
                events.Add(new ConsentRecorded
                {
                    LeadId = after.Id,
                    OccurredAt = now,
                    Purpose = after.Consent!.Purpose,
                    Status = ConsentStatus.Granted,
                    Method = ConsentMethod.Imported,
                    Source = after.Consent.Source,
                });
            }
        }

        if (events.Count > 0)
        {
            await _log.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The lead after the row, or <paramref name="current"/> itself when the row adds nothing: a pure function, re-run on a lost race.</summary>
    private static LeadProfile Merge(LeadProfile? current, ImportRow row, LeadImportRequest request, LeadId fresh, Instant now)
    {
        ConsentRecord? imported = row.ConsentText is null ? null : new ConsentRecord
        {
            Purpose = request.ConsentPurpose,
            Status = ConsentStatus.Granted,
            Method = ConsentMethod.Imported,
            Source = "import:" + request.Source,
            RecordedAt = now,
            Text = row.ConsentText,
        };
        if (current is null)
        {
            return new LeadProfile
            {
                Id = fresh,
                Email = row.Email,
                CreatedAt = now,
                Stage = LifecycleStage.Lead,
                TimeZoneId = row.TimeZoneId,
                Tags = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, row.Tags),
                CustomFields = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, row.Fields),
                Consent = imported,
                ConsentHistory = imported is null ? [] : [ConsentChange.Of(imported, now)],
            };
        }

        bool changed = false;
        ImmutableSortedSet<string> tags = current.Tags;
        if (!row.Tags.All(tags.Contains))
        {
            tags = tags.Union(row.Tags);
            changed = true;
        }

        ImmutableSortedDictionary<string, string> fields = current.CustomFields;
        foreach (KeyValuePair<string, string> field in row.Fields)
        {
            bool has = fields.TryGetValue(field.Key, out string? existing) && !string.IsNullOrWhiteSpace(existing);
            if ((!has || request.OverwriteFields) && existing != field.Value)
            {
                fields = fields.SetItem(field.Key, field.Value);
                changed = true;
            }
        }

        string? zone = current.TimeZoneId;
        if (zone is null && row.TimeZoneId is not null)
        {
            zone = row.TimeZoneId;
            changed = true;
        }

        ConsentRecord? consent = current.Consent;
        bool mayGrant = current.ConsentStatus == ConsentStatus.None
            && current.UnsubscribedAt is null && current.ComplainedAt is null;
        if (imported is not null && mayGrant)
        {
            consent = imported;
            changed = true;
        }

        LeadProfile merged = imported is not null && ReferenceEquals(consent, imported) ? current.WithConsentChange(ConsentChange.Of(imported, now)) : current;
        return changed ? merged with { Tags = tags, CustomFields = fields, TimeZoneId = zone, Consent = consent } : current;
    }

    private static void CheckRequest(LeadImportRequest request)
    {
        List<string> errors = [];
        if (string.IsNullOrWhiteSpace(request.Source) || request.Source.Length > 100)
        {
            errors.Add("'Source' must be 1-100 characters, such as 'mailchimp-2026-12'.");
        }

        if (request.Mapping is null)
        {
            errors.Add("'Mapping' is required (use LeadCsvMapping.Auto).");
        }
        else if (request.Mapping.Fields is null || request.Mapping.Fields.Any(f => string.IsNullOrWhiteSpace(f.Key) || f.Value is null || !FieldName().IsMatch(f.Value)))
        {
            errors.Add("'Mapping.Fields' must map headers to field names of lower-case letters, digits and '_', such as 'first_name'.");
        }

        if (request.ConsentBasis is { } basis && (string.IsNullOrWhiteSpace(basis) || basis.Length > 2_000))
        {
            errors.Add("'ConsentBasis' must be 1-2000 characters stating how the list's consent was collected, or null.");
        }

        if (!Enum.IsDefined(request.WithoutConsent))
        {
            errors.Add("'WithoutConsent' is not a defined value.");
        }

        if (!Key.IsValid(request.ConsentPurpose))
        {
            errors.Add($"'ConsentPurpose' ('{request.ConsentPurpose}') must be a key such as 'marketing-email'.");
        }

        if (request.Tags.IsDefault || request.Tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 100))
        {
            errors.Add("'Tags' must be tags of 1-100 characters (use an empty array for none).");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid import request: " + string.Join(" ", errors), nameof(request));
        }
    }

    private static string MalformedReason(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.StrayQuote => "A quote appears inside a value that is not quoted; quote the value and double the quote (\"\").",
        CsvMalformedReason.TextAfterClosingQuote => "Text follows a closing quote; a quoted value must end at the separator.",
        CsvMalformedReason.UnterminatedQuote => "A quoted value is not closed before the end of the file.",
        CsvMalformedReason.LineBreakInQuotes => "A quoted value contains a line break, which this file does not allow.",
        _ => "The row is malformed (" + reason + ").",
    };

    private static string NormaliseTag(string tag) => tag.Trim().ToLowerInvariant();

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static (ImportRow? Row, RejectedRow? Rejected) Reject(long line, string? field, string reason) =>
        (null, new RejectedRow(line, field, reason));

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldName();

    private sealed record ImportRow(long Line, string EmailColumn, EmailAddress Email, ImmutableDictionary<string, string> Fields, ImmutableArray<string> Tags, string? TimeZoneId, string? ConsentText);

    private sealed class Tally(int maxReported)
    {
        public long Rows { get; set; }

        public long Created { get; set; }

        public long Updated { get; set; }

        public long Unchanged { get; set; }

        public long ConsentGranted { get; set; }

        public long RejectedCount { get; private set; }

        public ImmutableArray<RejectedRow>.Builder Report { get; } = ImmutableArray.CreateBuilder<RejectedRow>();

        public void Reject(RejectedRow row)
        {
            RejectedCount++;
            if (Report.Count < maxReported)
            {
                Report.Add(row);
            }
        }
    }
}
