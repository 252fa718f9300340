using System.Collections.Frozen;
using System.Collections.Immutable;
using FluentValidation.Results;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Sequences;

/// <summary>What a <see cref="SequenceEngine"/> works with: definitions, stores, sender, renderer, clock, zones and options.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record SequenceEngineSettings
{
    /// <summary>Gets the sequence definitions; keys must be unique.</summary>
    public required ImmutableArray<SequenceDefinition> Definitions { get; init; }

    /// <summary>Gets the enrolment store.</summary>
    public required IEnrolmentStore Enrolments { get; init; }

    /// <summary>Gets the outbox.</summary>
    public required ISendOutbox Outbox { get; init; }

    /// <summary>Gets the lead store, read for time zones, suppression, tags and fields.</summary>
    public required ILeadStore Leads { get; init; }

    /// <summary>Gets the email sender.</summary>
    public required IEmailSender Sender { get; init; }

    /// <summary>Gets the event log the engine appends the events it causes to.</summary>
    /// <remarks>
    /// <c>AddFunnelSequences()</c> passes the registered <see cref="IFunnelEventLog"/>; a test that builds the engine
    /// directly passes an <see cref="InMemoryFunnelEventLog"/> and reads what was recorded there.
    /// </remarks>
    public required IFunnelEventLog EventLog { get; init; }

    /// <summary>Gets the clock.</summary>
    public required IClock Clock { get; init; }

    /// <summary>Gets the template renderer.</summary>
    /// <value>Defaults to <see cref="PlaceholderTemplateRenderer.Instance"/>.</value>
    public ITemplateRenderer Renderer { get; init; } = PlaceholderTemplateRenderer.Instance;

    /// <summary>Gets the time zone provider for the leads' zone ids.</summary>
    /// <value>Defaults to <see cref="DateTimeZoneProviders.Tzdb"/>.</value>
    public IDateTimeZoneProvider TimeZones { get; init; } = DateTimeZoneProviders.Tzdb;

    /// <summary>Gets the zone of leads with no (or an unknown) time zone, usually the business zone.</summary>
    /// <value>Defaults to UTC.</value>
    public DateTimeZone DefaultZone { get; init; } = DateTimeZone.Utc;

    /// <summary>Gets the email topics a definition's <see cref="SequenceDefinition.Topic"/> may name.</summary>
    /// <value>Defaults to none; at most 30. <c>AddFunnelSequences()</c> passes the registered <see cref="EmailTopic"/>s.</value>
    public ImmutableArray<EmailTopic> Topics { get; init; } = [];

    /// <summary>Gets the broadcast store, read for the broadcast sends the dispatcher claims.</summary>
    /// <value>Defaults to <see langword="null"/>: a broadcast send then fails for good, naming the missing store. <c>AddFunnelSequences()</c> passes the registered one.</value>
    public IBroadcastStore? Broadcasts { get; init; }

    /// <summary>Gets the segment membership store, read to check that a broadcast's lead is still in its segment when the send comes due.</summary>
    /// <value>Defaults to <see langword="null"/>: every lead a broadcast was queued for is sent it. <c>AddFunnelSequences()</c> passes the registered one.</value>
    public Funnel.Segments.ISegmentMembershipStore? Segments { get; init; }

    /// <summary>Gets the client that posts the outgoing webhooks of <see cref="CallWebhook"/> steps.</summary>
    /// <value>Defaults to <see langword="null"/>; required when a sequence has a <see cref="CallWebhook"/> step. <c>AddFunnelSequences()</c> passes the registered one (<c>AddFunnelHttpWebhooks()</c>).</value>
    public Funnel.Webhooks.IOutgoingWebhookClient? Webhooks { get; init; }

    /// <summary>Gets the store of the sequence emails' automatic winner tests (<see cref="SequenceStep.WinnerTest"/>).</summary>
    /// <value>Defaults to <see langword="null"/>; required when a step has a winner test. <c>AddFunnelSequences()</c> passes the registered one.</value>
    public ISequenceTestStore? Tests { get; init; }

    /// <summary>Gets what names the winner of a sequence email's automatic winner test.</summary>
    /// <value>Defaults to <see langword="null"/>; required when a step has a winner test. <c>AddFunnelSequences()</c> passes the registered one (<c>AddFunnelAnalytics()</c>).</value>
    public IVariantWinnerSelector? Winners { get; init; }

    /// <summary>Gets the dispatch options.</summary>
    /// <value>Defaults to new <see cref="SequenceOptions"/>.</value>
    public SequenceOptions Options { get; init; } = new();

    /// <summary>Gets the id this engine claims outbox entries with; unique per running dispatcher.</summary>
    /// <value>Defaults to a new GUID.</value>
    public string DispatcherId { get; init; } = Guid.NewGuid().ToString("N");
}

