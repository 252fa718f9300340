using System.Collections.Immutable;
using FluentValidation;
using Funnel.Definitions;
using Funnel.Events;
using NodaTime;

namespace Funnel.Leads;

/// <summary>Points a lead earns for each event that matches, up to a cap.</summary>
/// <param name="When">The events that score, such as <c>email_clicked</c> or <c>page_viewed:/blog/*</c>.</param>
/// <param name="Points">The points per matching event; negative points subtract.</param>
/// <param name="Cap">The most this rule can add (or, for negative points, subtract) in total, after decay.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoringRule(EventMatch When, double Points, double Cap);

/// <summary>How leads are scored: point rules per event, decay over time, and the MQL and SQL thresholds.</summary>
/// <remarks>
/// <para>
/// The score at an instant <c>now</c> is, over the rules, the sum of
/// <c>clamp(Σ Points × 0.5^((now − e.OccurredAt) / HalfLife), −Cap, Cap)</c> for the rule's matching events
/// <c>e</c> up to <c>now</c>. Without a half-life events never decay. Each event scores under every rule it
/// matches. So with non-negative points the score never exceeds the sum of the caps, and without new events
/// it only decays.
/// </para>
/// <para>
/// A lead (stage <see cref="LifecycleStage.Lead"/> or later) whose score reaches <see cref="MarketingQualifiedAt"/>
/// becomes an MQL, and at <see cref="SalesQualifiedAt"/> an SQL: the guide's "Lead → MQL → SQL". Without
/// <see cref="Hysteresis"/> stages never move back when the score decays; with it, an MQL or SQL whose score falls
/// below the band's lower edge moves back, so a score hovering at a threshold does not flip the stage.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoringModel
{
    /// <summary>Gets the point rules.</summary>
    public required ImmutableArray<ScoringRule> Rules { get; init; }

    /// <summary>Gets the time after which an event's points are worth half.</summary>
    /// <value>Defaults to <see langword="null"/> (no decay).</value>
    public Duration? HalfLife { get; init; }

    /// <summary>Gets the score at which a lead becomes marketing qualified.</summary>
    /// <value>Defaults to 50.</value>
    public double MarketingQualifiedAt { get; init; } = 50;

    /// <summary>Gets the score at which a lead becomes sales qualified.</summary>
    /// <value>Defaults to 100.</value>
    public double SalesQualifiedAt { get; init; } = 100;

    /// <summary>Gets the lower edges below which an MQL or SQL moves back a stage.</summary>
    /// <value>Defaults to <see langword="null"/>: stages reached by score never move back.</value>
    public ScoreHysteresis? Hysteresis { get; init; }
}

/// <summary>A hysteresis band for the score-reached stages: a lead enters a stage at its threshold and leaves it only below a lower edge.</summary>
/// <remarks>
/// <para>
/// With <c>MarketingQualifiedAt = 50</c> and <see cref="MarketingQualifiedLeaveBelow"/> = 35, a lead becomes an MQL at
/// 50, stays one while the score decays to 35, and returns to <see cref="LifecycleStage.Lead"/> below 35; it becomes an
/// MQL again only at 50. An SQL returns to MQL below <see cref="SalesQualifiedLeaveBelow"/> (and to Lead when the score
/// is also below the MQL edge). Customers and advocates never move back.
/// </para>
/// <para>
/// The stage is re-evaluated whenever the lead is scored: by the <c>scoring</c> handler, on each of the lead's events.
/// Leave <see cref="SalesQualifiedLeaveBelow"/> unset when leads also become SQLs without the score (a sales-page visit
/// or a started checkout, as in <see cref="LeadLifecycle.Default"/>), or such a lead would fall back to MQL on its next event.
/// </para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoreHysteresis
{
    /// <summary>Gets the score below which an MQL returns to <see cref="LifecycleStage.Lead"/>; below <see cref="ScoringModel.MarketingQualifiedAt"/>.</summary>
    public required double MarketingQualifiedLeaveBelow { get; init; }

    /// <summary>Gets the score below which an SQL returns to MQL; below <see cref="ScoringModel.SalesQualifiedAt"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: an SQL never moves back.</value>
    public double? SalesQualifiedLeaveBelow { get; init; }
}

