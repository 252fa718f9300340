using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using Funnel.Email;
using Funnel.Events;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>The automatic winner tests of sequence emails (<see cref="StepWinnerTest"/>): tallies, decisions and the winners the dispatcher sends.</summary>
public sealed partial class SequenceEngine
{
    /// <summary>The decisions read or made by this engine; a decision never changes, so it is cached for good.</summary>
    private readonly ConcurrentDictionary<string, SequenceTestDecision> testDecisions = new(StringComparer.Ordinal);

    /// <summary>The tests whose <see cref="SequenceTestDecided"/> this engine has seen appended.</summary>
    private readonly ConcurrentDictionary<string, bool> announcedTests = new(StringComparer.Ordinal);

    /// <summary>Decides the automatic winner tests whose every variant has its sample, and records each decision.</summary>
    /// <remarks>
    /// <para>
    /// The <c>sequence-tests</c> job that <c>AddFunnelSequenceDispatcher()</c> registers calls this every minute; call it
    /// yourself only when you run the engine without the job. For each email step with a
    /// <see cref="SequenceStep.WinnerTest"/> and no decision yet, it counts the sends made at least
    /// <see cref="StepWinnerTest.Wait"/> ago and, when every variant has
    /// <see cref="StepWinnerTest.MinimumSamplePerVariant"/> of them, asks the
    /// <see cref="SequenceEngineSettings.Winners"/> selector once: its winner, or the control when it names none, is
    /// stored in the <see cref="SequenceEngineSettings.Tests"/> store (the first decision stored wins, so engines deciding
    /// at once agree) and recorded as a <see cref="SequenceTestDecided"/> event with an id derived from the test key.
    /// </para>
    /// <para>
    /// A decision stored by an engine that stopped before recording its event is recorded by the next call, on any
    /// engine: the event log appends it once.
    /// </para>
    /// </remarks>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events this call recorded (already in the log; do not append them again).</returns>
    public async Task<ImmutableArray<FunnelEvent>> DecideTestsAsync(CancellationToken cancellationToken = default)
    {
        ImmutableArray<FunnelEvent>.Builder recorded = ImmutableArray.CreateBuilder<FunnelEvent>();
        foreach (TestedStep tested in testedSteps.Values)
        {
            if (announcedTests.ContainsKey(tested.Test))
            {
                continue;
            }

            SequenceTestDecision? decision = await FindTestDecisionAsync(tested.Test, cancellationToken).ConfigureAwait(false)
                ?? await TryDecideAsync(tested, cancellationToken).ConfigureAwait(false);
            if (decision is null)
            {
                continue;
            }

            SequenceTestDecided decided = new()
            {
                Id = EventId.Derive(default, SequenceEventTypes.SequenceTestDecided + ":" + tested.Test),
                OccurredAt = decision.DecidedAt,
                Sequence = tested.Sequence,
                Step = tested.Step.Key,
                Winner = decision.Winner,
                Significant = decision.Significant,
                Results = decision.Results,
            };
            await settings.EventLog.AppendAsync([decided], cancellationToken).ConfigureAwait(false);
            announcedTests[tested.Test] = true;
            recorded.Add(decided);
        }

        return recorded.ToImmutable();
    }

