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
/// becomes an MQL, and at <see cref="SalesQualifiedAt"/> an SQL: the guide's "Lead → MQL → SQL". Stages never move
/// back when the score decays.
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
                continue;
            }

            for (int i = 0; i < rules.Length; i++)
            {
                if (rules[i].When.Matches(e))
                {
                    sums[i] += rules[i].Points * weight;
                }
            }
        }

        double score = adjustments;
        for (int i = 0; i < rules.Length; i++)
        {
            score += Math.Clamp(sums[i], -rules[i].Cap, rules[i].Cap);
        }

        return score;
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
    /// <returns><see cref="LifecycleStage.SalesQualified"/> or <see cref="LifecycleStage.MarketingQualified"/> when the score reaches that threshold and the lead is a lead but not yet there; otherwise <paramref name="current"/>.</returns>
    public LifecycleStage StageFor(LifecycleStage current, double score)
    {
        if (current < LifecycleStage.Lead)
        {
            return current;
        }

        LifecycleStage target = score >= _model.SalesQualifiedAt ? LifecycleStage.SalesQualified
            : score >= _model.MarketingQualifiedAt ? LifecycleStage.MarketingQualified
            : current;
        return target > current ? target : current;
    }
}
