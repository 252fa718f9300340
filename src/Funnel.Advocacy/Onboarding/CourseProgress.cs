using System.Collections.Concurrent;
using System.Collections.Immutable;
using FluentValidation;
using Funnel.Advocacy;
using Funnel.Events;
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

/// <summary>The in-memory <see cref="IEntitlementLookup"/>: it learns who holds what from <c>entitlement_granted</c> and <c>entitlement_revoked</c> events.</summary>
/// <remarks>Access is tracked per order: a product granted by two orders stays held until both grants are revoked. For each order the latest event wins (by <see cref="FunnelEvent.OccurredAt"/>; of two at the same instant, the one applied last), so replaying an event changes nothing, even a grant replayed after its revocation.</remarks>
/// <threadsafety>All members are thread-safe.</threadsafety>
public sealed class EntitlementLedger : IEntitlementLookup
{
    private readonly ConcurrentDictionary<(LeadId Lead, string Product), ImmutableDictionary<OrderId, (bool Held, Instant At)>> grants = new();

    /// <summary>Applies an event; events other than entitlement grants and revocations are ignored.</summary>
    /// <param name="e">The event.</param>
    /// <exception cref="ArgumentNullException"><paramref name="e"/> is <see langword="null"/>.</exception>
    public void Apply(FunnelEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        switch (e)
        {
            case Funnel.Offers.EntitlementGranted g:
                Set(g.LeadId, g.Product, g.Order, held: true, g.OccurredAt);
                break;
            case Funnel.Offers.EntitlementRevoked r:
                Set(r.LeadId, r.Product, r.Order, held: false, r.OccurredAt);
                break;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="product"/> is <see langword="null"/>.</exception>
    public Task<bool> HoldsAsync(LeadId lead, string product, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Task.FromResult(grants.TryGetValue((lead, product), out var orders) && orders.Values.Any(o => o.Held));
    }

    private void Set(LeadId lead, string product, OrderId order, bool held, Instant at) =>
        grants.AddOrUpdate(
            (lead, product),
            _ => ImmutableDictionary<OrderId, (bool, Instant)>.Empty.Add(order, (held, at)),
            (_, orders) => orders.TryGetValue(order, out var latest) && latest.At > at ? orders : orders.SetItem(order, (held, at)));
}

/// <summary>Stores which modules each lead completed; replace the in-memory default with durable storage.</summary>
public interface ICourseProgressStore
{
    /// <summary>Adds a completed module atomically and returns the lead's completed modules of the course afterwards.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="moduleKey">The module key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether the module was new, and the completed modules after the call.</returns>
    Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default);

    /// <summary>Returns the lead's completed modules of a course.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The completed module keys; empty when none.</returns>
    Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default);
}

/// <summary>The in-memory <see cref="ICourseProgressStore"/>.</summary>
/// <threadsafety>All members are thread-safe; adds are atomic.</threadsafety>
public sealed class InMemoryCourseProgressStore : ICourseProgressStore
{
    private readonly ConcurrentDictionary<(LeadId, string), ImmutableHashSet<string>> progress = new();

    /// <inheritdoc/>
    public Task<(bool Added, ImmutableHashSet<string> Completed)> AddAsync(LeadId lead, string course, string moduleKey, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ImmutableHashSet<string> before = progress.GetOrAdd((lead, course), ImmutableHashSet.Create<string>(StringComparer.Ordinal));
            if (before.Contains(moduleKey))
            {
                return Task.FromResult((false, before));
            }

            ImmutableHashSet<string> after = before.Add(moduleKey);
            if (progress.TryUpdate((lead, course), after, before))
            {
                return Task.FromResult((true, after));
            }
        }
    }

    /// <inheritdoc/>
    public Task<ImmutableHashSet<string>> GetAsync(LeadId lead, string course, CancellationToken cancellationToken = default) =>
        Task.FromResult(progress.TryGetValue((lead, course), out var set) ? set : ImmutableHashSet.Create<string>(StringComparer.Ordinal));
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

    /// <summary>Gets the events emitted: <c>module_completed</c>, then <c>course_completed</c> for the call that completed the last module.</summary>
    public ImmutableArray<FunnelEvent> Events { get; init; } = [];
}

/// <summary>Records course progress for entitled buyers and emits <c>module_completed</c> and, once per lead and course, <c>course_completed</c>.</summary>
/// <remarks>
/// <para>Only a lead who holds the course's product (see <see cref="IEntitlementLookup"/>) can record progress; a
/// refunded buyer whose access was revoked cannot. Completing a module twice is a no-op, and
/// <c>course_completed</c> is emitted exactly once: by the call whose module made the set complete (the store's
/// add is atomic, so two racing calls cannot both complete the course).</para>
/// <para>The <c>course_completed</c> event (subject = course key) is what the review request, affiliate
/// invitation and next-offer emails are triggered on.</para>
/// </remarks>
/// <threadsafety>All members are thread-safe when the store and lookup are.</threadsafety>
public sealed class CourseProgressTracker
{
    private readonly ImmutableDictionary<string, Course> courses;
    private readonly ICourseProgressStore store;
    private readonly IEntitlementLookup entitlements;
    private readonly IClock clock;

    /// <summary>Initializes the tracker.</summary>
    /// <param name="courses">The courses; each is validated.</param>
    /// <param name="store">The progress store.</param>
    /// <param name="entitlements">Tells who holds which course.</param>
    /// <param name="clock">The clock that stamps events.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">A course is invalid; the message names the field, such as <c>Modules[1]</c>.</exception>
    /// <exception cref="ArgumentException">Two courses share a key.</exception>
    public CourseProgressTracker(IEnumerable<Course> courses, ICourseProgressStore store, IEntitlementLookup entitlements, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(courses);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(entitlements);
        ArgumentNullException.ThrowIfNull(clock);
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
    }

    /// <summary>Records that a lead completed a module.</summary>
    /// <param name="lead">The lead.</param>
    /// <param name="course">The course key.</param>
    /// <param name="module">The module key.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome, the progress and the events to record.</returns>
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
            Events = events.ToImmutable(),
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
