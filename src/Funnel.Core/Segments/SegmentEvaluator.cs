using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using Funnel.Events;
using Funnel.Leads;
using NodaTime;

namespace Funnel.Segments;

/// <summary>Evaluates a segment rule for one lead or for a whole <see cref="LeadPopulation"/>.</summary>
/// <remarks>
/// <para>
/// The rule is validated once, in the constructor. <see cref="Matches"/> walks one lead's profile and events;
/// <see cref="Evaluate"/> binds the rule to the population's columns (resolving event types, subjects, tags and
/// field values once) and computes the members as bitsets, 64 leads per machine word. Both give the same answer
/// for the same lead, events and instant.
/// </para>
/// <para>Instants are compared to the tick (100 ns). A lead without a profile (an anonymous visitor) is at stage visitor with score 0, no tags or fields and consent <see cref="ConsentStatus.None"/>.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to use from many threads at once.</threadsafety>
public sealed class SegmentEvaluator
{
    /// <summary>Initializes an evaluator for a rule.</summary>
    /// <param name="rule">The rule.</param>
    /// <exception cref="SegmentRuleException">The rule is invalid; the errors name the bad nodes.</exception>
    public SegmentEvaluator(SegmentRule rule)
    {
        SegmentRuleValidator.ThrowIfInvalid(rule);
        Rule = rule;
    }

    /// <summary>Gets the rule.</summary>
    public SegmentRule Rule { get; }

    /// <summary>Tells whether one lead matches the rule at an instant.</summary>
    /// <param name="profile">The lead's profile, or <see langword="null"/> for an anonymous visitor.</param>
    /// <param name="events">The lead's events, in any order.</param>
    /// <param name="now">The evaluation instant; later events are ignored and windows end here.</param>
    /// <returns><see langword="true"/> when the lead is in the segment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public bool Matches(LeadProfile? profile, IEnumerable<FunnelEvent> events, Instant now)
    {
        ArgumentNullException.ThrowIfNull(events);
        IReadOnlyCollection<FunnelEvent> list = events as IReadOnlyCollection<FunnelEvent> ?? [.. events];
        return Match(Rule, profile, list, now);
    }

    /// <summary>Computes the members of the segment in a population at an instant.</summary>
    /// <param name="population">The population.</param>
    /// <param name="now">The evaluation instant; later events are ignored and windows end here.</param>
    /// <returns>The members.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="population"/> is <see langword="null"/>.</exception>
    public SegmentMembership Evaluate(LeadPopulation population, Instant now)
    {
        ArgumentNullException.ThrowIfNull(population);
        BulkContext context = new(population, now.ToUnixTimeTicks());
        ulong[] result = new ulong[population.Words];
        context.Eval(Rule, result);
        return new SegmentMembership(population, result);
    }

    internal static (string Type, string? Subject, ImmutableSortedDictionary<string, string>? Properties, int AtLeast, Duration? Within) Atom(SegmentRule rule) => rule switch
    {
        EventRule e => (e.EventType, e.Subject, e.Properties, e.AtLeast, e.Within),
        EmailRule m => (m.Action == EmailAction.Opened ? EventTypes.EmailOpened : EventTypes.EmailClicked, m.Email, null, 1, m.Within),
        PageRule p => (EventTypes.PageViewed, p.Page, null, 1, p.Within),
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    internal static bool SubjectMatches(string? pattern, string? subject)
    {
        if (pattern is null)
        {
            return true;
        }

        if (subject is null)
        {
            return false;
        }

        return pattern.EndsWith('*')
            ? subject.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(subject, pattern, StringComparison.Ordinal);
    }

    internal static bool FieldMatches(FieldRule rule, string? value)
    {
        switch (rule.Operator)
        {
            case FieldOperator.Exists:
                return value is not null;
            case FieldOperator.Equal:
                return string.Equals(value, rule.Value, StringComparison.Ordinal);
            case FieldOperator.NotEqual:
                return !string.Equals(value, rule.Value, StringComparison.Ordinal);
            case FieldOperator.Contains:
                return value is not null && value.Contains(rule.Value!, StringComparison.Ordinal);
            default:
                if (value is null
                    || !decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal actual)
                    || !decimal.TryParse(rule.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal expected))
                {
                    return false;
                }

                return rule.Operator switch
                {
                    FieldOperator.GreaterThan => actual > expected,
                    FieldOperator.GreaterThanOrEqual => actual >= expected,
                    FieldOperator.LessThan => actual < expected,
                    _ => actual <= expected,
                };
        }
    }

