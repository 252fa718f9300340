using System.Collections.Concurrent;
using System.Collections.Immutable;
using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Onboarding;

/// <summary>A course a buyer works through: its key (the product key that grants it) and its modules, in order.</summary>
/// <remarks>The course key is the product key of the <c>entitlement_granted</c> event that gives access, so a purchase unlocks the course.</remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record Course
{
    /// <summary>Gets the course key, equal to the product key that grants it, such as <c>masterclass-course</c>.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the module keys, in teaching order; at least one, each unique.</summary>
    public required ImmutableArray<string> Modules { get; init; }
}

/// <summary>Validates a <see cref="Course"/>: a valid key and at least one module, each a valid, unique key.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class CourseValidator : AbstractValidator<Course>
{
    /// <summary>Initializes the validator.</summary>
    public CourseValidator()
    {
        RuleFor(c => c.Key).Must(Funnel.Key.IsValid).WithMessage("'{PropertyName}' must be a valid key (lowercase letters, digits, '-', '_', '.').");
        RuleFor(c => c.Modules).Must(m => !m.IsDefaultOrEmpty).WithMessage("'Modules' must contain at least one module.");
        RuleForEach(c => c.Modules).Must(Funnel.Key.IsValid).WithMessage("'{PropertyName}' must be a valid key.");
        RuleFor(c => c.Modules).Must(m => m.IsDefaultOrEmpty || m.Distinct(StringComparer.Ordinal).Count() == m.Length)
            .WithMessage("'Modules' must not repeat a module.");
    }
}

/// <summary>A customer completed one module of a course.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
[FunnelEventType(AdvocacyEventTypes.ModuleCompleted)]
public sealed record ModuleCompleted : LeadEvent
{
    /// <summary>Gets the course key.</summary>
    public required string Course { get; init; }

    /// <summary>Gets the module key.</summary>
    public required string Module { get; init; }

    /// <inheritdoc/>
    public override string EventType => AdvocacyEventTypes.ModuleCompleted;

    /// <inheritdoc/>
    /// <value>The <see cref="Course"/> key, so that a trigger can match progress in one course.</value>
    public override string? Subject => Course;
}

/// <summary>Tells whether a lead currently holds access to a product.</summary>
/// <remarks>The seam between progress tracking and whatever grants access; <see cref="EntitlementLedger"/> is the in-memory default fed with entitlement events.</remarks>
public interface IEntitlementLookup
{
    /// <summary>Tells whether the lead holds the product now.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="product">The product key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when at least one order grants the product and none of those grants was revoked.</returns>
    Task<bool> HoldsAsync(LeadId lead, string product, CancellationToken cancellationToken = default);
}

/// <summary>The <see cref="IEntitlementLookup"/> fed with entitlement events: it learns who holds what from <c>entitlement_granted</c> and <c>entitlement_revoked</c>, kept in an <see cref="IEntitlementStore"/>.</summary>
/// <remarks>Access is tracked per order: a product granted by two orders stays held until both grants are revoked. For each order the latest event wins (by <see cref="FunnelEvent.OccurredAt"/>; of two at the same instant, the one applied last), so replaying an event changes nothing, even a grant replayed after its revocation. The ledger keeps no state of its own: each event is a read and a replace-if-version of the order's <see cref="EntitlementRecord"/>, retried when a concurrent change wins.</remarks>
/// <threadsafety>All members are thread-safe when the store is.</threadsafety>
public sealed class EntitlementLedger : IEntitlementLookup
{
    /// <summary>How many orders of one product <see cref="HoldsAsync"/> reads for a lead.</summary>
    private const int MaxOrdersPerProduct = 1_000;

    private readonly IEntitlementStore _store;

