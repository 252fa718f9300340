using System.Collections.Immutable;
using System.Runtime.ExceptionServices;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Sequences;

/// <content>The batched dispatch path: claim, read, decide, reserve, send, record, follow up, drain.</content>
public sealed partial class SequenceEngine
{
    /// <summary>Claims the due sends (up to <see cref="SequenceOptions.BatchSize"/>) and sends, suppresses, skips, defers or retries them as one batch.</summary>
    /// <remarks>
    /// <para>
    /// The batch is worked as sets, so its store calls do not grow with its size: one claim; one read of the
    /// enrolments (<see cref="IEnrolmentStore.ListForLeadsAsync"/>) and one of the leads
    /// (<see cref="ILeadStore.FindManyAsync"/>), made at the same time; one reservation of the frequency-cap days
    /// (<see cref="IEnrolmentStore.TryReserveDaysAsync"/>; two sends of one lead on one local day: the first wins, the
    /// other is deferred); then the sends, up to <see cref="SequenceOptions.SendConcurrency"/> at a time, each started
    /// only while more than <see cref="SequenceOptions.LeaseSafetyMargin"/> of the claim's lease is left (the sends
    /// that did not start in time are released for the next dispatch). The outcome of each send is recorded with its
    /// event (<c>email_sent</c>, <c>email_failed</c>) by compare-and-set while the entry is still claimed, through a
    /// coalescer: one <see cref="ISendOutbox.TryUpdateManyAsync"/> in flight at a time, and what finishes meanwhile
    /// joins the next one. Then, for the sends whose outcome was stored, the enrolments
    /// (<see cref="IEnrolmentStore.TryUpdateManyAsync"/>, re-reading and retrying only those that changed meanwhile)
    /// are written as a set, the next steps and the final states (with <c>sequence_completed</c>) as one
    /// <see cref="ISendOutbox.TryAddAndUpdateManyAsync"/>, and the outbox's events are moved into the
    /// <see cref="SequenceEngineSettings.EventLog"/> as by <see cref="DrainEventsAsync"/> (up to twice the batch size,
    /// at least 1,000). The dispatcher job that <c>AddFunnelSequenceDispatcher()</c> registers calls this on a timer.
    /// </para>
    /// <para>
    /// Exactly one dispatcher holds each claim, and a dispatcher that lost a claim writes nothing for it. An entry
    /// whose outcome is recorded is never sent again: a dispatcher that claims it after a crash only finishes the
    /// follow-up work. So no send is lost, and a send is repeated only if the process dies after the provider
    /// accepted it and before the outcome flush that follows.
    /// </para>
    /// </remarks>
    /// <param name="cancellationToken">
    /// Cancels the dispatch: no further send starts, and the sends not made stay claimed and are due again after the
    /// lease. The outcomes of the sends already accepted (and their follow-up work) are still recorded before the
    /// <see cref="OperationCanceledException"/>, so a graceful shutdown repeats none.
    /// </param>
    /// <returns>What was done, with the events recorded.</returns>
    /// <exception cref="OperationCanceledException">The dispatch was cancelled.</exception>
    public async Task<DispatchResult> DispatchDueAsync(CancellationToken cancellationToken = default)
    {
        Instant now = settings.Clock.GetCurrentInstant();
        SequenceOptions options = settings.Options;
        ImmutableArray<OutboxEntry> claimed = await settings.Outbox.ClaimDueAsync(now, options.BatchSize, options.Lease, settings.DispatcherId, cancellationToken).ConfigureAwait(false);
        Tally tally = new();
        // An outbox that writes the events into the log with the new states: the events of this batch are those its
        // stored updates carried; the drain below finds only what an earlier version kept in the outbox.
        List<FunnelEvent>? recorded = settings.Outbox.EventLog is null ? null : [];
        if (!claimed.IsEmpty)
        {
            await DispatchBatchAsync(claimed, now, tally, recorded, cancellationToken).ConfigureAwait(false);
        }

        ImmutableArray<FunnelEvent> events = await DrainEventsAsync(Math.Max(2 * options.BatchSize, MinEventsPerDispatch), cancellationToken).ConfigureAwait(false);
        if (recorded is { Count: > 0 })
        {
            events = [.. events, .. recorded];
        }

        return new DispatchResult(claimed.Length, tally.Sent, tally.Failed, tally.Suppressed, tally.Skipped, tally.Deferred, tally.Cancelled, events)
        {
            Released = tally.Released,
            Performed = tally.Performed,
        };
    }

    /// <summary>Moves the dispatch events (<c>email_sent</c>, <c>email_failed</c>, <c>email_suppressed</c>, <c>sequence_completed</c>) left in the outbox into the event log, without dispatching.</summary>
    /// <remarks>
    /// Every dispatch event is written to the outbox in the same atomic step as the send's state change, so a crash
    /// never loses one. This claims them with a lease of <see cref="SequenceOptions.Lease"/>, appends them to the
    /// <see cref="SequenceEngineSettings.EventLog"/>, and only then acknowledges them: a crash between the two hands
    /// them out again after the lease, with the same ids, and the log appends them once. Concurrent dispatchers never
    /// claim the same event at once. <see cref="DispatchDueAsync"/> calls it after every batch.
    /// </remarks>
    /// <param name="max">The most events to move.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events this call recorded, oldest first (already in the log; do not append them again).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not positive.</exception>
    public async Task<ImmutableArray<FunnelEvent>> DrainEventsAsync(int max = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        Instant now = settings.Clock.GetCurrentInstant();
        ImmutableArray<FunnelEvent> events = await settings.Outbox.ClaimEventsAsync(now, max, settings.Options.Lease, cancellationToken).ConfigureAwait(false);
        if (!events.IsEmpty)
        {
            await settings.EventLog.AppendAsync(events, cancellationToken).ConfigureAwait(false);
            await settings.Outbox.AcknowledgeEventsAsync(events.Select(static e => e.Id), cancellationToken).ConfigureAwait(false);
        }

        return events;
    }

