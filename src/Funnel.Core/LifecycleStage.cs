namespace Funnel;

/// <summary>Where a person stands in their relationship with the creator, from visitor to advocate.</summary>
/// <remarks>The stages are ordered: a later stage has a larger value, and <see cref="LeadLifecycle"/> only moves a lead forward.</remarks>
public enum LifecycleStage
{
    /// <summary>An anonymous visitor: tracked, but no contact details yet.</summary>
    Visitor = 0,

    /// <summary>Opted in with an email address (for example for a lead magnet).</summary>
    Lead = 1,

    /// <summary>A marketing qualified lead (MQL): engaged enough with the nurture content to be worth a pitch.</summary>
    MarketingQualified = 2,

    /// <summary>A sales qualified lead (SQL): showed buying intent, such as visiting the sales page or a webinar.</summary>
    SalesQualified = 3,

    /// <summary>Bought something.</summary>
    Customer = 4,

    /// <summary>A customer who promotes the product: reviewed it, referred someone or became an affiliate.</summary>
    Advocate = 5,
}