/// <summary>What one <see cref="SequenceEngine.DispatchDueAsync"/> did, with the events it recorded.</summary>
/// <param name="Claimed">The due sends claimed (including those a crashed dispatcher had recorded an outcome for, which are only finished).</param>
/// <param name="Sent">The emails the server accepted.</param>
/// <param name="Failed">The failed sends (transient and permanent).</param>
/// <param name="Suppressed">The sends suppressed for the lead's status.</param>
/// <param name="Skipped">The steps skipped by their conditions.</param>
/// <param name="Deferred">The sends deferred by the frequency cap.</param>
/// <param name="Cancelled">The sends cancelled because their enrolment had ended.</param>
/// <param name="Events">The events this call recorded (<c>email_sent</c>, <c>email_failed</c>, <c>email_suppressed</c>, <c>sequence_completed</c>: this batch's and any left in the outbox by earlier, crashed batches). They are already in the <see cref="IFunnelEventLog"/>: do not append them again.</param>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record DispatchResult(int Claimed, int Sent, int Failed, int Suppressed, int Skipped, int Deferred, int Cancelled, ImmutableArray<FunnelEvent> Events)
{
    /// <summary>Gets the claimed sends that were not started because less than <see cref="SequenceOptions.LeaseSafetyMargin"/> of the lease was left; they were released, due at once.</summary>
    /// <value>Defaults to 0.</value>
    public int Released { get; init; }

    /// <summary>Gets the steps that send no email to the lead and were carried out: branches evaluated, actions recorded, seller notifications and webhooks delivered.</summary>
    /// <value>Defaults to 0.</value>
    public int Performed { get; init; }
}

/// <summary>Enrols leads in sequences on funnel events, ends enrolments on exit goals, and dispatches the due emails exactly once.</summary>
/// <remarks>
/// <para>
/// <c>AddFunnelSequences()</c> feeds every logged funnel event to <see cref="HandleAsync"/> through the pipeline, and
/// <c>AddFunnelSequenceDispatcher()</c> calls <see cref="DispatchDueAsync"/> on a timer from one or more processes. Each send is an <see cref="OutboxEntry"/> keyed by (enrolment, step): a
/// dispatcher claims a batch of due entries with a lease, works it as sets (reads, day reservations, outcomes, next
/// steps, enrolments and final states, each one store call or a few), sends with bounded concurrency, and records
/// each result by compare-and-set, so concurrent dispatchers never both send an entry and a crashed dispatcher's
/// claims are sent by another after the lease.
/// </para>
/// <para>
/// One window remains, as in every system that talks to SMTP: if a process dies after the server accepted a message but
/// before the outcome flush that follows recorded it, the message is sent again after the lease with the same
/// idempotency key (the SMTP adapter makes it the same <c>Message-ID</c>, so receivers and tests can drop the
/// duplicate). No send is lost; sending is at-least-once at the transport and exactly-once in the records.
/// </para>
/// <para>
/// The engine records its own events: every event it causes is appended to the
/// <see cref="SequenceEngineSettings.EventLog"/> right after the state change that caused it, and a result's
/// <c>Events</c> only tell you what was recorded. The dispatch events are part of the send records: each is stored in
/// the outbox together with the state change it reports and moved into the event log (by
/// <see cref="DispatchDueAsync"/> or <see cref="DrainEventsAsync"/>), acknowledged only after the append, so a crash
/// at any point loses no event and records none twice.
/// </para>
/// </remarks>
/// <threadsafety>All members are thread-safe; run as many engines over the same stores as you like.</threadsafety>
public sealed partial class SequenceEngine
{
    private const int MinEventsPerDispatch = 1000;

    /// <summary>The most email topics: the preference centre shows a checkbox per topic.</summary>
    private const int MaxTopics = 30;
    private readonly SequenceEngineSettings settings;
    private readonly FrozenDictionary<string, SequenceDefinition> definitions;
    private readonly FrozenDictionary<string, SequencePlan> plans;
    private readonly TrackingLinks? tracking;

    /// <summary>The email steps with an automatic winner test, by step key (unique among them across sequences).</summary>
    private readonly FrozenDictionary<string, TestedStep> testedSteps;