/// <summary>Validates a <see cref="ScoringModel"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class ScoringModelValidator : AbstractValidator<ScoringModel>
{
    /// <summary>Initializes the validator.</summary>
    public ScoringModelValidator()
    {
        RuleFor(m => m.Rules).Must(r => !r.IsDefaultOrEmpty).WithMessage("At least one scoring rule is required.");
        RuleForEach(m => m.Rules).ChildRules(rule =>
        {
            rule.RuleFor(r => r.When).NotNull().WithMessage("The event match is required.");
            rule.RuleFor(r => r.Points).Must(p => double.IsFinite(p) && p != 0)
                .WithMessage(r => $"{r.Points} is not valid points: they must be finite and not zero.");
            rule.RuleFor(r => r.Cap).Must(c => double.IsFinite(c) && c > 0)
                .WithMessage(r => $"{r.Cap} is not a valid cap: it must be positive and finite.");
        }).When(m => !m.Rules.IsDefault);
        RuleFor(m => m.HalfLife).Must(h => h is null || h.Value > Duration.Zero)
            .WithMessage(m => $"{m.HalfLife} is not a valid half-life: it must be positive.");
        RuleFor(m => m.MarketingQualifiedAt).Must(t => double.IsFinite(t) && t > 0)
            .WithMessage(m => $"{m.MarketingQualifiedAt} is not a valid MQL threshold: it must be positive.");
        RuleFor(m => m.SalesQualifiedAt).Must((m, t) => double.IsFinite(t) && t >= m.MarketingQualifiedAt)
            .WithMessage(m => $"{m.SalesQualifiedAt} is not a valid SQL threshold: it must be at least the MQL threshold {m.MarketingQualifiedAt}.");
        RuleFor(m => m.Hysteresis!.MarketingQualifiedLeaveBelow)
            .Must((m, edge) => double.IsFinite(edge) && edge < m.MarketingQualifiedAt)
            .WithMessage(m => $"{m.Hysteresis!.MarketingQualifiedLeaveBelow} is not a valid lower edge: it must be finite and below the MQL threshold {m.MarketingQualifiedAt}.")
            .When(m => m.Hysteresis is not null);
        RuleFor(m => m.Hysteresis!.SalesQualifiedLeaveBelow)
            .Must((m, edge) => double.IsFinite(edge!.Value) && edge.Value < m.SalesQualifiedAt)
            .WithMessage(m => $"{m.Hysteresis!.SalesQualifiedLeaveBelow} is not a valid lower edge: it must be finite and below the SQL threshold {m.SalesQualifiedAt}.")
            .When(m => m.Hysteresis?.SalesQualifiedLeaveBelow is not null);
    }
}

/// <summary>The result of scoring a lead: the updated profile and the events to record.</summary>
/// <param name="Lead">The profile with the new <see cref="LeadProfile.Score"/> and stage.</param>
/// <param name="Events">A <see cref="ScoreChanged"/> when the score changed, and a <see cref="LifecycleStageChanged"/> when a threshold moved the lead.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoringResult(LeadProfile Lead, ImmutableArray<LeadEvent> Events);