    /// <summary>Counts a tested step's send, open or click for its lead, until the test is decided.</summary>
    /// <remarks>
    /// Only sends of one of the step's variants count (after the decision every send carries the winner and the store
    /// ignores it). A click counts as an open for <see cref="VariantWinnerMetric.Opens"/>: a reader whose client blocks
    /// the tracking pixel but who clicked did open it.
    /// </remarks>
    private async Task TallyTestAsync(EmailEvent email, TestedStep tested, CancellationToken cancellationToken)
    {
        if (testDecisions.ContainsKey(tested.Test))
        {
            return;
        }

        ISequenceTestStore store = settings.Tests!;
        switch (email)
        {
            case EmailSent { Variant: { } variant } when tested.Step.Variants.Any(v => v.Key == variant):
                await store.RecordSendAsync(tested.Test, email.LeadId, variant, email.OccurredAt, cancellationToken).ConfigureAwait(false);
                break;
            case EmailClicked:
            case EmailOpened when tested.Step.WinnerTest!.Metric == VariantWinnerMetric.Opens:
                await store.RecordConversionAsync(tested.Test, email.LeadId, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Decides a test when every variant has its sample; <see langword="null"/> while one has not.</summary>
    private async Task<SequenceTestDecision?> TryDecideAsync(TestedStep tested, CancellationToken cancellationToken)
    {
        StepWinnerTest test = tested.Step.WinnerTest!;
        Instant now = settings.Clock.GetCurrentInstant();
        ImmutableArray<VariantResult> tally = await settings.Tests!.TallyAsync(tested.Test, now - test.Wait, cancellationToken).ConfigureAwait(false);
        // Every variant of the step, those with no counted send too, so the selector sees the whole test.
        ImmutableArray<VariantResult> results = [.. tested.Step.Variants
            .Select(v => tally.FirstOrDefault(r => r.Variant == v.Key) ?? new VariantResult(v.Key, 0, 0))
            .OrderBy(static r => r.Variant, StringComparer.Ordinal)];
        if (results.Any(r => r.Sent < test.MinimumSamplePerVariant))
        {
            return null;
        }

        string? winner = settings.Winners!.SelectWinner(results, EmailVariant.ControlKey, test.MinimumSamplePerVariant);
        SequenceTestDecision stored = await settings.Tests.DecideAsync(
            new SequenceTestDecision(tested.Test, winner ?? EmailVariant.ControlKey, winner is not null, results, now),
            cancellationToken).ConfigureAwait(false);
        testDecisions[tested.Test] = stored;
        return stored;
    }

    /// <summary>Returns a test's decision from the cache or the store, caching it once found.</summary>
    private async Task<SequenceTestDecision?> FindTestDecisionAsync(string test, CancellationToken cancellationToken)
    {
        if (testDecisions.TryGetValue(test, out SequenceTestDecision? known))
        {
            return known;
        }

        SequenceTestDecision? found = await settings.Tests!.FindDecisionAsync(test, cancellationToken).ConfigureAwait(false);
        if (found is not null)
        {
            testDecisions[test] = found;
        }

        return found;
    }

    /// <summary>Reads the decided winners of the batch's tested email steps, one read per undecided test in the batch.</summary>
    private async Task ReadTestWinnersAsync(List<BatchItem> batch, CancellationToken cancellationToken)
    {
        if (testedSteps.Count == 0)
        {
            return;
        }

        Dictionary<string, string?> winners = new(StringComparer.Ordinal);
        foreach (BatchItem item in batch)
        {
            if (item.Broadcast is not null || item.Step.WinnerTest is null || item.Entry.Outcome is not null)
            {
                continue;
            }

            string test = EmailVariants.TestKey(item.Definition.Key, item.Step.Key);
            if (!winners.TryGetValue(test, out string? winner))
            {
                winners[test] = winner = (await FindTestDecisionAsync(test, cancellationToken).ConfigureAwait(false))?.Winner;
            }

            item.TestWinner = winner;
        }
    }

    /// <summary>Finds the email steps with a winner test and checks what their tests need: a store, a selector, and a step key no other sequence's step has.</summary>
    /// <remarks>An open or click names only the step (<see cref="EmailEvent.Email"/>), so a tested step's key must say which test it belongs to.</remarks>
    private static FrozenDictionary<string, TestedStep> TestedSteps(SequenceEngineSettings settings, Dictionary<string, SequencePlan> plans)
    {
        Dictionary<string, TestedStep> tested = new(StringComparer.Ordinal);
        foreach ((string key, SequencePlan plan) in plans)
        {
            foreach (SequenceStep step in plan.Steps.Where(static s => s.WinnerTest is not null))
            {
                string at = $"Sequence '{key}' step '{step.Key}'";
                string? problem = settings.Winners is null
                    ? $"{at} has a winner test, but no IVariantWinnerSelector is registered to judge it: call services.AddFunnelAnalytics()."
                    : settings.Tests is null ? $"{at} has a winner test, but there is no sequence test store (SequenceEngineSettings.Tests)."
                    : null;
                if (problem is not null)
                {
                    throw new ArgumentException(problem, nameof(settings));
                }

                tested[step.Key] = new TestedStep(key, step, EmailVariants.TestKey(key, step.Key));
            }
        }

        foreach (TestedStep one in tested.Values)
        {
            foreach ((string key, SequencePlan plan) in plans)
            {
                if (key != one.Sequence && plan.Steps.Any(s => s.Key == one.Step.Key && s.IsEmail))
                {
                    throw new ArgumentException(
                        $"Sequence '{one.Sequence}' step '{one.Step.Key}' has a winner test, but sequence '{key}' has an email step with the same key: opens and clicks name only the step, so give the tested step a key of its own.",
                        nameof(settings));
                }
            }
        }

        return tested.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>An email step with a winner test, in its sequence.</summary>
    private sealed record TestedStep(string Sequence, SequenceStep Step, string Test);
}