    /// <summary>Initializes the engine and validates the definitions and options.</summary>
    /// <param name="settings">The settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> or one of its services is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A definition or option is invalid, or two definitions share a key; the message names them.</exception>
    public SequenceEngine(SequenceEngineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(settings.Enrolments, "settings.Enrolments");
        ArgumentNullException.ThrowIfNull(settings.Outbox, "settings.Outbox");
        ArgumentNullException.ThrowIfNull(settings.Leads, "settings.Leads");
        ArgumentNullException.ThrowIfNull(settings.Sender, "settings.Sender");
        ArgumentNullException.ThrowIfNull(settings.Clock, "settings.Clock");
        ArgumentNullException.ThrowIfNull(settings.Renderer, "settings.Renderer");
        ArgumentNullException.ThrowIfNull(settings.TimeZones, "settings.TimeZones");
        ArgumentNullException.ThrowIfNull(settings.DefaultZone, "settings.DefaultZone");
        ArgumentNullException.ThrowIfNull(settings.Options, "settings.Options");
        if (settings.Definitions.IsDefault)
        {
            throw new ArgumentException("The definitions must not be default.", nameof(settings));
        }

        if (settings.Outbox.EventLog is { } outboxLog && !ReferenceEquals(outboxLog, settings.EventLog))
        {
            throw new ArgumentException(
                $"settings.Outbox ({settings.Outbox.GetType().Name}) writes the dispatch events into its own event log ({outboxLog.GetType().Name}), "
                + $"not into settings.EventLog ({settings.EventLog?.GetType().Name ?? "null"}): give the engine the outbox's event log, or an outbox that keeps its events.",
                nameof(settings));
        }

        ValidationResult options = new SequenceOptionsValidator().Validate(settings.Options);
        if (!options.IsValid)
        {
            throw new ArgumentException("Invalid sequence options: " + string.Join(" ", options.Errors.Select(e => $"{e.PropertyName}: {e.ErrorMessage}")), nameof(settings));
        }

        if (settings.Topics.IsDefault)
        {
            throw new ArgumentException("The topics must not be default.", nameof(settings));
        }

        if (settings.Topics.Length > MaxTopics)
        {
            throw new ArgumentException($"{settings.Topics.Length} email topics are registered; at most {MaxTopics} are allowed (the preference centre shows one checkbox per topic).", nameof(settings));
        }

        EmailTopicValidator topicValidator = new();
        HashSet<string> topicKeys = new(StringComparer.Ordinal);
        foreach (EmailTopic topic in settings.Topics)
        {
            ArgumentNullException.ThrowIfNull(topic, "settings.Topics[]");
            ValidationResult result = topicValidator.Validate(topic);
            if (!result.IsValid)
            {
                throw new ArgumentException($"Email topic '{topic.Key}' is invalid: " + string.Join(" ", result.Errors.Select(e => e.ErrorMessage)), nameof(settings));
            }

            if (!topicKeys.Add(topic.Key))
            {
                throw new ArgumentException($"Two email topics have the key '{topic.Key}'.", nameof(settings));
            }
        }

        SequenceDefinitionValidator validator = new(settings.Renderer);
        Dictionary<string, SequenceDefinition> byKey = new(StringComparer.Ordinal);
        foreach (SequenceDefinition definition in settings.Definitions)
        {
            ArgumentNullException.ThrowIfNull(definition, "settings.Definitions[]");
            ValidationResult result = validator.Validate(definition);
            if (!result.IsValid)
            {
                throw new ArgumentException($"Sequence '{definition.Key}' is invalid: " + string.Join(" ", result.Errors.Select(e => e.ErrorMessage)), nameof(settings));
            }

            if (definition.TrackClicks && settings.Options.Tracking is null)
            {
                throw new ArgumentException($"Sequence '{definition.Key}' has TrackClicks set but the options have no Tracking.", nameof(settings));
            }

            if (definition.Topic is { } topic && !settings.Topics.Any(t => t.Key == topic))
            {
                throw new ArgumentException($"Sequence '{definition.Key}' has the topic '{topic}', which is not registered: add services.AddSingleton(new EmailTopic {{ Key = \"{topic}\", Title = \"…\" }}).", nameof(settings));
            }

            if (!byKey.TryAdd(definition.Key, definition))
            {
                throw new ArgumentException($"Two sequences have the key '{definition.Key}'.", nameof(settings));
            }
        }

        Dictionary<string, SequencePlan> laidOut = byKey.ToDictionary(static d => d.Key, static d => SequencePlan.Of(d.Value), StringComparer.Ordinal);
        foreach ((string key, SequencePlan plan) in laidOut)
        {
            CheckAutomation(settings, key, plan, byKey);
        }

        testedSteps = TestedSteps(settings, laidOut);
        this.settings = settings;
        definitions = byKey.ToFrozenDictionary(StringComparer.Ordinal);
        plans = laidOut.ToFrozenDictionary(StringComparer.Ordinal);
        tracking = settings.Options.Tracking is null ? null : new TrackingLinks(settings.Options.Tracking);
    }

    /// <summary>Checks that what a sequence's actions and branches need is there: the sequences they name, the seller's address, the webhook client and secret, the membership store.</summary>
    private static void CheckAutomation(SequenceEngineSettings settings, string key, SequencePlan plan, Dictionary<string, SequenceDefinition> byKey)
    {
        foreach (SequenceStep step in plan.Steps)
        {
            string at = $"Sequence '{key}' step '{step.Key}'";
            string? problem = step.Action switch
            {
                EnrolInSequence { Sequence: var target } when !byKey.ContainsKey(target) => $"{at} enrols in the sequence '{target}', which is not registered.",
                ExitSequence { Sequence: var target } when !byKey.ContainsKey(target) => $"{at} exits the sequence '{target}', which is not registered.",
                NotifySeller when settings.Options.SellerEmail is null => $"{at} notifies the seller, but SequenceOptions.SellerEmail is not set.",
                CallWebhook when settings.Webhooks is null => $"{at} calls a webhook, but no outgoing webhook client is registered: call services.AddFunnelHttpWebhooks() (Funnel.Hosting).",
                CallWebhook when settings.Options.WebhookSigningSecret is null => $"{at} calls a webhook, but SequenceOptions.WebhookSigningSecret is not set.",
                _ when step.IfInSegment is not null && settings.Segments is null => $"{at} branches on the segment '{step.IfInSegment}', but there is no segment membership store.",
                _ => null,
            };
            if (problem is not null)
            {
                throw new ArgumentException(problem, nameof(settings));
            }
        }
    }

