using System.Collections.Immutable;
using Funnel.Email;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>An <see cref="ISequenceTestStore"/> in memory, for tests and single-process apps; its tallies are lost when the process stops.</summary>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class InMemorySequenceTestStore : ISequenceTestStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<LeadId, Row>> _tallies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SequenceTestDecision> _decisions = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task RecordSendAsync(string test, LeadId lead, string variant, Instant sentAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(variant);
        lock (_gate)
        {
            if (!_decisions.ContainsKey(test))
            {
                if (!_tallies.TryGetValue(test, out Dictionary<LeadId, Row>? rows))
                {
                    _tallies[test] = rows = [];
                }

                rows.TryAdd(lead, new Row(variant, sentAt));
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RecordConversionAsync(string test, LeadId lead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        lock (_gate)
        {
            if (_tallies.TryGetValue(test, out Dictionary<LeadId, Row>? rows) && rows.TryGetValue(lead, out Row? row))
            {
                row.Converted = true;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<ImmutableArray<VariantResult>> TallyAsync(string test, Instant sentBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        lock (_gate)
        {
            if (!_tallies.TryGetValue(test, out Dictionary<LeadId, Row>? rows))
            {
                return Task.FromResult(ImmutableArray<VariantResult>.Empty);
            }

            return Task.FromResult<ImmutableArray<VariantResult>>([.. rows.Values
                .Where(r => r.SentAt <= sentBy)
                .GroupBy(static r => r.Variant, StringComparer.Ordinal)
                .OrderBy(static g => g.Key, StringComparer.Ordinal)
                .Select(static g => new VariantResult(g.Key, g.LongCount(), g.LongCount(static r => r.Converted)))]);
        }
    }

    /// <inheritdoc/>
    public Task<SequenceTestDecision?> FindDecisionAsync(string test, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        lock (_gate)
        {
            return Task.FromResult(_decisions.GetValueOrDefault(test));
        }
    }

    /// <inheritdoc/>
    public Task<SequenceTestDecision> DecideAsync(SequenceTestDecision decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        lock (_gate)
        {
            if (!_decisions.TryGetValue(decision.Test, out SequenceTestDecision? stored))
            {
                _decisions[decision.Test] = stored = decision;
                _tallies.Remove(decision.Test);
            }

            return Task.FromResult(stored);
        }
    }

    /// <summary>One lead's send in a test.</summary>
    private sealed class Row(string variant, Instant sentAt)
    {
        public string Variant { get; } = variant;

        public Instant SentAt { get; } = sentAt;

        public bool Converted { get; set; }
    }
}
