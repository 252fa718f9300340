using System.Collections.Immutable;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Segments;

/// <summary>A node of a segment's rule tree: a condition on a lead's events and profile.</summary>
/// <remarks>
/// <para>
/// Rules are plain data: combine them with <see cref="AllRule"/>, <see cref="AnyRule"/> and <see cref="NotRule"/>,
/// store them as JSON with <see cref="SegmentRuleJson"/>, check them with <see cref="SegmentRuleValidator"/>, and
/// evaluate them with <see cref="SegmentEvaluator"/>, for one lead or a whole <see cref="LeadPopulation"/>.
/// </para>
/// <para>
/// Time windows are relative to the evaluation instant <c>now</c>: an event counts when it happened at or
/// before <c>now</c> and, with a window, at or after <c>now − window</c>.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public abstract record SegmentRule
{
    private protected SegmentRule()
    {
    }
}

/// <summary>Matches when every rule matches (an empty list is invalid).</summary>
/// <param name="Rules">The rules.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AllRule(ImmutableArray<SegmentRule> Rules) : SegmentRule
{
    /// <inheritdoc/>
    public bool Equals(AllRule? other) => other is not null && RuleLists.Equal(Rules, other.Rules);

    /// <inheritdoc/>
    public override int GetHashCode() => RuleLists.Hash(Rules, 1);
}

/// <summary>Matches when at least one rule matches (an empty list is invalid).</summary>
/// <param name="Rules">The rules.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record AnyRule(ImmutableArray<SegmentRule> Rules) : SegmentRule
{
    /// <inheritdoc/>
    public bool Equals(AnyRule? other) => other is not null && RuleLists.Equal(Rules, other.Rules);

    /// <inheritdoc/>
    public override int GetHashCode() => RuleLists.Hash(Rules, 2);
}

/// <summary>Matches when the rule does not match, such as "did not visit the sales page".</summary>
/// <param name="Rule">The rule to negate.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record NotRule(SegmentRule Rule) : SegmentRule;

/// <summary>Matches when the lead has at least <see cref="AtLeast"/> events of a type (and subject, and properties), optionally within a window.</summary>
/// <remarks>
/// <see cref="Subject"/> is matched like <see cref="Definitions.EventMatch.Subject"/>: exactly, or as a prefix when it
/// ends with <c>*</c>; <see langword="null"/> matches any subject. Every entry of <see cref="Properties"/> must be
/// present on the event with an equal value (ordinal). For "did not happen", wrap it in a <see cref="NotRule"/>.
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EventRule : SegmentRule
{
    /// <summary>Gets the event type, such as <c>opted_in</c>.</summary>
    public required string EventType { get; init; }

    /// <summary>Gets the subject, a prefix ending in <c>*</c>, or <see langword="null"/> for any.</summary>
    public string? Subject { get; init; }

    /// <summary>Gets the least number of matching events.</summary>
    /// <value>Defaults to 1.</value>
    public int AtLeast { get; init; } = 1;

    /// <summary>Gets how far back from the evaluation instant events count.</summary>
    /// <value>Defaults to <see langword="null"/> (all time).</value>
    public Duration? Within { get; init; }

    /// <summary>Gets the property values the event must have.</summary>
    /// <value>Defaults to none.</value>
    public ImmutableSortedDictionary<string, string> Properties { get; init; } = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    /// <inheritdoc/>
    public bool Equals(EventRule? other) =>
        other is not null && EventType == other.EventType && Subject == other.Subject && AtLeast == other.AtLeast
        && Within == other.Within && Properties.Count == other.Properties.Count
        && Properties.All(p => other.Properties.TryGetValue(p.Key, out string? v) && v == p.Value);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(EventType, Subject, AtLeast, Within, Properties.Count);
}

/// <summary>What a lead did with an email, for <see cref="EmailRule"/>.</summary>
public enum EmailAction
{
    /// <summary>Opened it (<c>email_opened</c>).</summary>
    Opened = 0,

