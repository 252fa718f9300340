using Funnel.Sequences;
using Funnel.DependencyInjection;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Funnel.Sequences services.</summary>
/// <threadsafety>Call these methods while configuring services, from one thread.</threadsafety>
public static class SequencesServiceCollectionExtensions
{
    /// <summary>Adds the email sequence services.</summary>
    /// <remarks>
    /// <para>
    /// Registers, unless already registered: in-memory enrolment and outbox stores, the placeholder template renderer,
    /// validated <see cref="SequenceOptions"/>, a <see cref="SequenceEngine"/> over the <see cref="SequenceDefinition"/>s
    /// and the <see cref="Funnel.Email.IEmailSender"/> you register, the <see cref="BroadcastService"/> with an in-memory
    /// <see cref="IBroadcastStore"/>, and the <c>email-delivery</c> report section
    /// (<see cref="SequenceEmailMetrics.ReportSection"/>).
    /// </para>
    /// <para>
    /// Registers the <c>sequences</c> pipeline handler, which hands every logged event to
    /// <see cref="SequenceEngine.HandleAsync"/>: leads are enrolled and exit goals end enrolments with no code of yours.
    /// The engine appends the events it causes to the <see cref="Funnel.Pipeline.IFunnelEventLog"/> itself. Add
    /// <see cref="AddFunnelSequenceDispatcher"/> to send the due emails. The handler also keeps the tallies of the
    /// sequence emails' automatic winner tests in the <see cref="ISequenceTestStore"/> (in memory unless a storage
    /// package replaces it).
    /// </para>
    /// <para>
    /// The built-in <see cref="FunnelSequences.OptInConfirmation"/> (key <c>opt-in-confirmation</c>) is on by default: it
    /// mails the double opt-in link on every <c>confirmation_requested</c>, through the outbox. So is
    /// <see cref="FunnelSequences.LeadMagnetDelivery"/> (key <c>lead-magnet-delivery</c>), which mails the lead magnet's
    /// link on every <c>magnet_delivery_requested</c>. Register a <see cref="SequenceDefinition"/> with the same key to
    /// replace either.
    /// </para>
    /// <para>
    /// Calls <see cref="FunnelServiceCollectionExtensions.AddFunnel(IServiceCollection)"/> itself, so it may come before
    /// or after <c>AddFunnel(options =&gt; ...)</c>. Calling this method again registers nothing twice. Register your
    /// own services before or after this call to replace any of them.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFunnelSequences(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddFunnel();
        services.AddFunnelEventTypes(typeof(SequenceCompleted).Assembly); // so a durable event log can store email_failed, sequence_completed, …
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        SequencesRegistration.AddSequences(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(SequenceEmailMetrics.ReportSection));
        return services;
    }

    /// <summary>Adds the background job that sends the due sequence emails with <see cref="SequenceEngine.DispatchDueAsync"/>.</summary>
    /// <remarks>
    /// <para>
    /// The job runs on the job runner of <c>AddFunnelHosting()</c> (an ASP.NET Core app or a worker service) every
    /// <paramref name="interval"/>; each run dispatches batch after batch until one claims nothing, so a backlog is
    /// not held to one batch per interval. The engine records the dispatch events (<c>email_sent</c>, <c>email_failed</c>,
    /// <c>email_suppressed</c>, <c>sequence_completed</c>) in the <see cref="Funnel.Pipeline.IFunnelEventLog"/> itself.
    /// </para>
    /// <para>
    /// It also adds the hourly <c>sequence-outbox-retention</c> job, which removes the outbox entries that reached a
    /// final state longer ago than <see cref="SequenceOptions.OutboxRetention"/> (30 days by default), in batches.
    /// </para>
    /// <para>
    /// And it adds the <c>broadcast-queue</c> job, which every 15 seconds queues the sends of the broadcasts that have
    /// started (<see cref="BroadcastService.QueueDueAsync"/>) for the dispatcher to send, and the <c>sequence-tests</c>
    /// job, which every minute decides the sequence emails' automatic winner tests that have their samples
    /// (<see cref="SequenceEngine.DecideTestsAsync"/>).
    /// </para>
    /// <para>
    /// It needs an <see cref="Funnel.Email.IEmailSender"/>, such as the one <c>AddFunnelSmtp</c> registers: without one
    /// the host fails at start-up with a message saying so. Calls <see cref="AddFunnelSequences"/>. Calling this
    /// method again changes the interval.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="interval">The pause between dispatches; defaults to 15 seconds.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    public static IServiceCollection AddFunnelSequenceDispatcher(this IServiceCollection services, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        TimeSpan every = interval ?? TimeSpan.FromSeconds(15);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, TimeSpan.Zero, nameof(interval));
        services.AddFunnelSequences();
        bool first = !services.Any(d => d.ServiceType == typeof(SequenceDispatcherSettings));
        services.RemoveAll<SequenceDispatcherSettings>();
        services.AddSingleton(new SequenceDispatcherSettings(every));
        if (first)
        {
            services.AddFunnelPrerequisite(
                "AddFunnelSequenceDispatcher()",
                typeof(Funnel.Email.IEmailSender),
                "add an email sender, such as services.AddFunnelSmtp(o => ...) from Funnel.Email.Smtp");
        }

        return services.AddFunnelJob<SequenceDispatchJob>().AddFunnelJob<OutboxRetentionJob>().AddFunnelJob<BroadcastQueueJob>().AddFunnelJob<SequenceTestJob>();
    }

    /// <summary>Marks that <see cref="AddFunnelSequences"/> ran.</summary>
    private sealed class Marker;
}
