using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using NodaTime;

namespace Funnel.Analytics.Experiments;

/// <summary>Settings of a <see cref="ThompsonSamplingBandit"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record BanditSettings
{
    /// <summary>Gets the default settings: update every 6 hours, 1 % floor, 10,000 draws, seed 1.</summary>
    public static BanditSettings Default { get; } = new();

    /// <summary>Gets how often the weights may change; calls to <see cref="ThompsonSamplingBandit.Update"/> in between are ignored.</summary>
    /// <value>Defaults to 6 hours.</value>
    public Duration UpdateInterval { get; init; } = Duration.FromHours(6);

    /// <summary>Gets the least share of new traffic every variant keeps, so a variant that started badly can still recover.</summary>
    /// <value>Defaults to 0.01 (1 %); must be below 1 ÷ the number of variants.</value>
    public double MinimumWeight { get; init; } = 0.01;

    /// <summary>Gets the number of posterior draws behind each update.</summary>
    /// <value>Defaults to 10,000.</value>
    public int Draws { get; init; } = 10_000;

    /// <summary>Gets the seed of the random draws, so the same history gives the same weights.</summary>
    /// <value>Defaults to 1.</value>
    public int Seed { get; init; } = 1;
}

/// <summary>A Thompson-sampling bandit over the sticky <see cref="ExperimentAssigner"/>: moves new traffic to the variant likely to convert best.</summary>
/// <remarks>
/// <para>
/// Each variant's conversion rate has a Beta(1 + conversions, 1 + non-conversions) posterior. An update draws
/// <see cref="BanditSettings.Draws"/> rates from every posterior with a seeded generator, sets each variant's weight to
/// the share of draws it wins (its chance to be best), and lifts every weight to at least
/// <see cref="BanditSettings.MinimumWeight"/> (w = floor + (1 − k·floor) · P(best)). Updates happen at most once per
/// <see cref="BanditSettings.UpdateInterval"/>.
/// </para>
/// <para>
/// New leads are assigned by <see cref="ExperimentAssigner"/> with the current weights (so the experiment key, holdout
/// and hashing stay as documented there). A lead keeps the variant of its first assignment even after the weights
/// change: the bandit remembers it, and <see cref="Restore"/> reloads that memory from recorded
/// <see cref="ExperimentExposed"/> events after a restart. Note that a bandit's traffic split changes over time, so
/// compare variants with its own posteriors rather than a fixed-split test.
/// </para>
/// </remarks>
/// <threadsafety>Instances are safe to use from several threads; calls are serialised by a lock.</threadsafety>
public sealed class ThompsonSamplingBandit
{
    private const int WeightScale = 1_000_000;

    private readonly Lock _gate = new();
    private readonly ExperimentAssigner _assigner = new();
    private readonly Dictionary<LeadId, string?> _assigned = [];
    private readonly BanditSettings _settings;
    private Experiment _current;
    private ImmutableArray<double> _weights;
    private int _updates;
    private Instant? _lastUpdate;

