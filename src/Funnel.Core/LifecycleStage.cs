namespace Funnel;

/// <summary>Where a person stands in their relationship with the creator, from visitor to advocate.</summary>
/// <remarks>The stages are ordered: a later stage has a larger value, and <see cref="Leads.LeadLifecycle"/> only moves a lead forward.</remarks>
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

/// <summary>Extension methods for <see cref="LifecycleStage"/>.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public static class LifecycleStageExtensions
{
    /// <summary>Returns the stable key of a stage, as used in event subjects and stored data.</summary>
    /// <param name="stage">The stage.</param>
    /// <returns>One of <c>visitor</c>, <c>lead</c>, <c>marketing-qualified</c>, <c>sales-qualified</c>, <c>customer</c>, <c>advocate</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stage"/> is not a defined stage.</exception>
    public static string ToKey(this LifecycleStage stage) => stage switch
    {
        LifecycleStage.Visitor => "visitor",
        LifecycleStage.Lead => "lead",
        LifecycleStage.MarketingQualified => "marketing-qualified",
        LifecycleStage.SalesQualified => "sales-qualified",
        LifecycleStage.Customer => "customer",
        LifecycleStage.Advocate => "advocate",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown lifecycle stage."),
    };
}