    /// <summary>Clicked a link in it (<c>email_clicked</c>).</summary>
    Clicked = 1,
}

/// <summary>Matches when the lead opened or clicked a specific email, optionally within a window.</summary>
/// <param name="Email">The email key, such as <c>nurture-3</c>, or a prefix ending in <c>*</c>.</param>
/// <param name="Action">Opened or clicked.</param>
/// <param name="Within">How far back events count, or <see langword="null"/> for all time.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailRule(string Email, EmailAction Action, Duration? Within = null) : SegmentRule;

/// <summary>Matches when the lead viewed a page (<c>page_viewed</c>), optionally within a window.</summary>
/// <param name="Page">The path, such as <c>/sales</c>, or a prefix ending in <c>*</c>, such as <c>/blog/*</c>.</param>
/// <param name="Within">How far back events count, or <see langword="null"/> for all time.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record PageRule(string Page, Duration? Within = null) : SegmentRule;

/// <summary>Matches when the lead has a tag.</summary>
/// <param name="Tag">The tag (ordinal).</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record TagRule(string Tag) : SegmentRule;

/// <summary>How <see cref="FieldRule"/> compares a custom field.</summary>
public enum FieldOperator
{
    /// <summary>The field is set.</summary>
    Exists = 0,

    /// <summary>The field equals the value (ordinal).</summary>
    Equal = 1,

    /// <summary>The field is missing or differs from the value (the negation of <see cref="Equal"/>).</summary>
    NotEqual = 2,

    /// <summary>The field contains the value (ordinal).</summary>
    Contains = 3,

    /// <summary>The field is a number greater than the value.</summary>
    GreaterThan = 4,

    /// <summary>The field is a number greater than or equal to the value.</summary>
    GreaterThanOrEqual = 5,

    /// <summary>The field is a number less than the value.</summary>
    LessThan = 6,

    /// <summary>The field is a number less than or equal to the value.</summary>
    LessThanOrEqual = 7,
}

/// <summary>Matches when a custom field compares to a value.</summary>
/// <remarks>Numeric operators parse the field as an invariant-culture decimal; a field that is missing or not a number does not match them.</remarks>
/// <param name="Field">The field name, such as <c>country</c>.</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Value">The value; a number for the numeric operators, ignored for <see cref="FieldOperator.Exists"/>.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record FieldRule(string Field, FieldOperator Operator, string? Value = null) : SegmentRule;

/// <summary>Matches when the lead's lifecycle stage is within a range.</summary>
/// <param name="AtLeast">The earliest stage, or <see langword="null"/> for no bound.</param>
/// <param name="AtMost">The latest stage, or <see langword="null"/> for no bound.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record StageRule(LifecycleStage? AtLeast, LifecycleStage? AtMost = null) : SegmentRule;

/// <summary>Matches when the lead's score is within a range (both bounds inclusive).</summary>
/// <param name="Min">The least score, or <see langword="null"/> for no bound.</param>
/// <param name="Max">The greatest score, or <see langword="null"/> for no bound.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoreRule(double? Min, double? Max = null) : SegmentRule;

/// <summary>Matches when the lead's marketing consent has a status; a visitor without a profile has <see cref="ConsentStatus.None"/>.</summary>
/// <param name="Status">The status.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ConsentRule(ConsentStatus Status) : SegmentRule;

internal static class RuleLists
{
    public static bool Equal(ImmutableArray<SegmentRule> a, ImmutableArray<SegmentRule> b) =>
        a.IsDefault || b.IsDefault ? a.IsDefault == b.IsDefault : a.SequenceEqual(b);

    public static int Hash(ImmutableArray<SegmentRule> rules, int seed)
    {
        HashCode hash = default;
        hash.Add(seed);
        if (!rules.IsDefault)
        {
            foreach (SegmentRule rule in rules)
            {
                hash.Add(rule);
            }
        }

        return hash.ToHashCode();
    }
}