    private static bool PropertiesMatch(ImmutableSortedDictionary<string, string>? filter, ImmutableDictionary<string, string> properties)
    {
        if (filter is null)
        {
            return true;
        }

        foreach (KeyValuePair<string, string> p in filter)
        {
            if (!properties.TryGetValue(p.Key, out string? value) || !string.Equals(value, p.Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Match(SegmentRule rule, LeadProfile? profile, IReadOnlyCollection<FunnelEvent> events, Instant now)
    {
        switch (rule)
        {
            case AllRule all:
                foreach (SegmentRule child in all.Rules)
                {
                    if (!Match(child, profile, events, now))
                    {
                        return false;
                    }
                }

                return true;
            case AnyRule any:
                foreach (SegmentRule child in any.Rules)
                {
                    if (Match(child, profile, events, now))
                    {
                        return true;
                    }
                }

                return false;
            case NotRule not:
                return !Match(not.Rule, profile, events, now);
            case EventRule or EmailRule or PageRule:
                var (type, subject, properties, atLeast, within) = Atom(rule);
                long to = now.ToUnixTimeTicks();
                long from = within is { } w ? to - w.BclCompatibleTicks : long.MinValue;
                int count = 0;
                foreach (FunnelEvent e in events)
                {
                    long t = e.OccurredAt.ToUnixTimeTicks();
                    if (t <= to && t >= from
                        && string.Equals(e.EventType, type, StringComparison.Ordinal)
                        && SubjectMatches(subject, e.Subject)
                        && PropertiesMatch(properties, e.Properties)
                        && ++count >= atLeast)
                    {
                        return true;
                    }
                }

                return false;
            case TagRule tag:
                return profile is not null && profile.Tags.Contains(tag.Tag);
            case FieldRule field:
                return FieldMatches(field, profile?.CustomFields.GetValueOrDefault(field.Field));
            case StageRule stage:
                LifecycleStage current = profile?.Stage ?? LifecycleStage.Visitor;
                return (stage.AtLeast is null || current >= stage.AtLeast) && (stage.AtMost is null || current <= stage.AtMost);
            case ScoreRule score:
                double value = profile?.Score ?? 0;
                return (score.Min is null || value >= score.Min) && (score.Max is null || value <= score.Max);
            case ConsentRule consent:
                return (profile?.ConsentStatus ?? ConsentStatus.None) == consent.Status;
            default:
                throw new InvalidOperationException($"Unknown rule {rule.GetType().Name}.");
        }
    }

    private sealed class BulkContext(LeadPopulation population, long nowTicks)
    {
        private readonly int _n = population.Count;
        private readonly int _words = population.Words;

        public void Eval(SegmentRule rule, ulong[] result)
        {
            switch (rule)
            {
                case AllRule all:
                    Combine(all.Rules, result, and: true);
                    break;
                case AnyRule any:
                    Combine(any.Rules, result, and: false);
                    break;
                case NotRule not:
                    Eval(not.Rule, result);
                    for (int w = 0; w < _words; w++)
                    {
                        result[w] = ~result[w];
                    }

                    MaskTail(result);
                    break;
                case EventRule or EmailRule or PageRule:
                    Events(rule, result);
                    break;
                case TagRule tag:
                    if (population.Tags.TryGetValue(tag.Tag, out ulong[]? bits))
                    {
                        bits.AsSpan().CopyTo(result);
                    }
                    else
                    {
                        Array.Clear(result, 0, _words);
                    }

                    break;
                case FieldRule field:
                    Field(field, result);
                    break;
                case StageRule stage:
                    LifecycleStage least = stage.AtLeast ?? LifecycleStage.Visitor;
                    LifecycleStage most = stage.AtMost ?? LifecycleStage.Advocate;
                    LifecycleStage[] stages = population.Stages;
                    Fill(result, i => stages[i] >= least && stages[i] <= most);
                    break;
                case ScoreRule score:
                    double min = score.Min ?? double.NegativeInfinity;
                    double max = score.Max ?? double.PositiveInfinity;
                    double[] scores = population.Scores;
                    Fill(result, i => scores[i] >= min && scores[i] <= max);
                    break;
                case ConsentRule consent:
                    ConsentStatus wanted = consent.Status;
                    ConsentStatus[] statuses = population.Consent;
                    Fill(result, i => statuses[i] == wanted);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown rule {rule.GetType().Name}.");
            }
        }

        private void Combine(ImmutableArray<SegmentRule> rules, ulong[] result, bool and)
        {
            Eval(rules[0], result);
            if (rules.Length == 1)
            {
                return;
            }

            ulong[] scratch = ArrayPool<ulong>.Shared.Rent(_words);
            try
            {
                for (int r = 1; r < rules.Length; r++)
                {
                    Eval(rules[r], scratch);
                    Span<ulong> target = result.AsSpan(0, _words);
                    ReadOnlySpan<ulong> other = scratch.AsSpan(0, _words);
                    if (and)
                    {
                        for (int w = 0; w < target.Length; w++)
                        {
                            target[w] &= other[w];
                        }
                    }
                    else
                    {
                        for (int w = 0; w < target.Length; w++)
                        {
                            target[w] |= other[w];
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(scratch);
            }
        }

        private void Fill(ulong[] result, Func<int, bool> predicate)
        {
            for (int w = 0; w < _words; w++)
            {
                int start = w << 6;
                int end = Math.Min(start + 64, _n);
                ulong word = 0;
                for (int i = start; i < end; i++)
                {
                    if (predicate(i))
                    {
                        word |= 1UL << i;
                    }
                }

                result[w] = word;
            }
        }

        private void Field(FieldRule field, ulong[] result)
        {
            if (!population.Fields.TryGetValue(field.Field, out LeadPopulation.FieldColumn? column))
            {
                bool missingMatches = FieldMatches(field, null);
                Array.Fill(result, missingMatches ? ulong.MaxValue : 0UL, 0, _words);
                MaskTail(result);
                return;
            }

            bool[] ok = new bool[column.Values.Length + 1];
            ok[0] = FieldMatches(field, null);
            for (int c = 0; c < column.Values.Length; c++)
            {
                ok[c + 1] = FieldMatches(field, column.Values[c]);
            }

            int[] codes = column.Codes;
            Fill(result, i => ok[codes[i] + 1]);
        }

        private void Events(SegmentRule rule, ulong[] result)
        {
            Array.Clear(result, 0, _words);
            var (type, subject, properties, atLeast, within) = Atom(rule);
            if (!population.KeysByType.TryGetValue(type, out (string? Subject, int Key)[]? keys))
            {
                return;
            }

            long from = within is { } w ? nowTicks - w.BclCompatibleTicks : long.MinValue;
            long to = nowTicks;
            bool[]? propsOk = null;
            if (properties is { Count: > 0 })
            {
                ImmutableDictionary<string, string>[] sets = population.PropertySets;
                propsOk = new bool[sets.Length];
                for (int s = 0; s < sets.Length; s++)
                {
                    propsOk[s] = PropertiesMatch(properties, sets[s]);
                }
            }

            int[] leads = population.PostLead;
            long[] ticks = population.PostTicks;
            int[] props = population.PostProps;
            int[]? counts = atLeast > 1 ? ArrayPool<int>.Shared.Rent(_n) : null;
            try
            {
                if (counts is not null)
                {
                    Array.Clear(counts, 0, _n);
                }

                foreach ((string? keySubject, int key) in keys)
                {
                    if (!SubjectMatches(subject, keySubject))
                    {
                        continue;
                    }

                    int end = population.KeyStart[key + 1];
                    for (int p = population.KeyStart[key]; p < end; p++)
                    {
                        long t = ticks[p];
                        if (t > to || t < from || (propsOk is not null && !propsOk[props[p]]))
                        {
                            continue;
                        }

                        int lead = leads[p];
                        if (counts is null)
                        {
                            result[lead >> 6] |= 1UL << lead;
                        }
                        else if (++counts[lead] == atLeast)
                        {
                            result[lead >> 6] |= 1UL << lead;
                        }
                    }
                }
            }
            finally
            {
                if (counts is not null)
                {
                    ArrayPool<int>.Shared.Return(counts);
                }
            }
        }

        private void MaskTail(ulong[] result)
        {
            int rest = _n & 63;
            if (rest != 0)
            {
                result[_words - 1] &= (1UL << rest) - 1;
            }
        }
    }
}

/// <summary>The members of a segment in a <see cref="LeadPopulation"/>, as a bitset over its leads.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class SegmentMembership
{
    private readonly ulong[] _bits;

    internal SegmentMembership(LeadPopulation population, ulong[] bits)
    {
        Population = population;
        _bits = bits;
        int count = 0;
        foreach (ulong word in bits)
        {
            count += BitOperations.PopCount(word);
        }

        Count = count;
    }

    /// <summary>Gets the population evaluated.</summary>
    public LeadPopulation Population { get; }

    /// <summary>Gets the number of members.</summary>
    public int Count { get; }

    /// <summary>Gets the ids of the members, in population order.</summary>
    public IEnumerable<LeadId> Members => Indexes().Select(i => Population.Ids[i]);

    /// <summary>Tells whether a lead is a member.</summary>
    /// <param name="id">The lead id.</param>
    /// <returns><see langword="true"/> when the lead is in the population and the segment.</returns>
    public bool Contains(LeadId id)
    {
        int index = Population.IndexOf(id);
        return index >= 0 && (_bits[index >> 6] & (1UL << index)) != 0;
    }

    /// <summary>Returns the members that have an email address as an audience, for <see cref="IAudienceExporter"/>.</summary>
    /// <param name="name">The audience name, such as the segment key.</param>
    /// <returns>The audience; anonymous visitors are left out, and each address appears once.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is blank.</exception>
    public Audience ToAudience(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Audience(name, [.. Indexes().Select(i => Population.Emails[i]).Where(e => e.Value is not null).Distinct()]);
    }

    internal IEnumerable<int> Indexes()
    {
        for (int w = 0; w < _bits.Length; w++)
        {
            ulong word = _bits[w];
            while (word != 0)
            {
                int bit = BitOperations.TrailingZeroCount(word);
                yield return (w << 6) + bit;
                word &= word - 1;
            }
        }
    }
}