    /// <summary>Ends the lead's enrolments whose exit goals the event matches, starts those waiting for its consent, then enrols the lead in the sequences it triggers.</summary>
    /// <remarks>
    /// <para>
    /// The <c>sequences</c> pipeline handler that <c>AddFunnelSequences()</c> registers calls this for every logged
    /// event; call it yourself only when you run the engine without the pipeline. The events it causes
    /// (<c>sequence_exited</c>, <c>sequence_enrolled</c>, <c>sequence_completed</c>) are appended to the
    /// <see cref="SequenceEngineSettings.EventLog"/> with ids derived from <paramref name="funnelEvent"/>'s id, and the
    /// enrolments it creates take ids derived from it too, so handling the same event again enrols, schedules and
    /// records nothing twice.
    /// </para>
    /// <para>
    /// The enrolment instant is the event's <see cref="FunnelEvent.OccurredAt"/>; a <see cref="WebinarRegistered"/>
    /// with <see cref="WebinarRegistered.StartsAt"/> gives the anchor for anchored steps; a
    /// <see cref="ConfirmationRequested"/> stores its <c>confirmation_url</c> and a
    /// <see cref="LeadMagnetDeliveryRequested"/> its <c>download_url</c> on the enrolment for the templates. A
    /// marketing sequence triggered while the lead's consent is <see cref="ConsentStatus.Pending"/> (double opt-in)
    /// waits as <see cref="EnrolmentStatus.AwaitingConsent"/> and starts on the lead's <see cref="OptInConfirmed"/>,
    /// counting its steps from the confirmation. Events about no lead do nothing.
    /// </para>
    /// </remarks>
    /// <param name="funnelEvent">The event.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events this call recorded (already in the log; do not append them again).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="funnelEvent"/> is <see langword="null"/>.</exception>
    public async Task<ImmutableArray<FunnelEvent>> HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        if (funnelEvent is not LeadEvent leadEvent)
        {
            return [];
        }

        if (funnelEvent is EmailEvent email && testedSteps.TryGetValue(email.Email, out TestedStep? tested))
        {
            await TallyTestAsync(email, tested, cancellationToken).ConfigureAwait(false);
        }

        ImmutableArray<FunnelEvent>.Builder events = ImmutableArray.CreateBuilder<FunnelEvent>();
        foreach (Enrolment enrolment in await settings.Enrolments.ListForLeadAsync(leadEvent.LeadId, cancellationToken).ConfigureAwait(false))
        {
            if (enrolment.Status is not (EnrolmentStatus.Active or EnrolmentStatus.AwaitingConsent)
                || !definitions.TryGetValue(enrolment.Sequence, out SequenceDefinition? definition))
            {
                continue;
            }

            string? goal = funnelEvent is SequenceExitRequested exit
                ? exit.Sequence == definition.Key ? SequenceEventTypes.SequenceExitRequested + ":" + exit.Sequence : null
                : definition.ExitGoals.FirstOrDefault(g => g.Matches(funnelEvent))?.ToString();
            if (goal is not null && await EndAsync(enrolment, EnrolmentStatus.Exited, funnelEvent.OccurredAt, cancellationToken).ConfigureAwait(false))
            {
                events.Add(new SequenceExited
                {
                    Id = EventId.Derive(funnelEvent.Id, "sequence_exited:" + enrolment.Id),
                    LeadId = enrolment.LeadId, OccurredAt = funnelEvent.OccurredAt, Sequence = enrolment.Sequence, Enrolment = enrolment.Id, Goal = goal,
                });
            }
        }

        if (funnelEvent is OptInConfirmed confirmed)
        {
            events.AddRange(await StartAwaitingAsync(confirmed, cancellationToken).ConfigureAwait(false));
        }

        Instant? anchor = funnelEvent is WebinarRegistered webinar ? webinar.StartsAt : null;
        ImmutableDictionary<string, string> fields = FieldsOf(funnelEvent);
        foreach (SequenceDefinition definition in settings.Definitions)
        {
            if (funnelEvent is SequenceEnrolRequested requested ? requested.Sequence == definition.Key : definition.Triggers.Any(t => t.Matches(funnelEvent)))
            {
                events.AddRange(await EnrolCoreAsync(leadEvent.LeadId, definition, funnelEvent.OccurredAt, anchor, funnelEvent.Id, fields, cancellationToken).ConfigureAwait(false));
            }
        }

