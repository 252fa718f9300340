using System.Collections.Immutable;

namespace Funnel.Leads.Csv;

/// <summary>What happens to a row that carries no marketing consent.</summary>
public enum RowsWithoutConsent
{
    /// <summary>The lead is imported (or updated) without marketing consent: it gets no marketing email until it opts in.</summary>
    ImportWithoutConsent = 0,

    /// <summary>The row is rejected and reported.</summary>
    Reject = 1,
}

/// <summary>One CSV import: where the list comes from, how its columns map, and the consent it carries.</summary>
/// <remarks>
/// <para>
/// Marketing consent comes from the file's consent column when it has one, row by row. Without a consent column,
/// every row gets consent only when <see cref="ConsentBasis"/> states on what basis the list was collected (such as
/// "Subscribed through the newsletter form on example.com, double opt-in, 2023–2026"); the basis is recorded on each
/// lead's <see cref="ConsentRecord"/> with <see cref="ConsentMethod.Imported"/> and the <see cref="Source"/>.
/// Without either, no row has consent and <see cref="WithoutConsent"/> decides.
/// </para>
/// <para>
/// An import never grants consent to a lead who withdrew it, unsubscribed or complained, and never removes or
/// downgrades consent a lead already gave.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadImportRequest
{
    /// <summary>Gets where the list comes from, such as <c>mailchimp-2026-12</c>: the consent source is <c>import:</c> and this.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the column mapping.</summary>
    /// <value>Defaults to <see cref="LeadCsvMapping.Auto"/>.</value>
    public LeadCsvMapping Mapping { get; init; } = LeadCsvMapping.Auto;

    /// <summary>Gets the stated basis on which every lead of a file without a consent column agreed to marketing email.</summary>
    /// <value>Defaults to <see langword="null"/>: no import-level consent.</value>
    public string? ConsentBasis { get; init; }

    /// <summary>Gets what happens to rows without marketing consent.</summary>
    /// <value>Defaults to <see cref="RowsWithoutConsent.ImportWithoutConsent"/>.</value>
    public RowsWithoutConsent WithoutConsent { get; init; } = RowsWithoutConsent.ImportWithoutConsent;

    /// <summary>Gets the consent purpose recorded.</summary>
    /// <value>Defaults to <c>marketing-email</c>, the purpose lead magnets record.</value>
    public string ConsentPurpose { get; init; } = "marketing-email";

    /// <summary>Gets tags added to every imported lead, such as <c>imported-2026-12</c>.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Gets whether the file's values replace the custom fields existing leads already have.</summary>
    /// <value>Defaults to <see langword="false"/>: existing leads only gain the fields they lack.</value>
    public bool OverwriteFields { get; init; }
}