    /// <summary>The most of a lead's events a branch's condition is evaluated on (the oldest first), as for scoring.</summary>
    private const int MaxBranchHistory = 10_000;

    private async Task DispatchBatchAsync(ImmutableArray<OutboxEntry> claimed, Instant now, Tally tally, List<FunnelEvent>? recorded, CancellationToken cancellationToken)
    {
        // The outbox writes decided before any send (and the outcomes of suppressed and skipped steps) go first.
        List<(OutboxEntry Current, OutboxEntry Replacement)> decided = [];
        Dictionary<string, (Broadcast Broadcast, SequenceDefinition Definition)?> broadcasts = await ReadBroadcastsAsync(claimed, cancellationToken).ConfigureAwait(false);
        List<BatchItem> batch = Resolve(claimed, broadcasts, now, decided, tally);
        await ReadAsync(batch, cancellationToken).ConfigureAwait(false);
        List<BatchItem> capped = Decide(batch, now, decided, tally);
        if (capped.Count > 0)
        {
            await ReserveDaysAsync(capped, now, decided, tally, cancellationToken).ConfigureAwait(false);
        }

        OutboxCoalescer coalescer = new(settings.Outbox, recorded);
        coalescer.AddRange(decided);
        ExceptionDispatchInfo? sendFailure = null;
        try
        {
            await SendAllAsync([.. batch.Where(static i => i.Decision == Decision.Send)], coalescer, tally, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            sendFailure = ExceptionDispatchInfo.Capture(e); // rethrown once the outcomes of the sends made are stored.
        }

        await coalescer.CompleteAsync().ConfigureAwait(false);
        sendFailure?.Throw();

        List<BatchItem> finish = [.. batch.Where(i => i.Decision == Decision.Finish || i.Decision == Decision.Outcome && coalescer.Won(i.Entry.Key))];
        if (finish.Count > 0)
        {
            // Not cancellable, like the outcomes: this is the work of sends already made.
            await FinishAllAsync(finish, now, recorded, CancellationToken.None).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Reads the broadcasts of the batch's broadcast sends, one find per broadcast, with the one-step sequence each is sent as.</summary>
    private async Task<Dictionary<string, (Broadcast Broadcast, SequenceDefinition Definition)?>> ReadBroadcastsAsync(ImmutableArray<OutboxEntry> claimed, CancellationToken cancellationToken)
    {
        Dictionary<string, (Broadcast, SequenceDefinition)?> broadcasts = new(StringComparer.Ordinal);
        foreach (OutboxEntry entry in claimed)
        {
            if (Broadcasts.TryParse(entry.Sequence, out string key) && !broadcasts.ContainsKey(entry.Sequence))
            {
                Broadcast? broadcast = settings.Broadcasts is null ? null : await settings.Broadcasts.FindAsync(key, cancellationToken).ConfigureAwait(false);
                broadcasts[entry.Sequence] = broadcast is null ? null : (broadcast, broadcast.Definition.ToSequence());
            }
        }

        return broadcasts;
    }

    /// <summary>Finds each entry's sequence (or broadcast) and step (by the step key); an entry whose step is gone fails for good.</summary>
    private List<BatchItem> Resolve(
        ImmutableArray<OutboxEntry> claimed,
        Dictionary<string, (Broadcast Broadcast, SequenceDefinition Definition)?> broadcasts,
        Instant now,
        List<(OutboxEntry, OutboxEntry)> decided,
        Tally tally)
    {
        List<BatchItem> batch = new(claimed.Length);
        Dictionary<string, SequencePlan> broadcastPlans = new(StringComparer.Ordinal);
        foreach (OutboxEntry claimedEntry in claimed)
        {
            OutboxEntry entry = claimedEntry;
            Broadcast? broadcast = null;
            SequenceDefinition? definition;
            if (broadcasts.TryGetValue(entry.Sequence, out (Broadcast Broadcast, SequenceDefinition Definition)? found))
            {
                (broadcast, definition) = found is { } b ? (b.Broadcast, b.Definition) : (null, null);
            }
            else
            {
                definition = definitions.GetValueOrDefault(entry.Sequence);
            }

            SequencePlan? plan = definition is null ? null
                : broadcast is null ? plans.GetValueOrDefault(definition.Key)
                : broadcastPlans.TryGetValue(entry.Sequence, out SequencePlan? laidOut) ? laidOut
                : broadcastPlans[entry.Sequence] = SequencePlan.Of(definition);
            int index = plan is null ? -1 : IndexOf(plan, entry);
            if (definition is null || plan is null || index < 0)
            {
                if (entry.Outcome is { } outcome)
                {
                    decided.Add((entry, Recovered(entry, outcome, now))); // its send was made: keep what happened.
                }
                else
                {
                    string gone = broadcasts.ContainsKey(entry.Sequence)
                        ? settings.Broadcasts is null ? "Broadcasts are not configured: no broadcast store." : "The broadcast no longer exists."
                        : "The sequence or step no longer exists.";
                    decided.Add((entry, Done(entry, SendState.FailedPermanent, now, gone)));
                    tally.Failed++;
                }

                continue;
            }

            if (index != entry.StepIndex)
            {
                entry = entry with { StepIndex = index }; // the definition changed since the entry was scheduled; the key names the step.
            }

            batch.Add(new BatchItem(entry, definition, plan) { Broadcast = broadcast });
        }

        return batch;
    }

    /// <summary>Reads the enrolments and the leads of the whole batch, two store calls.</summary>
    private async Task ReadAsync(List<BatchItem> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // The two reads are independent: one round trip's wait instead of two.
        LeadId[] leadIds = [.. batch.Select(static i => i.Entry.LeadId).Distinct()];
        // A broadcast's send has no enrolment: read the enrolments of the sequences' sends only (none for a broadcast's batch).
        LeadId[] enrolled = [.. batch.Where(static i => i.Broadcast is null).Select(static i => i.Entry.LeadId).Distinct()];
        Task<ImmutableArray<Enrolment>> readEnrolments = enrolled.Length == 0
            ? Task.FromResult(ImmutableArray<Enrolment>.Empty)
            : settings.Enrolments.ListForLeadsAsync(enrolled, cancellationToken);
        Task<ImmutableArray<LeadProfile>> readLeads = settings.Leads.FindManyAsync(leadIds, cancellationToken);
        Task<HashSet<(string, LeadId)>> readMembers = ReadBroadcastMembersAsync(batch, cancellationToken);
        Task readBranches = ReadBranchInputsAsync(batch, cancellationToken);
        Task readWinners = ReadTestWinnersAsync(batch, cancellationToken);
        await Task.WhenAll(readEnrolments, readLeads, readMembers, readBranches, readWinners).ConfigureAwait(false);
        HashSet<(string Segment, LeadId Lead)> members = await readMembers.ConfigureAwait(false);
        Dictionary<EnrolmentId, Enrolment> enrolments = [];
        foreach (Enrolment enrolment in await readEnrolments.ConfigureAwait(false))
        {
            enrolments[enrolment.Id] = enrolment;
        }

        Dictionary<LeadId, LeadProfile> leads = [];
        foreach (LeadProfile lead in await readLeads.ConfigureAwait(false))
        {
            leads[lead.Id] = lead;
        }

        foreach (BatchItem item in batch)
        {
            item.Enrolment = enrolments.GetValueOrDefault(item.Entry.Enrolment);
            item.Lead = leads.GetValueOrDefault(item.Entry.LeadId);
            item.Zone = ZoneOf(item.Lead);
            item.InSegment = item.Broadcast is not { } b || members.Contains((b.Definition.Segment, item.Entry.LeadId));
        }
    }

    /// <summary>Reads what the batch's due branches decide on: each lead's events (for <see cref="SequenceStep.If"/>) and segment memberships (for <see cref="SequenceStep.IfInSegment"/>).</summary>
    /// <remarks>One event read per lead with a due branch, made at the same time, and one membership read per segment.</remarks>
    private async Task ReadBranchInputsAsync(List<BatchItem> batch, CancellationToken cancellationToken)
    {
        List<BatchItem> branches = [.. batch.Where(static i => i.Entry.Outcome is null && i.Step.IsBranch)];
        if (branches.Count == 0)
        {
            return;
        }

        LeadId[] leads = [.. branches.Where(static i => i.Step.If is not null).Select(static i => i.Entry.LeadId).Distinct()];
        Task<IReadOnlyList<LoggedEvent>>[] reads = [.. leads.Select(l => settings.EventLog.ReadPersonAsync(l, MaxBranchHistory, cancellationToken))];
        HashSet<(string, LeadId)> members = [];
        foreach (IGrouping<string, BatchItem> segment in branches.Where(static i => i.Step.IfInSegment is not null).GroupBy(static i => i.Step.IfInSegment!, StringComparer.Ordinal))
        {
            foreach (LeadId lead in await settings.Segments!.FindMembersAsync(segment.Key, segment.Select(static i => i.Entry.LeadId), cancellationToken).ConfigureAwait(false))
            {
                members.Add((segment.Key, lead));
            }
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
        Dictionary<LeadId, FunnelEvent[]> history = new(leads.Length);
        for (int i = 0; i < leads.Length; i++)
        {
            history[leads[i]] = [.. (await reads[i].ConfigureAwait(false)).Select(static e => e.Event)];
        }

        foreach (BatchItem item in branches)
        {
            item.History = history.GetValueOrDefault(item.Entry.LeadId) ?? [];
            item.InBranchSegment = item.Step.IfInSegment is not { } key || members.Contains((key, item.Entry.LeadId));
        }
    }

    /// <summary>Reads which leads of the batch's broadcast sends are still in the broadcast's segment, one call per segment.</summary>
    /// <remarks>Without a membership store every lead counts as a member.</remarks>
    private async Task<HashSet<(string, LeadId)>> ReadBroadcastMembersAsync(List<BatchItem> batch, CancellationToken cancellationToken)
    {
        HashSet<(string, LeadId)> members = [];
        foreach (IGrouping<string, BatchItem> segment in batch
            .Where(static i => i.Broadcast is not null && i.Entry.Outcome is null)
            .GroupBy(static i => i.Broadcast!.Definition.Segment, StringComparer.Ordinal))
        {
            IEnumerable<LeadId> leads = segment.Select(static i => i.Entry.LeadId);
            IEnumerable<LeadId> found = settings.Segments is null
                ? leads
                : await settings.Segments.FindMembersAsync(segment.Key, leads, cancellationToken).ConfigureAwait(false);
            foreach (LeadId lead in found)
            {
                members.Add((segment.Key, lead));
            }
        }

        return members;
    }

    /// <summary>Decides every entry that needs no send or no reservation; returns those that need a frequency-cap reservation.</summary>
    private List<BatchItem> Decide(List<BatchItem> batch, Instant now, List<(OutboxEntry, OutboxEntry)> decided, Tally tally)
    {
        List<BatchItem> capped = [];
        foreach (BatchItem item in batch)
        {
            OutboxEntry entry = item.Entry;
            if (entry.Outcome is { } outcome)
            {
                // A dispatcher recorded the result (and its events) and crashed before finishing: finish, never resend.
                OutboxEntry final = Recovered(entry, outcome, now);
                if (item.Enrolment is null)
                {
                    decided.Add((entry, final));
                    item.Decision = Decision.Done;
                }
                else
                {
                    item.Recorded = entry;
                    item.Final = final;
                    item.Sent = outcome == SendState.Sent && item.Step.IsEmail;
                    item.Decision = Decision.Finish;
                }

                continue;
            }

            if (item.Broadcast is null ? item.Enrolment is not { Status: EnrolmentStatus.Active } : item.Broadcast.Status == BroadcastStatus.Cancelled)
            {
                decided.Add((entry, Done(entry, SendState.Cancelled, now, item.Broadcast is null ? "The enrolment ended." : "The broadcast was cancelled.")));
                item.Decision = Decision.Done;
                tally.Cancelled++;
                continue;
            }

            SequenceStep step = item.Step;
            if (!item.InSegment)
            {
                // A broadcast goes to its segment as it is when the send comes due, not as it was when it was queued.
                tally.Skipped++;
                EmailSkipped left = new() { LeadId = entry.LeadId, OccurredAt = now, Email = step.Key, Reason = "left_segment" };
                decided.Add(Outcome(item, Done(entry, SendState.Skipped, now, "The lead is no longer in the broadcast's segment."), [left], sent: false));
                continue;
            }

            if (!step.IsEmail)
            {
                DecideAutomation(item, now, decided, tally);
                continue;
            }

            string? suppression = SuppressionOf(item.Lead, item.Definition);
            if (suppression is not null)
            {
                tally.Suppressed++;
                EmailSuppressed suppressed = new() { LeadId = entry.LeadId, OccurredAt = now, Email = step.Key, Reason = suppression };
                decided.Add(Outcome(item, Done(entry, SendState.Suppressed, now, suppression), [suppressed], sent: false));
                continue;
            }

            LeadProfile lead = item.Lead!;
            if (!step.RequiredTags.IsDefaultOrEmpty && !step.RequiredTags.All(lead.Tags.Contains)
                || !step.ExcludedTags.IsDefaultOrEmpty && step.ExcludedTags.Any(lead.Tags.Contains))
            {
                tally.Skipped++;
                decided.Add(Outcome(item, Done(entry, SendState.Skipped, now, "The step's tag conditions do not hold."), [], sent: false));
                continue;
            }

            item.Decision = Decision.Send;
            if (item.Definition.IsMarketing && settings.Options.OneMarketingEmailPerDay)
            {
                capped.Add(item);
            }
        }

        return capped;
    }

    /// <summary>Decides a step that sends no email to the lead: evaluates a branch, records an action's event, or queues a notification or webhook to send.</summary>
    /// <remarks>
    /// Consent, suppression and the frequency cap are about email to the lead, so they do not apply; the step's tag
    /// conditions do. A lead with no profile (erased, or never captured) has nothing to act on: the step is skipped.
    /// </remarks>
    private static void DecideAutomation(BatchItem item, Instant now, List<(OutboxEntry, OutboxEntry)> decided, Tally tally)
    {
        OutboxEntry entry = item.Entry;
        SequenceStep step = item.Step;
        if (item.Lead is not { } lead)
        {
            tally.Skipped++;
            decided.Add(Outcome(item, Done(entry, SendState.Skipped, now, "unknown_lead"), [], sent: false));
            return;
        }

        if (!step.RequiredTags.IsDefaultOrEmpty && !step.RequiredTags.All(lead.Tags.Contains)
            || !step.ExcludedTags.IsDefaultOrEmpty && step.ExcludedTags.Any(lead.Tags.Contains))
        {
            // A skipped branch takes its else path, as when its condition does not hold.
            tally.Skipped++;
            decided.Add(Outcome(item, Done(entry, SendState.Skipped, now, step.IsBranch ? SequenceBranched.ElsePath : "The step's tag conditions do not hold."), [], sent: false));
            return;
        }

        string from = item.Definition.Key + "/" + step.Key;
        FunnelEvent? recorded = step.Action switch
        {
            null => Branched(item, lead, now),
            AddTag add => new LeadTagged { LeadId = entry.LeadId, OccurredAt = now, Tag = add.Tag },
            RemoveTag remove => new LeadUntagged { LeadId = entry.LeadId, OccurredAt = now, Tag = remove.Tag },
            AddScore score => new ScoreAdjusted { LeadId = entry.LeadId, OccurredAt = now, Points = score.Points, Reason = from },
            SetStage stage => new LifecycleStageSet { LeadId = entry.LeadId, OccurredAt = now, Stage = stage.Stage },
            EnrolInSequence enrol => new SequenceEnrolRequested { LeadId = entry.LeadId, OccurredAt = now, Sequence = enrol.Sequence, RequestedBy = from },
            ExitSequence exit => new SequenceExitRequested { LeadId = entry.LeadId, OccurredAt = now, Sequence = exit.Sequence, RequestedBy = from },
            _ => null, // a notification or a webhook: sent like an email.
        };
        if (recorded is null)
        {
            item.Decision = Decision.Send;
            return;
        }

        tally.Performed++;
        string? path = recorded is SequenceBranched branched ? branched.Path : null;
        decided.Add(Outcome(item, Done(entry, SendState.Done, now, path), [recorded], sent: false));
    }

    /// <summary>Evaluates a due branch for its lead and returns the event that records the path taken.</summary>
    private static SequenceBranched Branched(BatchItem item, LeadProfile lead, Instant now)
    {
        SequenceStep step = item.Step;
        bool holds = item.InBranchSegment && (item.Plan.ConditionOf(item.Entry.StepIndex) is not { } condition || condition.Matches(lead, item.History, now));
        return new SequenceBranched
        {
            LeadId = item.Entry.LeadId, OccurredAt = now, Sequence = item.Definition.Key, Enrolment = item.Entry.Enrolment, Step = step.Key,
            Path = holds ? SequenceBranched.ThenPath : SequenceBranched.ElsePath,
        };
    }

    /// <summary>Reserves the lead-days of the capped sends in one call, in claim order; a loser is deferred to the next local day.</summary>
    /// <remarks>
    /// The cap is a compare-and-set reservation of the lead's local day, so two dispatchers (or two entries of one lead
    /// in this batch) cannot both pass it. Anchored steps (webinar reminders) take the day when it is free but are
    /// never deferred.
    /// </remarks>
    private async Task ReserveDaysAsync(List<BatchItem> capped, Instant now, List<(OutboxEntry, OutboxEntry)> decided, Tally tally, CancellationToken cancellationToken)
    {
        ImmutableArray<string> won = await settings.Enrolments.TryReserveDaysAsync(
            [.. capped.Select(i => (i.Entry.LeadId, now.InZone(i.Zone).Date, i.Entry.Key))],
            cancellationToken).ConfigureAwait(false);
        HashSet<string> reserved = new(won, StringComparer.Ordinal);
        foreach (BatchItem item in capped)
        {
            SequenceStep step = item.Step;
            if (reserved.Contains(item.Entry.Key) || step.Timing == StepTiming.RelativeToAnchor)
            {
                continue;
            }

            DateTimeZone zone = item.Zone;
            LocalDate tomorrow = now.InZone(zone).Date.PlusDays(1);
            Instant nextDay = Max(now, zone.AtStartOfDay(tomorrow).ToInstant());
            // A broadcast sent at one instant keeps its local time of day when deferred, rather than going out at midnight.
            LocalTime? sendAt = step.SendAt ?? (item.Broadcast is null ? null : item.Entry.ScheduledFor.InZone(zone).TimeOfDay);
            Instant deferred = SendTimes.Next(nextDay, zone, sendAt, step.Days, item.Definition.QuietHours);
            decided.Add((item.Entry, item.Entry with { State = SendState.Pending, DueAt = deferred, ScheduledFor = deferred, ClaimedBy = null, Reason = "Deferred by the frequency cap.", Events = [] }));
            item.Decision = Decision.Done;
            tally.Deferred++;
        }
    }

    /// <summary>Sends with bounded concurrency, starting each send only while the lease has its safety margin left.</summary>
    private async Task SendAllAsync(List<BatchItem> sends, OutboxCoalescer coalescer, Tally tally, CancellationToken cancellationToken)
    {
        if (sends.Count == 0)
        {
            return;
        }

        SequenceOptions options = settings.Options;
        using SemaphoreSlim slots = new(options.SendConcurrency, options.SendConcurrency);
        List<Task> running = new(sends.Count);
        for (int i = 0; i < sends.Count; i++)
        {
            await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested || coalescer.Failed)
            {
                // Cancelled, or the outcomes can no longer be stored: start nothing more. The rest stay claimed and
                // are due again after the lease.
                slots.Release();
                break;
            }

            Instant at = settings.Clock.GetCurrentInstant();
            if (at >= sends[i].Entry.DueAt - options.LeaseSafetyMargin)
            {
                // Too close to the end of the lease: another dispatcher could claim these while they are being sent.
                // Release them for the next dispatch instead (due at once, attempts unchanged).
                slots.Release();
                List<(OutboxEntry, OutboxEntry)> released = new(sends.Count - i);
                for (int j = i; j < sends.Count; j++)
                {
                    OutboxEntry entry = sends[j].Entry;
                    released.Add((entry, entry with { State = entry.Attempts > 0 ? SendState.FailedTransient : SendState.Pending, DueAt = at, ClaimedBy = null, Events = [] }));
                }

                tally.Released += released.Count;
                coalescer.AddRange(released);
                break;
            }

            running.Add(SendOneAsync(sends[i], slots, coalescer, tally, cancellationToken));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Renders and sends one message, then queues its outcome (or its retry) for the coalescer.</summary>
    private async Task SendOneAsync(BatchItem item, SemaphoreSlim slots, OutboxCoalescer coalescer, Tally tally, CancellationToken cancellationToken)
    {
        try
        {
            if (!item.Step.IsEmail)
            {
                await SendAutomationAsync(item, coalescer, tally, cancellationToken).ConfigureAwait(false);
                return;
            }

            OutboxEntry entry = item.Entry;
            SequenceStep step = item.Step;
            // Sticky: a pure function of the step's test key and the lead, so a retry or another instance picks the same.
            EmailVariant? variant = EmailVariants.Assign(EmailVariants.TestKey(item.Definition.Key, step.Key), entry.LeadId, step.Variants);
            if (item.Broadcast is { Test.Winner: { } winner, Definition.WinnerTest: { } test } broadcast && !test.IsInTestGroup(broadcast.Key, entry.LeadId))
            {
                // A tested broadcast sends its winner to everyone outside the test group.
                variant = step.Variants.FirstOrDefault(v => v.Key == winner) ?? variant;
            }
            else if (item.TestWinner is { } stepWinner)
            {
                // A sequence email whose winner test is decided sends its winner to every lead after the decision.
                variant = step.Variants.FirstOrDefault(v => v.Key == stepWinner) ?? variant;
            }

            EmailSendResult result;
            try
            {
                // Rendering is inside the try: a template engine that throws must record a failure, not abort the batch
                // and leave the entry to be claimed (and throw) again after every lease.
                EmailMessage message = Render(item.Definition, step, variant, item.Lead!, entry, item.Enrolment);
                result = await settings.Sender.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The dispatch is being cancelled and this send's fate is unknown: it stays claimed and is sent again
                // after the lease, with the same idempotency key.
                item.Decision = Decision.Done;
                return;
            }
            catch (Exception e)
            {
                // A cancellation we did not ask for (an HTTP client's timeout) is a failed send like any other.
                result = EmailSendResult.Transient(e.GetType().Name + ": " + e.Message);
            }

            Instant at = settings.Clock.GetCurrentInstant();
            int attempt = entry.Attempts + 1;
            // A bounce updates the lead before its outcome is recorded, so the lead is suppressed even after a crash. Not
            // cancellable, like the outcome: the send was made, and a cancelled dispatch must still record it.
            EmailBounced? bounced = await ApplyBounceAsync(item, result, at, CancellationToken.None).ConfigureAwait(false);
            switch (result.Status)
            {
                case EmailSendStatus.Sent:
                    Interlocked.Increment(ref tally.Sent);
                    EmailSent sentEvent = new() { LeadId = entry.LeadId, OccurredAt = at, Email = step.Key, Variant = variant?.Key };
                    coalescer.Add(Outcome(item, Done(entry, SendState.Sent, at, null) with { Attempts = attempt, MessageId = result.MessageId }, [sentEvent], sent: true));
                    break;
                case EmailSendStatus.TransientFailure when attempt < settings.Options.MaxAttempts:
                    Interlocked.Increment(ref tally.Failed);
                    EmailFailed retry = new() { LeadId = entry.LeadId, OccurredAt = at, Email = step.Key, Variant = variant?.Key, Permanent = false, Attempt = attempt, Error = result.Error ?? "transient failure" };
                    // A retry keeps out of the quiet hours like the first attempt (anchored steps, which ignore them, excepted).
                    Instant retryAt = step.Timing == StepTiming.RelativeToAnchor || item.Definition.QuietHours is null
                        ? at + Backoff(attempt)
                        : SendTimes.Next(at + Backoff(attempt), item.Zone, quietHours: item.Definition.QuietHours);
                    item.Decision = Decision.Done;
                    coalescer.Add((entry, entry with { State = SendState.FailedTransient, Attempts = attempt, DueAt = retryAt, ClaimedBy = null, Reason = result.Error, Events = WithBounce(retry, bounced) }));
                    break;
                default:
                    Interlocked.Increment(ref tally.Failed);
                    string error = result.Error ?? "permanent failure";
                    EmailFailed failed = new() { LeadId = entry.LeadId, OccurredAt = at, Email = step.Key, Variant = variant?.Key, Permanent = true, Attempt = attempt, Error = error };
                    coalescer.Add(Outcome(item, Done(entry, SendState.FailedPermanent, at, error) with { Attempts = attempt }, WithBounce(failed, bounced), sent: false));
                    break;
            }
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Sends a <see cref="NotifySeller"/> email or posts a <see cref="CallWebhook"/> request, then queues its outcome (or its retry) as for an email.</summary>
    private async Task SendAutomationAsync(BatchItem item, OutboxCoalescer coalescer, Tally tally, CancellationToken cancellationToken)
    {
        OutboxEntry entry = item.Entry;
        SequenceStep step = item.Step;
        bool delivered;
        bool transient;
        string? error;
        FunnelEvent? recorded = null;
        int attempt = entry.Attempts + 1;
        try
        {
            if (step.Action is NotifySeller notify)
            {
                EmailSendResult result = await settings.Sender.SendAsync(RenderSellerNotice(item.Definition, step, notify, item.Lead!, entry, item.Enrolment), cancellationToken).ConfigureAwait(false);
                (delivered, transient, error) = (result.Status == EmailSendStatus.Sent, result.Status == EmailSendStatus.TransientFailure, result.Error);
                Instant at = settings.Clock.GetCurrentInstant();
                recorded = delivered ? new SellerNotified { LeadId = entry.LeadId, OccurredAt = at, Sequence = item.Definition.Key, Enrolment = entry.Enrolment, Step = step.Key } : null;
            }
            else
            {
                CallWebhook call = (CallWebhook)step.Action!;
                Funnel.Webhooks.WebhookCallResult result = await settings.Webhooks!.PostAsync(Webhook(item, call), cancellationToken).ConfigureAwait(false);
                (delivered, transient, error) = (result.Status == Funnel.Webhooks.WebhookCallStatus.Delivered, result.Status == Funnel.Webhooks.WebhookCallStatus.TransientFailure, result.Error);
                Instant at = settings.Clock.GetCurrentInstant();
                recorded = delivered
                    ? new AutomationWebhookCalled { LeadId = entry.LeadId, OccurredAt = at, Sequence = item.Definition.Key, Enrolment = entry.Enrolment, Step = step.Key, Url = call.Url.AbsoluteUri, StatusCode = result.StatusCode ?? 200, Attempt = attempt }
                    : null;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            item.Decision = Decision.Done; // unknown fate: stays claimed and is sent again after the lease, with the same key.
            return;
        }
        catch (Exception e)
        {
            (delivered, transient, error) = (false, true, e.GetType().Name + ": " + e.Message);
        }

        Instant now = settings.Clock.GetCurrentInstant();
        if (delivered)
        {
            Interlocked.Increment(ref tally.Performed);
            coalescer.Add(Outcome(item, Done(entry, SendState.Done, now, null) with { Attempts = attempt }, [recorded!], sent: false));
        }
        else if (transient && attempt < settings.Options.MaxAttempts)
        {
            Interlocked.Increment(ref tally.Failed);
            item.Decision = Decision.Done;
            coalescer.Add((entry, entry with { State = SendState.FailedTransient, Attempts = attempt, DueAt = now + Backoff(attempt), ClaimedBy = null, Reason = error ?? "transient failure", Events = [] }));
        }
        else
        {
            // Recorded and retryable by hand (the entry keeps its reason); the sequence goes on without it.
            Interlocked.Increment(ref tally.Failed);
            coalescer.Add(Outcome(item, Done(entry, SendState.FailedPermanent, now, error ?? "permanent failure") with { Attempts = attempt }, [], sent: false));
        }
    }

    /// <summary>Returns the signed request of a <see cref="CallWebhook"/> step: the same body on every attempt, signed at the attempt.</summary>
    private Funnel.Webhooks.OutgoingWebhook Webhook(BatchItem item, CallWebhook call)
    {
        OutboxEntry entry = item.Entry;
        LeadProfile lead = item.Lead!;
        System.Buffers.ArrayBufferWriter<byte> buffer = new(512);
        using (System.Text.Json.Utf8JsonWriter json = new(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", entry.Key);
            json.WriteString("type", "automation.step");
            json.WriteString("sequence", item.Definition.Key);
            json.WriteString("step", item.Step.Key);
            json.WriteString("enrolment", entry.Enrolment.ToString());
            json.WriteString("occurredAt", NodaTime.Text.InstantPattern.ExtendedIso.Format(entry.ScheduledFor));
            json.WriteStartObject("lead");
            json.WriteString("id", lead.Id.ToString());
            json.WriteString("email", lead.Email.Value);
            json.WriteString("stage", lead.Stage.ToKey());
            json.WriteNumber("score", lead.Score);
            json.WriteStartArray("tags");
            foreach (string tag in lead.Tags)
            {
                json.WriteStringValue(tag);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return new Funnel.Webhooks.OutgoingWebhook
        {
            Url = call.Url,
            Body = buffer.WrittenMemory,
            IdempotencyKey = entry.Key,
            Signature = Funnel.Webhooks.WebhookSignature.Sign(settings.Options.WebhookSigningSecret!, settings.Clock.GetCurrentInstant(), buffer.WrittenSpan),
        };
    }

    /// <summary>Returns the compare-and-set that records an outcome and its events while the entry is still claimed, and remembers the final state for the follow-up work.</summary>
    private static (OutboxEntry Current, OutboxEntry Replacement) Outcome(BatchItem item, OutboxEntry final, ImmutableArray<FunnelEvent> events, bool sent)
    {
        OutboxEntry entry = item.Entry;
        OutboxEntry outcome = final with { State = SendState.Sending, DueAt = entry.DueAt, ClaimedBy = entry.ClaimedBy, Outcome = final.State, Events = events };
        item.Recorded = outcome with { Version = entry.Version + 1 };
        item.Final = final;
        item.Sent = sent;
        item.Decision = Decision.Outcome;
        return (entry, outcome);
    }

    /// <summary>Updates the enrolments as one set, then schedules the next steps and records the final states in one outbox call.</summary>
    /// <remarks>
    /// Each write is safe to repeat after a crash: the enrolment changes are idempotent, the next steps are added only
    /// if absent, and the final state is a compare-and-set on the version that recorded the outcome. A dispatcher that
    /// claims an entry with an outcome resumes here. A next step added after its enrolment ended meanwhile is
    /// cancelled when it is claimed, as every send of an ended enrolment is.
    /// </remarks>
    private async Task FinishAllAsync(List<BatchItem> finish, Instant now, List<FunnelEvent>? recorded, CancellationToken cancellationToken)
    {
        List<OutboxEntry> next = [];
        HashSet<string> keys = new(StringComparer.Ordinal);
        List<OutboxEntry> steps = [];
        foreach (BatchItem item in finish)
        {
            item.SentAt = item.Final!.CompletedAt ?? now;
            if (item.Broadcast is not null)
            {
                continue; // a broadcast is one email with no enrolment: only its final state is written.
            }

            steps.Clear();
            // A branch goes on with the path it recorded (in the final state's reason), never re-evaluated. A step that
            // sends no email takes no time of the lead's: the next step counts from its slot, not from when the dispatcher
            // got to it, so "day 3 at 09:00" after a day-3 branch is still that morning, not the next.
            int following = item.Plan.Next(item.Entry.StepIndex, then: item.Final.Reason == SequenceBranched.ThenPath);
            Instant done = item.Step.IsEmail ? item.SentAt : Min(item.Entry.ScheduledFor, item.SentAt);
            item.Completes = ScheduleEntries(steps, item.Enrolment!, item.Definition, item.Plan, following, item.Entry.ScheduledFor, done, item.Zone);
            next.AddRange(steps.Where(e => keys.Add(e.Key)));
        }

        Dictionary<EnrolmentId, Enrolment?> enrolments = await UpdateEnrolmentsAsync([.. finish.Where(static i => i.Broadcast is null)], cancellationToken).ConfigureAwait(false);

        // Only an entry's finish completes an enrolment, so "completed" here is ours even when a crashed predecessor
        // stored it; the final compare-and-set records the event once (one per enrolment in a batch).
        HashSet<EnrolmentId> completed = [];
        List<(OutboxEntry, OutboxEntry)> finals = new(finish.Count);
        foreach (BatchItem item in finish)
        {
            EnrolmentId id = item.Entry.Enrolment;
            bool completedIt = item.Completes && enrolments.GetValueOrDefault(id) is { Status: EnrolmentStatus.Completed } && completed.Add(id);
            ImmutableArray<FunnelEvent> last = completedIt
                ? [new SequenceCompleted { LeadId = item.Entry.LeadId, OccurredAt = item.SentAt, Sequence = item.Definition.Key, Enrolment = id }]
                : [];
            OutboxEntry final = item.Final!;
            finals.Add((item.Recorded!, final with { Outcome = final.State, Events = last }));
        }

        // The next steps and the final states in one call (one commit on a database store).
        ImmutableArray<string> won = await settings.Outbox.TryAddAndUpdateManyAsync(next, finals, cancellationToken).ConfigureAwait(false);
        if (recorded is not null)
        {
            OutboxCoalescer.AddRecorded(recorded, finals, won.ToHashSet(StringComparer.Ordinal));
        }
    }

    /// <summary>Applies the batch's changes to its enrolments as one set, re-reading and retrying only those that changed meanwhile.</summary>
    /// <returns>Each enrolment as now stored (<see langword="null"/> when it no longer exists).</returns>
    private async Task<Dictionary<EnrolmentId, Enrolment?>> UpdateEnrolmentsAsync(List<BatchItem> finish, CancellationToken cancellationToken)
    {
        // Two entries of one enrolment can meet in a batch (a recovered one and its successor): their changes compose.
        Dictionary<EnrolmentId, (BatchItem First, BatchItem Last)> byEnrolment = new(finish.Count);
        Dictionary<EnrolmentId, Enrolment?> current = new(finish.Count);
        foreach (BatchItem item in finish)
        {
            EnrolmentId id = item.Entry.Enrolment;
            if (byEnrolment.TryGetValue(id, out (BatchItem First, BatchItem Last) items))
            {
                items.Last.NextOfEnrolment = item;
                byEnrolment[id] = (items.First, item);
            }
            else
            {
                byEnrolment[id] = (item, item);
                current[id] = item.Enrolment; // as read for the batch; re-read only when the compare-and-set loses.
            }
        }

        Dictionary<EnrolmentId, Enrolment?> stored = [];
        for (int attempt = 1; ; attempt++)
        {
            List<(Enrolment Current, Enrolment Replacement)> updates = [];
            foreach ((EnrolmentId id, Enrolment? enrolment) in current)
            {
                Enrolment? next = enrolment is null ? null : Apply(enrolment, byEnrolment[id].First);
                if (next is null || next == enrolment)
                {
                    stored[id] = enrolment;
                }
                else
                {
                    updates.Add((enrolment!, next));
                }
            }

            if (updates.Count == 0)
            {
                return stored;
            }

            HashSet<EnrolmentId> won = [.. await settings.Enrolments.TryUpdateManyAsync(updates, cancellationToken).ConfigureAwait(false)];
            List<(Enrolment Current, Enrolment Replacement)> lost = [];
            foreach ((Enrolment before, Enrolment after) in updates)
            {
                if (won.Contains(before.Id))
                {
                    stored[before.Id] = after with { Version = before.Version + 1 };
                }
                else
                {
                    lost.Add((before, after));
                }
            }

            if (lost.Count == 0)
            {
                return stored;
            }

            if (attempt >= OptimisticConcurrency.MaxAttempts)
            {
                throw new InvalidOperationException($"Enrolment {lost[0].Current.Id} kept changing under {OptimisticConcurrency.MaxAttempts} concurrent updates; try again.");
            }

            Dictionary<EnrolmentId, Enrolment> fresh = [];
            foreach (Enrolment enrolment in await settings.Enrolments.ListForLeadsAsync([.. lost.Select(static l => l.Current.LeadId).Distinct()], cancellationToken).ConfigureAwait(false))
            {
                fresh[enrolment.Id] = enrolment;
            }

            current = lost.ToDictionary(static l => l.Current.Id, l => fresh.GetValueOrDefault(l.Current.Id));
        }
    }

    /// <summary>Returns the enrolment after the finishes of its entries: the last send instant, and completion when no step is left.</summary>
    private static Enrolment Apply(Enrolment current, BatchItem first)
    {
        Enrolment next = current;
        for (BatchItem? item = first; item is not null; item = item.NextOfEnrolment)
        {
            bool complete = item.Completes && next.Status == EnrolmentStatus.Active;
            Instant at = item.SentAt;
            next = next with
            {
                LastSentAt = item.Sent && (next.LastSentAt is null || next.LastSentAt < at) ? at : next.LastSentAt,
                Status = complete ? EnrolmentStatus.Completed : next.Status,
                EndedAt = complete ? at : next.EndedAt,
            };
        }

        return next == current ? current : next;
    }

    /// <summary>Returns the final state of an entry whose outcome a crashed dispatcher recorded.</summary>
    private static OutboxEntry Recovered(OutboxEntry entry, SendState outcome, Instant now) =>
        entry with { State = outcome, ClaimedBy = null, CompletedAt = entry.CompletedAt ?? now, Events = [] };

    /// <summary>What the dispatch does with a claimed entry.</summary>
    private enum Decision
    {
        /// <summary>Written among the decided updates (or left claimed); nothing follows.</summary>
        Done,

        /// <summary>To send (after its reservation, when capped).</summary>
        Send,

        /// <summary>Its outcome is queued; the follow-up work runs if the outcome is stored.</summary>
        Outcome,

        /// <summary>Its outcome was stored by a crashed dispatcher; only the follow-up work runs.</summary>
        Finish,
    }

    /// <summary>One claimed entry and what the batch knows and decided about it.</summary>
    private sealed class BatchItem(OutboxEntry entry, SequenceDefinition definition, SequencePlan plan)
    {
        public OutboxEntry Entry { get; } = entry;

        public SequenceDefinition Definition { get; } = definition;

        public SequencePlan Plan { get; } = plan;

        public SequenceStep Step => Plan.Steps[Entry.StepIndex];

        /// <summary>Gets or sets the lead's events, read for a due branch's condition.</summary>
        public IReadOnlyCollection<FunnelEvent> History { get; set; } = [];

        /// <summary>Gets or sets whether the lead is in a due branch's <see cref="SequenceStep.IfInSegment"/> (always <see langword="true"/> without one).</summary>
        public bool InBranchSegment { get; set; } = true;

        /// <summary>Gets or sets the decided winner of the step's automatic winner test, which the lead gets instead of their sticky variant.</summary>
        public string? TestWinner { get; set; }

        public Enrolment? Enrolment { get; set; }

        /// <summary>Gets the broadcast when the entry is a broadcast's send (it then has no enrolment).</summary>
        public Broadcast? Broadcast { get; init; }

        /// <summary>Gets or sets whether the lead is still in the broadcast's segment (always <see langword="true"/> for a sequence's send).</summary>
        public bool InSegment { get; set; } = true;

        public LeadProfile? Lead { get; set; }

        public DateTimeZone Zone { get; set; } = DateTimeZone.Utc;

        public Decision Decision { get; set; }

        /// <summary>Gets or sets the entry as stored with its outcome (the version the final compare-and-set expects).</summary>
        public OutboxEntry? Recorded { get; set; }

        /// <summary>Gets or sets the final state, without its events.</summary>
        public OutboxEntry? Final { get; set; }

        public bool Sent { get; set; }

        public Instant SentAt { get; set; }

        /// <summary>Gets or sets whether no step is left after this one.</summary>
        public bool Completes { get; set; }

        /// <summary>Gets or sets the next item of the batch with the same enrolment, if any.</summary>
        public BatchItem? NextOfEnrolment { get; set; }
    }

    private sealed class Tally
    {
        public int Sent;
        public int Failed;
        public int Suppressed;
        public int Skipped;
        public int Deferred;
        public int Cancelled;
        public int Released;
        public int Performed;
    }
}