        // A redelivered confirmation can re-derive an event its own trigger also derives (same id): list it once.
        ImmutableArray<FunnelEvent> recorded = [.. events.DistinctBy(static e => e.Id)];
        await RecordAsync(recorded, cancellationToken).ConfigureAwait(false);
        return recorded;
    }

    /// <summary>Enrols a lead in a sequence, unless its re-entry policy forbids it, and schedules the first step.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="sequence">The sequence key.</param>
    /// <param name="enrolledAt">The instant of the event that caused the enrolment; no step is sent before it.</param>
    /// <param name="anchor">The anchor for anchored steps, such as a webinar's start; <see langword="null"/> skips them.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <remarks>
    /// <para>
    /// For enrolments that no event causes (an import, an admin action); events should go through the pipeline, whose
    /// handler calls <see cref="HandleAsync"/>. The events it causes are appended to the
    /// <see cref="SequenceEngineSettings.EventLog"/>. A marketing sequence for a lead whose consent is
    /// <see cref="ConsentStatus.Pending"/> waits for the confirmation, as in <see cref="HandleAsync"/>.
    /// </para>
    /// <para>
    /// Calling it again for a lead already actively enrolled enrols nothing, but schedules the first step if a crash
    /// left that enrolment without one.
    /// </para>
    /// </remarks>
    /// <returns>The events this call recorded (already in the log; do not append them again): <c>sequence_enrolled</c> (and <c>sequence_completed</c> if every step was skipped), or empty when not enrolled or waiting for consent.</returns>
    /// <exception cref="ArgumentException"><paramref name="sequence"/> is unknown or <paramref name="lead"/> is <c>default</c>.</exception>
    public async Task<ImmutableArray<FunnelEvent>> EnrolAsync(LeadId lead, string sequence, Instant enrolledAt, Instant? anchor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (!definitions.TryGetValue(sequence, out SequenceDefinition? definition))
        {
            throw new ArgumentException($"There is no sequence with the key '{sequence}'.", nameof(sequence));
        }

        if (lead.Value == Guid.Empty)
        {
            throw new ArgumentException("The lead id is required.", nameof(lead));
        }

        ImmutableArray<FunnelEvent> events = await EnrolCoreAsync(lead, definition, enrolledAt, anchor, cause: null, ImmutableDictionary<string, string>.Empty, cancellationToken).ConfigureAwait(false);
        await RecordAsync(events, cancellationToken).ConfigureAwait(false);
        return events;
    }

    /// <summary>The template fields an enrolment takes from its trigger, stored on it so a retry renders the same.</summary>
    private static ImmutableDictionary<string, string> FieldsOf(FunnelEvent trigger) => trigger switch
    {
        ConfirmationRequested requested => ImmutableDictionary<string, string>.Empty
            .Add("confirmation_url", requested.ConfirmationUrl)
            .Add("magnet", requested.Magnet)
            .Add("magnet_title", requested.MagnetTitle ?? requested.Magnet),
        LeadMagnetDeliveryRequested delivery => ImmutableDictionary<string, string>.Empty
            .Add("download_url", delivery.DownloadUrl)
            .Add("magnet", delivery.Magnet)
            .Add("magnet_title", delivery.MagnetTitle ?? delivery.Magnet),
        _ => ImmutableDictionary<string, string>.Empty,
    };

    private async Task<ImmutableArray<FunnelEvent>> EnrolCoreAsync(LeadId lead, SequenceDefinition definition, Instant enrolledAt, Instant? anchor, EventId? cause, ImmutableDictionary<string, string> fields, CancellationToken cancellationToken)
    {
        // An enrolment caused by an event takes an id derived from it, so a redelivered trigger finds it again.
        EnrolmentId id = cause is { } c ? new EnrolmentId(EventId.Derive(c, "enrolment:" + definition.Key).Value) : EnrolmentId.New();
        bool awaiting = false;
        if (definition.IsMarketing)
        {
            LeadProfile? profile = await settings.Leads.FindAsync(lead, cancellationToken).ConfigureAwait(false);
            awaiting = profile?.ConsentStatus == ConsentStatus.Pending;
        }

        Enrolment enrolment = new()
        {
            Id = id, LeadId = lead, Sequence = definition.Key, EnrolledAt = enrolledAt, Anchor = anchor, Fields = fields,
            Status = awaiting ? EnrolmentStatus.AwaitingConsent : EnrolmentStatus.Active,
        };
        if (!await settings.Enrolments.TryAddAsync(enrolment, definition.ReEntry, cancellationToken).ConfigureAwait(false))
        {
            // Already enrolled. If a process died between storing that enrolment and scheduling its first step (or
            // recording its event), the redelivered trigger finishes now; both are idempotent, so this is otherwise a no-op.
            Enrolment? existing = cause is null ? null : await settings.Enrolments.FindAsync(id, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                foreach (Enrolment e in await settings.Enrolments.ListForLeadAsync(lead, cancellationToken).ConfigureAwait(false))
                {
                    if (e.Sequence == definition.Key && e.Status == EnrolmentStatus.Active)
                    {
                        existing = e;
                    }
                }

                return existing is null ? [] : await ScheduleFirstAsync(existing, definition, null, cancellationToken).ConfigureAwait(false);
            }

            return existing.Status == EnrolmentStatus.Active && existing.EnrolledAt == enrolledAt
                ? await ScheduleFirstAsync(existing, definition, Enrolled(existing, cause), cancellationToken).ConfigureAwait(false)
                : [];
        }

        return awaiting ? [] : await ScheduleFirstAsync(enrolment, definition, Enrolled(enrolment, cause), cancellationToken).ConfigureAwait(false);
    }

    private static SequenceEnrolled Enrolled(Enrolment enrolment, EventId? cause)
    {
        SequenceEnrolled enrolled = new() { LeadId = enrolment.LeadId, OccurredAt = enrolment.EnrolledAt, Sequence = enrolment.Sequence, Enrolment = enrolment.Id };
        return cause is { } c ? enrolled with { Id = EventId.Derive(c, "sequence_enrolled:" + enrolment.Id) } : enrolled;
    }

    /// <summary>Starts the lead's enrolments that wait for consent, counting from the confirmation.</summary>
    private async Task<ImmutableArray<FunnelEvent>> StartAwaitingAsync(OptInConfirmed confirmed, CancellationToken cancellationToken)
    {
        ImmutableArray<FunnelEvent>.Builder events = ImmutableArray.CreateBuilder<FunnelEvent>();
        foreach (Enrolment enrolment in await settings.Enrolments.ListForLeadAsync(confirmed.LeadId, cancellationToken).ConfigureAwait(false))
        {
            if (!definitions.TryGetValue(enrolment.Sequence, out SequenceDefinition? definition) || !definition.IsMarketing)
            {
                continue;
            }

            Enrolment? started = enrolment;
            if (enrolment.Status == EnrolmentStatus.AwaitingConsent)
            {
                OptimisticConcurrency.Update<Enrolment> update = await OptimisticConcurrency.UpdateAsync(
                    FindEnrolment(enrolment),
                    current => current is { Status: EnrolmentStatus.AwaitingConsent }
                        ? current with { Status = EnrolmentStatus.Active, EnrolledAt = confirmed.OccurredAt }
                        : current,
                    tryAddAsync: null,
                    settings.Enrolments.TryUpdateAsync,
                    static (current, next) => next with { Version = current.Version + 1 },
                    $"Enrolment {enrolment.Id}",
                    cancellationToken).ConfigureAwait(false);
                started = update.After;
            }

            // A redelivered confirmation (or one after a crash) finds its enrolments started at its instant: it
            // schedules and records again, which both skip what is already there.
            if (started is { Status: EnrolmentStatus.Active } && started.EnrolledAt == confirmed.OccurredAt && started.LastSentAt is null)
            {
                events.AddRange(await ScheduleFirstAsync(started, definition, Enrolled(started, confirmed.Id), cancellationToken).ConfigureAwait(false));
            }
        }

        return events.DrainToImmutable();
    }

    /// <summary>Appends events to the log (idempotent by id).</summary>
    private Task RecordAsync(ImmutableArray<FunnelEvent> events, CancellationToken cancellationToken) =>
        events.IsEmpty ? Task.CompletedTask : settings.EventLog.AppendAsync(events, cancellationToken);

    /// <summary>Schedules an enrolment's first step (idempotently) and completes it when every step is skipped.</summary>
    private async Task<ImmutableArray<FunnelEvent>> ScheduleFirstAsync(Enrolment enrolment, SequenceDefinition definition, SequenceEnrolled? enrolled, CancellationToken cancellationToken)
    {
        LeadProfile? profile = await settings.Leads.FindAsync(enrolment.LeadId, cancellationToken).ConfigureAwait(false);
        DateTimeZone zone = ZoneOf(profile);
        Instant at = enrolment.EnrolledAt;
        if (await ScheduleFromAsync(enrolment, definition, 0, at, at, zone, cancellationToken).ConfigureAwait(false)
            && await EndAsync(enrolment, EnrolmentStatus.Completed, at, cancellationToken).ConfigureAwait(false))
        {
            SequenceCompleted completed = new() { LeadId = enrolment.LeadId, OccurredAt = at, Sequence = definition.Key, Enrolment = enrolment.Id };
            if (enrolled is not null)
            {
                completed = completed with { Id = EventId.Derive(enrolled.Id, "sequence_completed") };
            }

            return enrolled is null ? [completed] : [enrolled, completed];
        }

        return enrolled is null ? [] : [enrolled];
    }

    /// <summary>Adds the outbox entry of the first schedulable step from <paramref name="index"/>; returns <see langword="true"/> when no step is left.</summary>
    private async Task<bool> ScheduleFromAsync(Enrolment enrolment, SequenceDefinition definition, int index, Instant previousScheduled, Instant previousDone, DateTimeZone zone, CancellationToken cancellationToken)
    {
        // The skipped steps and the first schedulable one are added as one batch (each only if absent).
        List<OutboxEntry> entries = [];
        bool done = ScheduleEntries(entries, enrolment, definition, plans[definition.Key], index, previousScheduled, previousDone, zone);
        if (entries.Count > 0)
        {
            await settings.Outbox.TryAddManyAsync(entries, cancellationToken).ConfigureAwait(false);
        }

        return done;
    }

    /// <summary>Appends the entries of the steps from <paramref name="index"/> (in the plan's run order) up to the first schedulable one (the skipped ones as <see cref="SendState.Skipped"/>); returns <see langword="true"/> when no step is left to send.</summary>
    /// <remarks>A skipped branch (anchored to an instant that has passed) takes its else path.</remarks>
    private static bool ScheduleEntries(List<OutboxEntry> entries, Enrolment enrolment, SequenceDefinition definition, SequencePlan plan, int index, Instant previousScheduled, Instant previousDone, DateTimeZone zone)
    {
        for (int i = index; i >= 0; i = plan.Next(i, then: false))
        {
            SequenceStep step = plan.Steps[i];
            Instant? due = DueOf(step, definition, enrolment, previousScheduled, previousDone, zone);
            entries.Add(new OutboxEntry
            {
                Key = OutboxEntry.KeyOf(enrolment.Id, step.Key),
                Enrolment = enrolment.Id,
                LeadId = enrolment.LeadId,
                Sequence = definition.Key,
                StepIndex = i,
                ScheduledFor = due ?? previousDone,
                DueAt = due ?? previousDone,
                State = due is null ? SendState.Skipped : SendState.Pending,
                CompletedAt = due is null ? previousDone : null,
                Reason = due is null ? "The anchored instant had passed or there is no anchor." : null,
            });
            if (due is not null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns the index of the entry's step in the plan, found by the step key in its idempotency key; -1 when the step no longer exists.</summary>
    private static int IndexOf(SequencePlan plan, OutboxEntry entry)
    {
        ReadOnlySpan<char> stepKey = entry.Key.AsSpan(entry.Key.IndexOf(':', StringComparison.Ordinal) + 1);
        ImmutableArray<SequenceStep> steps = plan.Steps;
        return entry.StepIndex >= 0 && entry.StepIndex < steps.Length && stepKey.SequenceEqual(steps[entry.StepIndex].Key)
            ? entry.StepIndex
            : plan.IndexOf(stepKey);
    }

    internal static Instant? DueOf(SequenceStep step, SequenceDefinition definition, Enrolment enrolment, Instant previousScheduled, Instant previousDone, DateTimeZone zone)
    {
        if (step.Timing == StepTiming.RelativeToAnchor)
        {
            if (enrolment.Anchor is not { } anchor)
            {
                return null;
            }

            Instant at = anchor + step.Delay.ToDuration();
            return at < previousDone ? null : at;
        }

        if (step.Timing == StepTiming.OnDay)
        {
            LocalDate day = enrolment.EnrolledAt.InZone(zone).Date.PlusDays(step.Day);
            return SendTimes.OnDay(day, step.SendAt!.Value, zone, Max(enrolment.EnrolledAt, previousDone), step.Days, definition.QuietHours);
        }

        Instant from = step.Timing == StepTiming.AfterEnrolment ? enrolment.EnrolledAt : previousScheduled;
        Instant earliest = Max(Add(from, step.Delay, zone), previousDone);
        return SendTimes.Next(earliest, zone, step.SendAt, step.Days, definition.QuietHours);
    }

    private static Instant Add(Instant from, Period delay, DateTimeZone zone) =>
        delay.HasDateComponent
            ? (from.InZone(zone).LocalDateTime + delay).InZoneLeniently(zone).ToInstant()
            : from + delay.ToDuration();

    private async Task<bool> EndAsync(Enrolment enrolment, EnrolmentStatus status, Instant at, CancellationToken cancellationToken)
    {
        OptimisticConcurrency.Update<Enrolment> update = await OptimisticConcurrency.UpdateAsync(
            FindEnrolment(enrolment),
            current => current is { Status: EnrolmentStatus.Active } ? current with { Status = status, EndedAt = at } : current,
            tryAddAsync: null,
            settings.Enrolments.TryUpdateAsync,
            static (current, next) => next with { Version = current.Version + 1 },
            $"Enrolment {enrolment.Id}",
            cancellationToken).ConfigureAwait(false);
        return update.Changed;
    }

    /// <summary>Returns a read of the enrolment that answers the first time with <paramref name="known"/> (just read by the caller) and then re-reads the store.</summary>
    private Func<CancellationToken, Task<Enrolment?>> FindEnrolment(Enrolment known)
    {
        bool first = true;
        return cancellationToken =>
        {
            if (first)
            {
                first = false;
                return Task.FromResult<Enrolment?>(known);
            }

            return settings.Enrolments.FindAsync(known.Id, cancellationToken);
        };
    }

    private EmailMessage Render(SequenceDefinition definition, SequenceStep step, EmailVariant? variant, LeadProfile lead, OutboxEntry entry, Enrolment? enrolment)
    {
        TemplateModel model = ModelOf(definition, step, lead, enrolment);
        ITemplateRenderer renderer = settings.Renderer;
        string? htmlBody = variant?.HtmlBody ?? step.HtmlBody;
        string? html = htmlBody is null ? null : renderer.Render(htmlBody, model, html: true);
        if (html is not null && tracking is not null && definition.TrackClicks)
        {
            html = tracking.RewriteLinks(html, lead.Id, step.Key);
        }

        if (html is not null && tracking is not null)
        {
            html += "<img src=\"" + tracking.OpenPixel(lead.Id, step.Key).AbsoluteUri + "\" width=\"1\" height=\"1\" alt=\"\" />";
        }

        EmailMessage message = new()
        {
            To = lead.Email,
            From = settings.Options.From,
            Subject = renderer.Render(variant?.Subject ?? step.Subject!, model, html: false),
            TextBody = renderer.Render(variant?.TextBody ?? step.TextBody!, model, html: false),
            HtmlBody = html,
            IdempotencyKey = entry.Key,
            LeadId = lead.Id,
            EmailKey = step.Key,
            Topic = definition.Topic,
        };
        return tracking is null ? message : tracking.WithListUnsubscribe(message, lead.Id, step.Key);
    }

    /// <summary>Renders a <see cref="NotifySeller"/> step's email to the seller: the lead's fields, no tracking, no unsubscribe link.</summary>
    private EmailMessage RenderSellerNotice(SequenceDefinition definition, SequenceStep step, NotifySeller notify, LeadProfile lead, OutboxEntry entry, Enrolment? enrolment)
    {
        TemplateModel model = ModelOf(definition, step, lead, enrolment);
        return new EmailMessage
        {
            To = EmailAddress.Parse(settings.Options.SellerEmail),
            From = settings.Options.From,
            Subject = settings.Renderer.Render(notify.Subject, model, html: false),
            TextBody = settings.Renderer.Render(notify.TextBody, model, html: false),
            IdempotencyKey = entry.Key,
            EmailKey = step.Key,
        };
    }

    /// <summary>Returns the template model of a step for a lead: the built-in fields, the sequence's fields (the lead's value or the default) and the enrolment's.</summary>
    private TemplateModel ModelOf(SequenceDefinition definition, SequenceStep step, LeadProfile lead, Enrolment? enrolment)
    {
        Dictionary<string, string> fields = new(definition.Fields.Count + 4, StringComparer.Ordinal)
        {
            ["email"] = lead.Email.Value,
            ["lead_id"] = lead.Id.ToString(),
            ["stage"] = lead.Stage.ToKey(),
            ["unsubscribe_url"] = tracking?.Unsubscribe(lead.Id, step.Key).AbsoluteUri ?? string.Empty,
            ["tags"] = string.Join(", ", lead.Tags),
        };
        foreach (KeyValuePair<string, string> field in definition.Fields)
        {
            fields[field.Key] = lead.CustomFields.TryGetValue(field.Key, out string? value) && !string.IsNullOrWhiteSpace(value) ? value : field.Value;
        }

        foreach (KeyValuePair<string, string> field in enrolment?.Fields ?? ImmutableDictionary<string, string>.Empty)
        {
            fields[field.Key] = field.Value; // from the trigger, such as a confirmation link: stored, so a retry renders the same.
        }

        return new TemplateModel { Fields = fields, Tags = lead.Tags };
    }

    private static string? SuppressionOf(LeadProfile? lead, SequenceDefinition definition) => lead switch
    {
        null => "unknown_lead",
        { UnsubscribedAt: not null } => "unsubscribed",
        { BouncedAt: not null } => "bounced",
        { ComplainedAt: not null } => "complained",
        _ when definition.IsMarketing && lead.ConsentStatus != ConsentStatus.Granted => "no_consent",
        _ when definition.Topic is { } topic && lead.UnsubscribedTopics.Contains(topic) => "unsubscribed_topic",
        _ => null,
    };

    private Duration Backoff(int attempt)
    {
        Duration delay = settings.Options.RetryDelay;
        for (int i = 1; i < attempt && delay < settings.Options.MaxRetryDelay; i++)
        {
            delay += delay;
        }

        return delay < settings.Options.MaxRetryDelay ? delay : settings.Options.MaxRetryDelay;
    }

    private DateTimeZone ZoneOf(LeadProfile? lead) => lead?.ResolveTimeZone(settings.TimeZones, settings.DefaultZone) ?? settings.DefaultZone;

    private static OutboxEntry Done(OutboxEntry entry, SendState state, Instant now, string? reason) =>
        entry with { State = state, CompletedAt = now, ClaimedBy = null, Reason = reason, Events = [] };

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;

    private static Instant Min(Instant a, Instant b) => a < b ? a : b;
}
