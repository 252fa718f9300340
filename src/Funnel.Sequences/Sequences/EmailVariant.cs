using System.Collections.Immutable;

namespace Funnel.Sequences;

/// <summary>One arm of an email's A/B test: a share of the leads and the subject or content they get instead of the step's.</summary>
/// <remarks>
/// <para>
/// An email with variants names one of them <see cref="ControlKey"/>; it usually overrides nothing, so its leads get
/// the step's own subject and bodies. Each other variant overrides the <see cref="Subject"/>, the
/// <see cref="TextBody"/>, the <see cref="HtmlBody"/> or several of them; what it leaves <see langword="null"/> comes
/// from the step. Leads are split by <see cref="Weight"/> with <see cref="EmailVariants.Assign"/>.
/// </para>
/// <para>The key is recorded as <see cref="Events.EmailEvent.Variant"/> on the events of the send.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailVariant
{
    /// <summary>The key of the variant every test must have, the baseline the others are compared with.</summary>
    public const string ControlKey = "control";

    /// <summary>Gets the key of the variant, unique among the email's variants, such as <c>short-subject</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the relative share of leads that get this variant: weights 1 and 3 split the leads 25 % and 75 %.</summary>
    /// <value>Defaults to 1.</value>
    public int Weight { get; init; } = 1;

    /// <summary>Gets the subject template used instead of the step's.</summary>
    /// <value>Defaults to <see langword="null"/>: the step's subject.</value>
    public string? Subject { get; init; }

    /// <summary>Gets the plain-text body template used instead of the step's.</summary>
    /// <value>Defaults to <see langword="null"/>: the step's text body.</value>
    public string? TextBody { get; init; }

    /// <summary>Gets the HTML body template used instead of the step's.</summary>
    /// <value>Defaults to <see langword="null"/>: the step's HTML body.</value>
    public string? HtmlBody { get; init; }
}

/// <summary>Sticky, weighted assignment of leads to the variants of an email's A/B test.</summary>
/// <remarks>
/// <para>
/// The variant is a pure function of the test's key, the lead's id and the variants (their order and weights): the
/// first 64 bits of SHA-256 over the UTF-8 of <c>testKey + ":" + leadId</c>, scaled onto the total weight. So a lead
/// gets the same variant on every dispatch, after a retry and on every instance of the app, with no stored state;
/// different tests split the leads independently. Changing the variants or their weights while a test runs moves
/// leads between variants.
/// </para>
/// <para>A sequence step's test key is <see cref="TestKey"/> (<c>sequence/step</c>).</para>
/// </remarks>
/// <threadsafety>This type is stateless and safe to use from any thread.</threadsafety>
public static class EmailVariants
{
    /// <summary>The most variants one email may have, the control included.</summary>
    public const int MaxVariants = 8;

    /// <summary>The largest weight of one variant.</summary>
    public const int MaxWeight = 10_000;

    /// <summary>Returns the test key of a sequence step, <c>sequence/step</c>, such as <c>guide-nurture/nurture-3</c>.</summary>
    /// <param name="sequence">The sequence key.</param>
    /// <param name="step">The step key.</param>
    /// <returns>The test key.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static string TestKey(string sequence, string step)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(step);
        return sequence + "/" + step;
    }

    /// <summary>Returns the variant a lead gets in a test: always the same one for the same key, lead and variants.</summary>
    /// <param name="testKey">The test's key, such as <see cref="TestKey"/> of a sequence step.</param>
    /// <param name="lead">The lead.</param>
    /// <param name="variants">The variants, with positive weights.</param>
    /// <returns>The variant; <see langword="null"/> when there are no variants.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="testKey"/> or a variant is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A weight is not from 1 to <see cref="MaxWeight"/>.</exception>
    public static EmailVariant? Assign(string testKey, LeadId lead, ImmutableArray<EmailVariant> variants)
    {
        ArgumentNullException.ThrowIfNull(testKey);
        if (variants.IsDefaultOrEmpty)
        {
            return null;
        }

        foreach (EmailVariant variant in variants)
        {
            ArgumentNullException.ThrowIfNull(variant, nameof(variants));
            if (variant.Weight is < 1 or > MaxWeight)
            {
                throw new ArgumentException($"Variant '{variant.Key}' has weight {variant.Weight}; weights must be from 1 to {MaxWeight}.", nameof(variants));
            }
        }

        // The hash's first 64 bits scaled onto [0, total): unbiased to within total ÷ 2^64.
        return StickyBuckets.Pick(StickyBuckets.Rolls(testKey, lead).First, variants, static v => v.Weight);
    }
}