    /// <summary>Initializes the ledger over a store.</summary>
    /// <param name="store">The store of entitlement records.</param>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is <see langword="null"/>.</exception>
    public EntitlementLedger(IEntitlementStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>Applies an event; events other than entitlement grants and revocations are ignored.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the record is stored.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="e"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Concurrent changes to the same order's record kept winning.</exception>
    public Task ApplyAsync(FunnelEvent e, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            Funnel.Offers.EntitlementGranted g => SetAsync(g.LeadId, g.Product, g.Order, held: true, g.OccurredAt, cancellationToken),
            Funnel.Offers.EntitlementRevoked r => SetAsync(r.LeadId, r.Product, r.Order, held: false, r.OccurredAt, cancellationToken),
            _ => Task.CompletedTask,
        };
    }

    /// <inheritdoc/>
    /// <remarks>Reads at most 1,000 orders of the product for the lead.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    public async Task<bool> HoldsAsync(LeadId lead, string product, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        ImmutableArray<EntitlementRecord> records =
            await _store.ListAsync(lead, product, MaxOrdersPerProduct, cancellationToken).ConfigureAwait(false);
        return records.Any(r => r.Held);
    }

    private async Task SetAsync(LeadId lead, string product, OrderId order, bool held, Instant at, CancellationToken cancellationToken) =>
        await OptimisticConcurrency.RetryAsync(
            async ct =>
            {
                EntitlementRecord? current = await _store.FindAsync(lead, product, order, ct).ConfigureAwait(false);
                if (current is null)
                {
                    var added = new EntitlementRecord { Lead = lead, Product = product, Order = order, Held = held, ChangedAt = at };
                    return (await _store.TryAddAsync(added, ct).ConfigureAwait(false), 0);
                }

                // The latest event per order wins; of two at the same instant, the one applied last.
                if (current.ChangedAt > at)
                {
                    return (true, 0);
                }

                return (await _store.TryUpdateAsync(current, current with { Held = held, ChangedAt = at }, ct).ConfigureAwait(false), 0);
            },
            $"the entitlement of order {order} to '{product}'",
            cancellationToken).ConfigureAwait(false);
}

/// <summary>What recording a module completion did.</summary>
public enum ProgressOutcome
{
    /// <summary>The module was recorded as completed for the first time.</summary>
    Recorded = 0,

    /// <summary>The module was already completed; nothing changed and no event was emitted.</summary>
    AlreadyCompleted = 1,

    /// <summary>The lead does not hold the course entitlement; nothing was recorded.</summary>
    NotEntitled = 2,
}

/// <summary>The result of recording a module completion.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record ProgressResult
{
    /// <summary>Gets what happened.</summary>
    public required ProgressOutcome Outcome { get; init; }

    /// <summary>Gets how many modules of the course the lead has completed.</summary>
    public required int CompletedModules { get; init; }

    /// <summary>Gets how many modules the course has.</summary>
    public required int TotalModules { get; init; }

    /// <summary>Gets whether every module is completed.</summary>
    public bool CourseCompleted => CompletedModules == TotalModules;

    /// <summary>Gets the events this call recorded (already in the log; do not append them again): <c>module_completed</c>, then <c>course_completed</c> for the call that completed the last module.</summary>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];
}

/// <summary>Records course progress for entitled buyers and emits <c>module_completed</c> and, once per lead and course, <c>course_completed</c>.</summary>
/// <remarks>
/// <para>Only a lead who holds the course's product (see <see cref="IEntitlementLookup"/>) can record progress; a
/// refunded buyer whose access was revoked cannot. Completing a module twice is a no-op, and
/// <c>course_completed</c> is emitted exactly once: by the call whose module made the set complete (the store's
/// add is atomic, so two racing calls cannot both complete the course).</para>
/// <para>The tracker appends its events to the <see cref="IFunnelEventLog"/> itself, right after the store change.
/// The <c>course_completed</c> event (subject = course key) is what the review request, affiliate
/// invitation and next-offer emails are triggered on.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe when the store and lookup are.</threadsafety>
public sealed class CourseProgressTracker
{
    private readonly ImmutableDictionary<string, Course> courses;
    private readonly ICourseProgressStore store;
    private readonly IEntitlementLookup entitlements;
    private readonly IClock clock;
    private readonly IFunnelEventLog log;