    /// <summary>Creates a bandit that starts with the experiment's own weights.</summary>
    /// <param name="experiment">The experiment; its variants are the arms.</param>
    /// <param name="settings">The settings; defaults to <see cref="BanditSettings.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="experiment"/> is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The experiment is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public ThompsonSamplingBandit(Experiment experiment, BanditSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        new ExperimentValidator().ValidateAndThrow(experiment);
        _settings = settings ?? BanditSettings.Default;
        int k = experiment.Variants.Length;
        if (!(_settings.MinimumWeight >= 0 && _settings.MinimumWeight * k < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), _settings.MinimumWeight, $"'MinimumWeight' must be within [0, 1 / {k}).");
        }

        if (_settings.UpdateInterval < Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), _settings.UpdateInterval, "'UpdateInterval' must not be negative.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_settings.Draws, "settings.Draws");
        _current = experiment;
        double total = experiment.Variants.Sum(v => (double)v.Weight);
        _weights = [.. experiment.Variants.Select(v => v.Weight / total)];
    }

    /// <summary>Gets the current share of new traffic per variant, in the experiment's order; they sum to 1.</summary>
    public ImmutableArray<double> Weights
    {
        get
        {
            lock (_gate)
            {
                return _weights;
            }
        }
    }

    /// <summary>Gets when the weights last changed.</summary>
    /// <value><see langword="null"/> before the first update.</value>
    public Instant? LastUpdate
    {
        get
        {
            lock (_gate)
            {
                return _lastUpdate;
            }
        }
    }

    /// <summary>Assigns a lead: its earlier variant if it has one, otherwise by the current weights.</summary>
    /// <param name="lead">The lead.</param>
    /// <returns>The assignment; the variant is <see langword="null"/> for the holdout.</returns>
    public ExperimentAssignment Assign(LeadId lead)
    {
        lock (_gate)
        {
            if (!_assigned.TryGetValue(lead, out string? variant))
            {
                variant = _assigner.Assign(_current, lead).Variant;
                _assigned[lead] = variant;
            }

            return new ExperimentAssignment(_current.Key, variant);
        }
    }

    /// <summary>Assigns a lead and returns the exposure event to record.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="occurredAt">When the lead saw the variant (from an injected <see cref="IClock"/>).</param>
    /// <returns>The exposure, or <see langword="null"/> for the holdout.</returns>
    public ExperimentExposed? Expose(LeadId lead, Instant occurredAt)
    {
        ExperimentAssignment assignment = Assign(lead);
        return assignment.Variant is null
            ? null
            : new ExperimentExposed { LeadId = lead, OccurredAt = occurredAt, Experiment = assignment.Experiment, Variant = assignment.Variant };
    }

    /// <summary>Reloads which leads saw which variant, from recorded exposures (for example after a restart).</summary>
    /// <param name="exposures">The recorded exposures; those of other experiments are ignored, and a lead's first one wins.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exposures"/> is <see langword="null"/>.</exception>
    public void Restore(IEnumerable<ExperimentExposed> exposures)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        lock (_gate)
        {
            foreach (ExperimentExposed e in exposures.Where(e => e is not null && e.Experiment == _current.Key).OrderBy(e => e.OccurredAt))
            {
                _assigned.TryAdd(e.LeadId, e.Variant);
            }
        }
    }

    /// <summary>Recomputes the weights from the conversions so far, if the update interval has passed.</summary>
    /// <param name="samples">Conversions and exposed visitors per variant, in the experiment's order.</param>
    /// <param name="now">The current time (from an injected <see cref="IClock"/>).</param>
    /// <returns><see langword="true"/> when the weights were updated; <see langword="false"/> when the interval has not passed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="samples"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The number of samples differs from the number of variants, or a sample has more conversions than visitors.</exception>
    public bool Update(IReadOnlyList<ConversionSample> samples, Instant now)
    {
        ArgumentNullException.ThrowIfNull(samples);
        lock (_gate)
        {
            if (samples.Count != _current.Variants.Length)
            {
                throw new ArgumentException($"Expected {_current.Variants.Length} samples, one per variant, not {samples.Count}.", nameof(samples));
            }

            if (_lastUpdate is { } last && now - last < _settings.UpdateInterval)
            {
                return false;
            }

            ImmutableArray<double> best = ChanceToBeBest(samples, _settings.Draws, unchecked((_settings.Seed * 397) + _updates));
            double floor = _settings.MinimumWeight;
            _weights = [.. best.Select(p => floor + ((1 - (floor * best.Length)) * p))];
            _current = _current with
            {
                Variants = [.. _current.Variants.Select((v, i) => v with { Weight = Math.Max(1, (int)Math.Round(_weights[i] * WeightScale)) })],
            };
            _updates++;
            _lastUpdate = now;
            return true;
        }
    }

    /// <summary>Estimates each variant's chance to have the highest conversion rate, by seeded draws from Beta(1, 1) posteriors.</summary>
    /// <param name="samples">Conversions and visitors per variant.</param>
    /// <param name="draws">The number of draws.</param>
    /// <param name="seed">The seed; the same inputs and seed always give the same answer.</param>
    /// <returns>The chances, summing to 1.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="samples"/> or an entry is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A sample has more conversions than visitors or negative counts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="draws"/> is not positive.</exception>
    public static ImmutableArray<double> ChanceToBeBest(IReadOnlyList<ConversionSample> samples, int draws, int seed)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(draws);
        for (int i = 0; i < samples.Count; i++)
        {
            ConversionSample s = samples[i] ?? throw new ArgumentNullException(nameof(samples), $"'samples[{i}]' is null.");
            if (s.Visitors < 0 || s.Conversions < 0 || s.Conversions > s.Visitors)
            {
                throw new ArgumentException($"'samples[{i}]' must have 0 ≤ Conversions ≤ Visitors.", nameof(samples));
            }
        }

        var random = new Random(seed);
        long[] wins = new long[samples.Count];
        for (int d = 0; d < draws; d++)
        {
            int winner = 0;
            double top = double.NegativeInfinity;
            for (int i = 0; i < samples.Count; i++)
            {
                double rate = FunnelForecaster.SampleBeta(random, 1 + samples[i].Conversions, 1 + samples[i].Visitors - samples[i].Conversions);
                if (rate > top)
                {
                    top = rate;
                    winner = i;
                }
            }

            wins[winner]++;
        }

        return [.. wins.Select(w => (double)w / draws)];
    }
}
