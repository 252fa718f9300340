using Funnel.Events;

namespace Funnel.Advocacy;

/// <summary>A lead applied to become an affiliate; the lead id is the applicant's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.AffiliateApplied)]
public sealed record AffiliateApplied : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.AffiliateApplied;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>An affiliate application was approved; the lead id is the affiliate's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.AffiliateApproved)]
public sealed record AffiliateApproved : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.AffiliateApproved;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>A visitor clicked an affiliate link; the lead id is the visitor's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.AffiliateLinkClicked)]
public sealed record AffiliateLinkClicked : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.AffiliateLinkClicked;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>An order was attributed to an affiliate; the lead id is the buyer's and the amount the order total.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.AffiliateSaleAttributed)]
public sealed record AffiliateSaleAttributed : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the order total in the program's currency, converted at the sale's rate (<see cref="AffiliateSale.ExchangeRate"/>) when the order is in another.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.AffiliateSaleAttributed;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>An affiliate earned commission on a payment; the lead id is the affiliate's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.CommissionEarned)]
public sealed record CommissionEarned : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the commission, in the program's currency (converted at the sale's rate, <see cref="AffiliateSale.ExchangeRate"/>, when the order is in another).</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.CommissionEarned;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>Commission was clawed back after a refund; the lead id is the affiliate's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.CommissionClawedBack)]
public sealed record CommissionClawedBack : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the commission, in the program's currency (converted at the sale's rate, <see cref="AffiliateSale.ExchangeRate"/>, when the order is in another).</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.CommissionClawedBack;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>A commission passed its refund window and was approved; the lead id is the affiliate's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.CommissionApproved)]
public sealed record CommissionApproved : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the order.</summary>
    public required OrderId Order { get; init; }

    /// <summary>Gets the commission, in the program's currency.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.CommissionApproved;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}

/// <summary>An affiliate was paid their approved balance; the lead id is the affiliate's.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.AffiliatePaidOut)]
public sealed record AffiliatePaidOut : LeadEvent
{
    /// <summary>Gets the affiliate's tracking code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the amount paid.</summary>
    public required Money Amount { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.AffiliatePaidOut;

    /// <inheritdoc/>
    /// <value>The affiliate's <see cref="Code"/>.</value>
    public override string? Subject => Code;
}
