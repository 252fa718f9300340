using System.Collections.Immutable;

namespace Funnel.Leads.Csv;

/// <summary>Which CSV columns hold the email address, consent, tags, time zone and custom fields.</summary>
/// <remarks>
/// <para>
/// Headers are matched case-insensitively, ignoring spaces, dashes, underscores and dots, so <c>First Name</c>,
/// <c>first_name</c> and <c>FIRSTNAME</c> are one header. A column named here must exist in the file, or the import
/// fails before any row is read. With <see cref="AutoMap"/> on, the columns not named here are recognised by common
/// names (see <see cref="LeadCsvImporter"/>); the others are ignored and listed in
/// <see cref="LeadImportResult.IgnoredColumns"/>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadCsvMapping
{
    /// <summary>Gets the mapping that recognises every column by its common names.</summary>
    public static LeadCsvMapping Auto { get; } = new();

    /// <summary>Gets the header of the email column.</summary>
    /// <value>Defaults to <see langword="null"/>: found by name (<c>email</c>, <c>e-mail</c>, <c>email address</c>, <c>mail</c>).</value>
    public string? EmailColumn { get; init; }

    /// <summary>Gets the header of the marketing-consent column (<c>yes</c>/<c>no</c>, <c>true</c>/<c>false</c>, <c>1</c>/<c>0</c>, <c>granted</c>/<c>withdrawn</c>…).</summary>
    /// <value>Defaults to <see langword="null"/>: found by name (<c>consent</c>, <c>marketing consent</c>, <c>opt in</c>, <c>subscribed</c>, <c>accepts marketing</c>).</value>
    public string? ConsentColumn { get; init; }

    /// <summary>Gets the header of the tags column, whose tags are separated by <c>;</c>, <c>,</c> or <c>|</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: found by name (<c>tags</c>, <c>tag</c>, <c>labels</c>).</value>
    public string? TagsColumn { get; init; }

    /// <summary>Gets the header of the IANA time zone column, such as <c>Europe/Berlin</c>.</summary>
    /// <value>Defaults to <see langword="null"/>: found by name (<c>time zone</c>, <c>timezone</c>, <c>tz</c>).</value>
    public string? TimeZoneColumn { get; init; }

    /// <summary>Gets the columns stored as custom fields: header → field name, such as <c>Vorname</c> → <c>first_name</c>.</summary>
    /// <value>Defaults to none besides the recognised ones (first and last name, name, company, phone, country, city).</value>
    public ImmutableDictionary<string, string> Fields { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Gets whether columns not named in this mapping are recognised by their common names.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool AutoMap { get; init; } = true;
}