/// <summary>Scores leads with a <see cref="ScoringModel"/> and moves them to MQL and SQL at its thresholds.</summary>
/// <remarks>See <see cref="ScoringModel"/> for the formula. Scoring is a pure function of the events and the instant.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadScorer
{
    private readonly ScoringModel _model;

    /// <summary>Initializes a scorer.</summary>
    /// <param name="model">The scoring model.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The model is invalid; errors name the field, such as <c>Rules[1].Cap</c>.</exception>
    public LeadScorer(ScoringModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        new ScoringModelValidator().ValidateAndThrow(model);
        _model = model;
    }

    /// <summary>Computes a lead's score at an instant from their events.</summary>
    /// <remarks>The score is the sum of each rule's points (capped per rule) plus the points of the lead's <see cref="ScoreAdjusted"/> events, all decayed by the half-life.</remarks>
    /// <param name="events">The lead's events, in any order; events after <paramref name="now"/> are ignored.</param>
    /// <param name="now">The instant to score at.</param>
    /// <returns>The score.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public double Score(IEnumerable<FunnelEvent> events, Instant now)
    {
        ArgumentNullException.ThrowIfNull(events);
        ImmutableArray<ScoringRule> rules = _model.Rules;
        Span<double> sums = rules.Length <= 64 ? stackalloc double[rules.Length] : new double[rules.Length];
        NoSink none = default;
        double score = Accumulate(events, now, sums, ref none);
        for (int i = 0; i < rules.Length; i++)
        {
            score += Math.Clamp(sums[i], -rules[i].Cap, rules[i].Cap);
        }

        return score;
    }

    /// <summary>Adds each event's decayed points to its rules' sums and tells <paramref name="sink"/> of each; returns the adjustments' total.</summary>
    /// <remarks>
    /// The one walk over the events that <see cref="Score"/> (with a sink that does nothing, so it allocates nothing) and
    /// <see cref="Explain"/> (with one that collects) share, so an explanation adds up to the score exactly.
    /// </remarks>
    private double Accumulate<TSink>(IEnumerable<FunnelEvent> events, Instant now, Span<double> sums, ref TSink sink)
        where TSink : struct, IContributionSink
    {
        ImmutableArray<ScoringRule> rules = _model.Rules;
        double? halfLifeNanos = _model.HalfLife?.TotalNanoseconds;
        double adjustments = 0;
        foreach (FunnelEvent e in events)
        {
            if (e.OccurredAt > now)
            {
                continue;
            }

            double weight = halfLifeNanos is { } h ? Math.Pow(0.5, (now - e.OccurredAt).TotalNanoseconds / h) : 1.0;
            if (e is ScoreAdjusted adjusted)
            {
                adjustments += adjusted.Points * weight; // an explicit adjustment, outside the rules' caps.
                sink.Adjustment(adjusted, adjusted.Points * weight);
                continue;
            }

            for (int i = 0; i < rules.Length; i++)
            {
                if (rules[i].When.Matches(e))
                {
                    sums[i] += rules[i].Points * weight;
                    sink.Rule(i, e, rules[i].Points, rules[i].Points * weight);
                }
            }
        }

        return adjustments;
    }

    /// <summary>Scores a lead and applies the thresholds.</summary>
    /// <param name="lead">The lead's profile.</param>
    /// <param name="events">The lead's events.</param>
    /// <param name="now">The instant to score at.</param>
    /// <returns>The updated profile and the events to record.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="lead"/> or <paramref name="events"/> is <see langword="null"/>.</exception>
    public ScoringResult Update(LeadProfile lead, IEnumerable<FunnelEvent> events, Instant now)
    {
        ArgumentNullException.ThrowIfNull(lead);
        double score = Score(events, now);
        LifecycleStage stage = StageFor(lead.Stage, score);
        ImmutableArray<LeadEvent>.Builder changes = ImmutableArray.CreateBuilder<LeadEvent>(2);
        if (score != lead.Score)
        {
            changes.Add(new ScoreChanged { LeadId = lead.Id, OccurredAt = now, From = lead.Score, To = score });
        }

        if (stage != lead.Stage)
        {
            changes.Add(new LifecycleStageChanged { LeadId = lead.Id, OccurredAt = now, From = lead.Stage, To = stage });
        }

        return new ScoringResult(lead with { Score = score, Stage = stage }, changes.ToImmutable());
    }

    /// <summary>Returns the stage a lead reaches with a score.</summary>
    /// <param name="current">The current stage.</param>
    /// <param name="score">The score.</param>
    /// <returns>
    /// <see cref="LifecycleStage.SalesQualified"/> or <see cref="LifecycleStage.MarketingQualified"/> when the score
    /// reaches that threshold and the lead is a lead but not yet there; with <see cref="ScoringModel.Hysteresis"/>, the
    /// stage below for an SQL or MQL whose score is under the band's lower edge; otherwise <paramref name="current"/>.
    /// </returns>
    public LifecycleStage StageFor(LifecycleStage current, double score)
    {
        if (current < LifecycleStage.Lead)
        {
            return current;
        }

        LifecycleStage target = score >= _model.SalesQualifiedAt ? LifecycleStage.SalesQualified
            : score >= _model.MarketingQualifiedAt ? LifecycleStage.MarketingQualified
            : current;
        if (target > current || _model.Hysteresis is not { } band)
        {
            return target > current ? target : current;
        }

        LifecycleStage stage = current;
        if (stage == LifecycleStage.SalesQualified && band.SalesQualifiedLeaveBelow is { } sqlEdge && score < sqlEdge)
        {
            stage = LifecycleStage.MarketingQualified;
        }

        if (stage == LifecycleStage.MarketingQualified && score < band.MarketingQualifiedLeaveBelow)
        {
            stage = LifecycleStage.Lead;
        }

        return stage;
    }

    /// <summary>Explains a lead's score at an instant: each rule's matching events with their decayed points, the caps applied, and the adjustments.</summary>
    /// <remarks>
    /// The explanation adds up the same way as <see cref="Score"/>, so its <see cref="ScoreExplanation.Score"/> is
    /// exactly what <see cref="Score"/> returns for the same events and instant.
    /// </remarks>
    /// <param name="events">The lead's events, in any order; events after <paramref name="now"/> are ignored.</param>
    /// <param name="now">The instant to score at.</param>
    /// <returns>The explanation, with each rule (in model order) and its events (in the order given).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is <see langword="null"/>.</exception>
    public ScoreExplanation Explain(IEnumerable<FunnelEvent> events, Instant now)
    {
        ArgumentNullException.ThrowIfNull(events);
        ImmutableArray<ScoringRule> rules = _model.Rules;
        double[] sums = new double[rules.Length];
        CollectingSink collected = new(rules.Length);
        double score = Accumulate(events, now, sums, ref collected);
        ImmutableArray<RuleScore>.Builder explained = ImmutableArray.CreateBuilder<RuleScore>(rules.Length);
        for (int i = 0; i < rules.Length; i++)
        {
            double points = Math.Clamp(sums[i], -rules[i].Cap, rules[i].Cap);
            score += points;
            explained.Add(new RuleScore(rules[i], sums[i], points, collected.Rules[i].ToImmutable()));
        }

        return new ScoreExplanation(score, now, explained.MoveToImmutable(), collected.Adjustments.ToImmutable());
    }

    /// <summary>What <see cref="Accumulate"/> tells of each event's part.</summary>
    private interface IContributionSink
    {
        void Rule(int rule, FunnelEvent e, double points, double decayed);

        void Adjustment(ScoreAdjusted e, double decayed);
    }

    /// <summary>Tells nothing: <see cref="Score"/>'s sink.</summary>
    private struct NoSink : IContributionSink
    {
        public readonly void Rule(int rule, FunnelEvent e, double points, double decayed)
        {
        }

        public readonly void Adjustment(ScoreAdjusted e, double decayed)
        {
        }
    }

    /// <summary>Collects each rule's events and the adjustments: <see cref="Explain"/>'s sink.</summary>
    private readonly struct CollectingSink(int rules) : IContributionSink
    {
        public ImmutableArray<ScoreContribution>.Builder[] Rules { get; } =
            [.. Enumerable.Range(0, rules).Select(static _ => ImmutableArray.CreateBuilder<ScoreContribution>())];

        public ImmutableArray<ScoreContribution>.Builder Adjustments { get; } = ImmutableArray.CreateBuilder<ScoreContribution>();

        public void Rule(int rule, FunnelEvent e, double points, double decayed) =>
            Rules[rule].Add(new ScoreContribution(e.Id, e.EventType, e.OccurredAt, points, decayed));

        public void Adjustment(ScoreAdjusted e, double decayed) =>
            Adjustments.Add(new ScoreContribution(e.Id, e.EventType, e.OccurredAt, e.Points, decayed) { Reason = e.Reason });
    }
}

