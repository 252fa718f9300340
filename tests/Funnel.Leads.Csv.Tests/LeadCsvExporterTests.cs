using System.Collections.Immutable;
using System.Text;
using Funnel.Leads;
using Funnel.Leads.Csv;
using Funnel.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads.Csv;

public sealed class LeadCsvExporterTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 12, 5, 12, 0);
    private readonly CsvFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\"")]
    [InlineData("+1+2", "\"'+1+2\"")]
    [InlineData("-2+3", "\"'-2+3\"")]
    [InlineData("@SUM(A1:A2)", "\"'@SUM(A1:A2)\"")]
    [InlineData("Ann", "Ann")]
    public async Task ExportAsync_CellStartingWithAFormulaCharacter_IsPrefixedAndQuoted(string firstName, string expectedCell)
    {
        string path = _files.NewPath();
        LeadProfile lead = Lead("ann@example.com") with
        {
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", firstName),
        };

        await ExportAsync(path, [lead]);

        string[] lines = (await File.ReadAllTextAsync(path)).Split("\r\n");
        lines[1].ShouldEndWith("," + expectedCell + ",");
    }

    [Fact]
    public async Task ExportAsync_ThenImport_RoundTripsEmailTagsFieldsZoneAndConsent()
    {
        string path = _files.NewPath();
        LeadProfile ann = Lead("ann@example.com") with
        {
            Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, "vip", "webinar"),
            TimeZoneId = "Europe/Berlin",
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Ann, \"A\"").Add("last_name", "Smith"),
            Consent = new ConsentRecord { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Now },
        };
        LeadProfile bob = Lead("bob@example.com");

        long written = await ExportAsync(path, [ann, bob]);
        InMemoryLeadStore target = new();
        await using FileStream file = File.OpenRead(path);
        LeadImportResult result = await new LeadCsvImporter(target, new InMemoryFunnelEventLog(), new FakeClock(Now), new LeadCsvOptions())
            .ImportAsync(file, new LeadImportRequest { Source = "export" });

        written.ShouldBe(2);
        result.RejectedCount.ShouldBe(0);
        result.Created.ShouldBe(2);
        LeadProfile copy = (await target.FindByEmailAsync(ann.Email))!;
        copy.Tags.ShouldBe(ann.Tags);
        copy.TimeZoneId.ShouldBe("Europe/Berlin");
        copy.CustomFields.ShouldBe(ann.CustomFields);
        copy.ConsentStatus.ShouldBe(ConsentStatus.Granted);
        (await target.FindByEmailAsync(bob.Email))!.ConsentStatus.ShouldBe(ConsentStatus.None);
        (await File.ReadAllLinesAsync(path))[0].ShouldBe("email,lead_id,created_at,stage,score,consent,consent_source,unsubscribed_at,tags,time_zone,first_name,last_name");
    }

    [Fact]
    public void Constructor_FieldRepeatingAFixedColumn_ThrowsNamingFields()
    {
        Should.Throw<ArgumentException>(() => new LeadCsvExporter(new LeadCsvExportOptions { Fields = ["email"] })).ParamName.ShouldBe("options");
    }

    [Fact]
    public async Task AddFunnelLeadsCsv_WithAddFunnel_ResolvesAndValidatesOptions()
    {
        ServiceCollection services = new();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddFunnel();
        services.AddFunnelLeadsCsv(o => o.BatchSize = 500);
        services.AddFunnelLeadsCsv();
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<LeadCsvImporter>().ShouldNotBeNull();
        provider.GetRequiredService<LeadCsvExporter>().ShouldNotBeNull();
        provider.GetRequiredService<IOptions<LeadCsvOptions>>().Value.BatchSize.ShouldBe(500);

        ServiceCollection bad = new();
        bad.AddFunnelLeadsCsv(o => o.BatchSize = 0);
        await using ServiceProvider badProvider = bad.BuildServiceProvider();
        Should.Throw<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<LeadCsvOptions>>().Value).Message.ShouldContain("LeadCsvOptions.BatchSize");
    }

    private static LeadProfile Lead(string email) => new() { Id = LeadId.New(), Email = EmailAddress.Parse(email), CreatedAt = Now };

    private static async Task<long> ExportAsync(string path, LeadProfile[] leads)
    {
        await using FileStream file = File.Create(path);
        return await new LeadCsvExporter(new LeadCsvExportOptions()).ExportAsync(leads.ToAsyncEnumerable(), file);
    }
}
