using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Leads.Csv;
using Funnel.Pipeline;
using Funnel.Privacy;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads.Csv;

public sealed class LeadCsvImporterTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 5, 12, 0);
    private readonly CsvFiles _files = new();
    private readonly InMemoryLeadStore _store = new();
    private readonly InMemoryFunnelEventLog _log = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task ImportAsync_MailchimpExport_MapsHeadersNormalisesAndRecordsConsent()
    {
        LeadImportResult result = await ImportFileAsync(Path.Combine(AppContext.BaseDirectory, "Data", "mailchimp-members.csv"));

        result.Rows.ShouldBe(3);
        result.Created.ShouldBe(3);
        result.RejectedCount.ShouldBe(0);
        result.ConsentGranted.ShouldBe(2);
        result.Columns["Email Address"].ShouldBe("email");
        result.Columns["First Name"].ShouldBe("field:first_name");
        result.Columns["TAGS"].ShouldBe("tags");
        result.Columns["Opt-in"].ShouldBe("consent");
        result.Columns["Timezone"].ShouldBe("time_zone");
        result.IgnoredColumns.ShouldBe(["Member Rating"]);

        LeadProfile ann = (await _store.FindByEmailAsync(EmailAddress.Parse("ann@example.com")))!;
        ann.Tags.ShouldBe(["vip", "webinar"]);
        ann.CustomFields["first_name"].ShouldBe("Ann");
        ann.CustomFields["last_name"].ShouldBe("Smith");
        ann.TimeZoneId.ShouldBe("Europe/Berlin");
        ann.Stage.ShouldBe(LifecycleStage.Lead);
        ann.Consent.ShouldNotBeNull();
        ann.Consent.Status.ShouldBe(ConsentStatus.Granted);
        ann.Consent.Method.ShouldBe(ConsentMethod.Imported);
        ann.Consent.Source.ShouldBe("import:test-list");
        ann.Consent.Text.ShouldBe("The imported file's column 'Opt-in' said 'yes'.");

        LeadProfile bob = (await _store.FindByEmailAsync(EmailAddress.Parse("bob@example.com")))!;
        bob.ConsentStatus.ShouldBe(ConsentStatus.None);
        bob.CustomFields.ContainsKey("last_name").ShouldBeFalse();

        ConsentRecorded[] recorded = [.. _log.Snapshot().OfType<ConsentRecorded>()];
        recorded.Length.ShouldBe(2);
        recorded.ShouldAllBe(e => e.Method == ConsentMethod.Imported && e.Source == "import:test-list");
        _log.Snapshot().OfType<OptedIn>().ShouldBeEmpty();
    }

    [Fact]
    public async Task ImportAsync_HostileRows_RejectsEachWithLineFieldAndReason()
    {
        string hugeName = new('x', 5_000);
        string path = _files.Write(
            "email,first name,consent\n"
            + "ok1@example.com,Ann,yes\n"                      // line 2
            + "too@example.com,Bob,yes,extra\n"                // line 3: too many fields
            + "short@example.com\n"                            // line 4: too few fields
            + "not-an-address,Carl,yes\n"                      // line 5: bad email
            + "huge@example.com," + hugeName + ",yes\n"        // line 6: huge field
            + "maybe@example.com,Dora,maybe\n"                 // line 7: unreadable consent
            + "quote@example.com,Ed \"the\" best,yes\n"        // line 8: stray quote
            + "ok2@example.com,\"Fay, \"\"F\"\"\",yes\n");     // line 9: fine

        LeadImportResult result = await ImportFileAsync(path);

        result.Created.ShouldBe(2);
        result.RejectedCount.ShouldBe(6);
        result.Rejected.Select(r => (r.Row, r.Field)).ShouldBe([(3, null), (4, null), (5, "email"), (6, "first name"), (7, "consent"), (8, null)]);
        result.Rejected[0].Reason.ShouldBe("The row has 4 fields; the header has 3.");
        result.Rejected[2].Reason.ShouldContain("'not-an-address' is not a valid email address");
        result.Rejected[3].Reason.ShouldBe("The value is 5000 characters long; at most 1000 are allowed.");
        result.Rejected[4].Reason.ShouldContain("'maybe' is not a consent value");
        result.Rejected[5].Reason.ShouldContain("quote");
        (await _store.FindByEmailAsync(EmailAddress.Parse("ok2@example.com")))!.CustomFields["first_name"].ShouldBe("Fay, \"F\"");
    }

    [Theory]
    [InlineData("\r\n", true)]
    [InlineData("\n", true)]
    [InlineData("\r\n", false)]
    [InlineData("\n", false)]
    public async Task ImportAsync_ByteOrderMarkAndLineEnds_ReadTheSame(string newLine, bool byteOrderMark)
    {
        string path = _files.Write(
            string.Join(newLine, "Email;First Name;Tags", "zoë@example.com;Zoë;a|b", "\"multi@example.com\";\"two" + newLine + "lines\";c") + newLine,
            byteOrderMark);

        LeadImportResult result = await ImportFileAsync(path, Request() with { ConsentBasis = "Signed up on example.com." });

        result.RejectedCount.ShouldBe(0);
        result.Columns.Keys.Order(StringComparer.Ordinal).ShouldBe(["Email", "First Name", "Tags"]);
        (await _store.FindByEmailAsync(EmailAddress.Parse("zoë@example.com")))!.Tags.ShouldBe(["a", "b"]);
        (await _store.FindByEmailAsync(EmailAddress.Parse("multi@example.com")))!.CustomFields["first_name"].ShouldBe("two" + newLine + "lines");
    }

    [Fact]
    public async Task ImportAsync_ExistingLeadAndRepeatedAddress_UpdateOneLeadWithoutOverwritingOrResubscribing()
    {
        LeadProfile existing = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse("ann@example.com"),
            CreatedAt = Now - Duration.FromDays(30),
            Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, "buyer"),
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Annie"),
            Consent = new ConsentRecord { Purpose = "marketing-email", Status = ConsentStatus.Withdrawn, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Now },
            UnsubscribedAt = Now - Duration.FromDays(1),
        };
        (await _store.TryAddAsync(existing)).ShouldBeTrue();
        string path = _files.Write("email,first name,last name,tags,consent\nANN@example.com,Ann,Smith,vip,yes\nann@example.com,Ann,Smith,vip,yes\n");

        LeadImportResult result = await ImportFileAsync(path);

        result.Created.ShouldBe(0);
        result.Updated.ShouldBe(1);
        result.Unchanged.ShouldBe(1);
        result.ConsentGranted.ShouldBe(0);
        LeadProfile lead = (await _store.FindByEmailAsync(existing.Email))!;
        lead.Id.ShouldBe(existing.Id);
        lead.Tags.ShouldBe(["buyer", "vip"]);
        lead.CustomFields["first_name"].ShouldBe("Annie");
        lead.CustomFields["last_name"].ShouldBe("Smith");
        lead.ConsentStatus.ShouldBe(ConsentStatus.Withdrawn);
        lead.UnsubscribedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task ImportAsync_NoConsentColumnAndNoBasis_ImportsWithoutConsentOrRejectsWhenAsked()
    {
        string path = _files.Write("email\na@example.com\nb@example.com\n");

        LeadImportResult imported = await ImportFileAsync(path);
        LeadImportResult rejected = await new LeadCsvImporter(new InMemoryLeadStore(), _log, new FakeClock(Now), new LeadCsvOptions())
            .ImportAsync(File.OpenRead(path), Request() with { WithoutConsent = RowsWithoutConsent.Reject });

        imported.Created.ShouldBe(2);
        imported.ConsentGranted.ShouldBe(0);
        (await _store.FindByEmailAsync(EmailAddress.Parse("a@example.com")))!.CanReceiveMarketingEmail.ShouldBeFalse();
        rejected.Created.ShouldBe(0);
        rejected.Rejected.ShouldAllBe(r => r.Reason == "The row has no marketing consent, and this import rejects such rows.");
        rejected.Rejected.Select(r => r.Row).ShouldBe([2L, 3L]);
    }

    [Fact]
    public async Task ImportAsync_ImportLevelBasis_GrantsConsentRecordingTheBasis()
    {
        string path = _files.Write("email\na@example.com\n");

        await ImportFileAsync(path, Request() with { ConsentBasis = "Newsletter form on example.com, double opt-in, 2024-2026." });

        ConsentRecord consent = (await _store.FindByEmailAsync(EmailAddress.Parse("a@example.com")))!.Consent!;
        consent.Status.ShouldBe(ConsentStatus.Granted);
        consent.Text.ShouldBe("Newsletter form on example.com, double opt-in, 2024-2026.");
    }

    [Fact]
    public async Task ImportAsync_ConsentGranted_AppendsAnImportedChangeToTheConsentHistory()
    {
        string path = _files.Write("email\na@example.com\n");

        await ImportFileAsync(path, Request() with { ConsentBasis = "Newsletter form, double opt-in." });

        ConsentChange change = (await _store.FindByEmailAsync(EmailAddress.Parse("a@example.com")))!.ConsentHistory.ShouldHaveSingleItem();
        change.Method.ShouldBe(ConsentMethod.Imported);
        change.Status.ShouldBe(ConsentStatus.Granted);
        change.Text.ShouldBe("Newsletter form, double opt-in.");
        change.At.ShouldBe(Now);
    }

    [Fact]
    public async Task ImportAsync_AddressOfAnErasedLead_RejectsTheRowAndKeepsTheTombstone()
    {
        LeadPrivacyService privacy = new(
            _store, [_store, _log], Options.Create(new PrivacyOptions { SuppressionKey = new string('k', 32) }), new FakeClock(Now));
        string first = _files.Write("email\nann@example.com\nbob@example.com\n");
        await ImportFileAsync(first, Request() with { ConsentBasis = "Form." });
        LeadProfile ann = (await _store.FindByEmailAsync(EmailAddress.Parse("ann@example.com")))!;
        await privacy.EraseAsync(ann.Id);
        LeadCsvImporter importer = new(_store, _log, new FakeClock(Now), new LeadCsvOptions(), privacy);

        await using FileStream again = File.OpenRead(_files.Write("email\nAnn@Example.com\ncarl@example.com\n"));
        LeadImportResult result = await importer.ImportAsync(again, Request() with { ConsentBasis = "Form." });

        result.Created.ShouldBe(1);
        result.Rejected.ShouldHaveSingleItem().ShouldBe(new RejectedRow(2, "email", "The address belongs to an erased lead; only the person's own new opt-in brings it back."));
        (await _store.FindByEmailAsync(EmailAddress.Parse("ann@example.com"))).ShouldBeNull();
        (await privacy.IsSuppressedAsync("ann@example.com")).ShouldBeTrue();
    }

    [Fact]
    public async Task ImportAsync_ExplicitMapping_UsesTheNamedColumns()
    {
        string path = _files.Write("Adresse;Vorname;Einwilligung;Stadt\nhans@example.de;Hans;ja;Köln\n");
        LeadImportRequest request = Request() with
        {
            Mapping = new LeadCsvMapping
            {
                EmailColumn = "Adresse",
                ConsentColumn = "Einwilligung",
                Fields = ImmutableDictionary<string, string>.Empty.Add("Vorname", "first_name"),
                AutoMap = false,
            },
        };

        LeadImportResult result = await ImportFileAsync(path, request);

        // "ja" is not an English yes: the row is rejected rather than guessed.
        result.Rejected.ShouldHaveSingleItem().Field.ShouldBe("Einwilligung");
        result.IgnoredColumns.ShouldBe(["Stadt"]);
    }

    [Fact]
    public async Task ImportAsync_NoEmailColumn_ThrowsNamingTheColumnsFound()
    {
        string path = _files.Write("name,phone\nAnn,123\n");

        FormatException error = await Should.ThrowAsync<FormatException>(() => ImportFileAsync(path));

        error.Message.ShouldContain("no email column");
        error.Message.ShouldContain("'name', 'phone'");
    }

    [Fact]
    public async Task ImportAsync_MappedColumnMissing_ThrowsNamingIt()
    {
        string path = _files.Write("email\na@example.com\n");

        FormatException error = await Should.ThrowAsync<FormatException>(() => ImportFileAsync(path, Request() with { Mapping = new LeadCsvMapping { ConsentColumn = "gdpr" } }));

        error.Message.ShouldContain("The consent column 'gdpr' is not in the file");
    }

    [Fact]
    public async Task ImportAsync_EmptyFile_ThrowsAskingForAHeader()
    {
        (await Should.ThrowAsync<FormatException>(() => ImportFileAsync(_files.Write("")))).Message.ShouldContain("needs a header row");
    }

    [Fact]
    public async Task ImportAsync_RecordLongerThanTheLimit_StopsKeepingTheRowsBefore()
    {
        string path = _files.Write("email,first name\na@example.com,Ann\nb@example.com," + new string('x', 300_000) + "\nc@example.com,Cy\n");
        LeadCsvImporter importer = new(_store, _log, new FakeClock(Now), new LeadCsvOptions { MaxRecordBytes = 100_000 });

        await using FileStream file = File.OpenRead(path);
        LeadImportResult result = await importer.ImportAsync(file, Request());

        result.Created.ShouldBe(1);
        result.StoppedEarly.ShouldNotBeNull();
        result.StoppedEarly.ShouldContain("MaxRecordSize");
        (await _store.FindByEmailAsync(EmailAddress.Parse("c@example.com"))).ShouldBeNull();
    }

    [Fact]
    public async Task ImportAsync_ManyBadRows_ReportsUpToTheLimitAndCountsAll()
    {
        string path = _files.Write("email\n" + string.Concat(Enumerable.Range(0, 50).Select(i => $"bad{i}\n")));
        LeadCsvImporter importer = new(_store, _log, new FakeClock(Now), new LeadCsvOptions { MaxReportedRejections = 10, BatchSize = 7 });

        await using FileStream file = File.OpenRead(path);
        LeadImportResult result = await importer.ImportAsync(file, Request());

        result.RejectedCount.ShouldBe(50);
        result.Rejected.Length.ShouldBe(10);
    }

    [Fact]
    public async Task ImportAsync_MoreRowsThanABatch_WritesEveryBatch()
    {
        string path = _files.Write("email,consent\n" + string.Concat(Enumerable.Range(0, 2_500).Select(i => $"lead{i}@example.com,yes\n")));
        LeadCsvImporter importer = new(_store, _log, new FakeClock(Now), new LeadCsvOptions { BatchSize = 1_000 });

        await using FileStream file = File.OpenRead(path);
        LeadImportResult result = await importer.ImportAsync(file, Request());

        result.Created.ShouldBe(2_500);
        _store.Snapshot().Count.ShouldBe(2_500);
        _log.Snapshot().OfType<ConsentRecorded>().Count().ShouldBe(2_500);
    }

    [Theory]
    [InlineData("", "'Source'")]
    [InlineData("ok", "'ConsentPurpose'")]
    public async Task ImportAsync_InvalidRequest_ThrowsNamingTheProperty(string source, string expected)
    {
        LeadImportRequest request = new() { Source = source, ConsentPurpose = source.Length == 0 ? "marketing-email" : "Not A Key" };

        ArgumentException error = await Should.ThrowAsync<ArgumentException>(() => ImportFileAsync(_files.Write("email\n"), request));

        error.Message.ShouldContain(expected);
    }

    private static LeadImportRequest Request() => new() { Source = "test-list" };

    private async Task<LeadImportResult> ImportFileAsync(string path, LeadImportRequest? request = null)
    {
        LeadCsvImporter importer = new(_store, _log, new FakeClock(Now), new LeadCsvOptions());
        await using FileStream file = File.OpenRead(path);
        return await importer.ImportAsync(file, request ?? Request());
    }
}