    /// <summary>Initializes the tracker.</summary>
    /// <param name="courses">The courses; each is validated.</param>
    /// <param name="store">The progress store.</param>
    /// <param name="entitlements">Tells who holds which course.</param>
    /// <param name="clock">The clock that stamps events.</param>
    /// <param name="log">The event log the tracker records its events in.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">A course is invalid; the message names the field, such as <c>Modules[1]</c>.</exception>
    /// <exception cref="ArgumentException">Two courses share a key.</exception>
    public CourseProgressTracker(
        IEnumerable<Course> courses, ICourseProgressStore store, IEntitlementLookup entitlements, IClock clock, IFunnelEventLog log)
    {
        ArgumentNullException.ThrowIfNull(courses);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entitlements);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        var validator = new CourseValidator();
        var builder = ImmutableDictionary.CreateBuilder<string, Course>(StringComparer.Ordinal);
        foreach (Course course in courses)
        {
            validator.ValidateAndThrow(course);
            if (!builder.TryAdd(course.Key, course))
            {
                throw new ArgumentException($"Two courses have the key '{course.Key}'.", nameof(courses));
            }
        }

        this.courses = builder.ToImmutable();
        this.store = store;
        this.entitlements = entitlements;
        this.clock = clock;
        this.log = log;
    }

    /// <summary>Records that a lead completed a module.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="module">The module key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome, the progress and the events this call recorded (already in the log; do not append them again).</returns>
    /// <exception cref="ArgumentException">The course is unknown, or the module is not one of its modules.</exception>
    public async Task<ProgressResult> CompleteModuleAsync(LeadId lead, string course, string module, CancellationToken cancellationToken = default)
    {
        Course definition = Find(course);
        if (!definition.Modules.Contains(module, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Course '{course}' has no module '{module}'.", nameof(module));
        }

        if (!await entitlements.HoldsAsync(lead, course, cancellationToken).ConfigureAwait(false))
        {
            ImmutableHashSet<string> current = await store.GetAsync(lead, course, cancellationToken).ConfigureAwait(false);
            return new ProgressResult { Outcome = ProgressOutcome.NotEntitled, CompletedModules = CountIn(definition, current), TotalModules = definition.Modules.Length };
        }

        var (added, completed) = await store.AddAsync(lead, course, module, cancellationToken).ConfigureAwait(false);
        if (!added)
        {
            return new ProgressResult { Outcome = ProgressOutcome.AlreadyCompleted, CompletedModules = CountIn(definition, completed), TotalModules = definition.Modules.Length };
        }

        int done = CountIn(definition, completed);

        Instant now = clock.GetCurrentInstant();
        var events = ImmutableArray.CreateBuilder<FunnelEvent>(2);
        events.Add(new ModuleCompleted { LeadId = lead, OccurredAt = now, Course = course, Module = module });
        if (done == definition.Modules.Length)
        {
            events.Add(new CourseCompleted { LeadId = lead, OccurredAt = now, Course = course });
        }

        return new ProgressResult
        {
            Outcome = ProgressOutcome.Recorded,
            CompletedModules = done,
            TotalModules = definition.Modules.Length,
            Events = await log.RecordAsync(events.ToImmutable(), cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Returns how many modules of a course a lead has completed.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The completed module keys in the course's order.</returns>
    /// <exception cref="ArgumentException">The course is unknown.</exception>
    public async Task<ImmutableArray<string>> CompletedModulesAsync(LeadId lead, string course, CancellationToken cancellationToken = default)
    {
        Course definition = Find(course);
        ImmutableHashSet<string> done = await store.GetAsync(lead, course, cancellationToken).ConfigureAwait(false);
        return [.. definition.Modules.Where(done.Contains)];
    }

    // The store may hold modules the course no longer has (the definition changed); only current modules count.
    private static int CountIn(Course definition, ImmutableHashSet<string> completed) => definition.Modules.Count(completed.Contains);

    private Course Find(string course)
    {
        ArgumentNullException.ThrowIfNull(course);
        return courses.TryGetValue(course, out Course? found) ? found : throw new ArgumentException($"Unknown course '{course}'.", nameof(course));
    }
}