/// <summary>Why a lead has the score they have: each rule's points, the events behind them, and the explicit adjustments.</summary>
/// <param name="Score">The score: the adjustments' points plus each rule's capped points; equal to <see cref="LeadScorer.Score"/>.</param>
/// <param name="At">The instant the score is for (decay is computed to it).</param>
/// <param name="Rules">Each rule of the model, in order, with its points and events.</param>
/// <param name="Adjustments">The <see cref="ScoreAdjusted"/> events (automation actions, your own adjustments), outside the rules' caps.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoreExplanation(double Score, Instant At, ImmutableArray<RuleScore> Rules, ImmutableArray<ScoreContribution> Adjustments);

/// <summary>What one scoring rule adds to a score.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Uncapped">The sum of its events' decayed points, before the cap.</param>
/// <param name="Points">What it adds: <paramref name="Uncapped"/> clamped to ±<see cref="ScoringRule.Cap"/>.</param>
/// <param name="Events">Its matching events, each with its points and decayed points.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record RuleScore(ScoringRule Rule, double Uncapped, double Points, ImmutableArray<ScoreContribution> Events)
{
    /// <summary>Gets whether the cap cut what the events add.</summary>
    public bool Capped => Points != Uncapped;
}

/// <summary>One event's part in a score.</summary>
/// <param name="Event">The event's id.</param>
/// <param name="EventType">The event's type, such as <c>email_clicked</c>.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Points">Its points when new.</param>
/// <param name="DecayedPoints">Its points at the explanation's instant, after the half-life.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ScoreContribution(EventId Event, string EventType, Instant OccurredAt, double Points, double DecayedPoints)
{
    /// <summary>Gets the reason of a <see cref="ScoreAdjusted"/>, such as <c>guide-nurture/opened-bonus</c>.</summary>
    /// <value>Defaults to <see langword="null"/> (for a rule's event).</value>
    public string? Reason { get; init; }
}
