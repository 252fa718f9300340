using Funnel.Events;
using Funnel.Kpis;
using Funnel.Leads;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Funnel.Tests.TestEvents;

namespace Funnel.Tests.Kpis;

public class FunnelReporterProperties
{
    /// <summary>Random streams over a few leads, using every step's event, identity links and some noise, at colliding instants.</summary>
    private static Arbitrary<FunnelEvent[]> Streams()
    {
        Gen<FunnelEvent> one =
            from lead in Gen.Choose(1, 6)
            from kind in Gen.Choose(0, 10)
            from minute in Gen.Choose(0, 40)
            select kind switch
            {
                10 => new IdentityLinked { LeadId = Lead(lead), VisitorId = Lead(1 + (minute % 6)), OccurredAt = At(minute) },
                0 or 1 => (FunnelEvent)View(lead, minute),
                2 => OptIn(lead, minute),
                3 => Sales(lead, minute),
                4 => Checkout(lead, minute),
                5 => Order(lead, minute, 100 * minute),
                6 => new EmailSent { LeadId = Lead(lead), OccurredAt = At(minute), Email = "e" + (minute % 3) },
                7 => new EmailOpened { LeadId = Lead(lead), OccurredAt = At(minute), Email = "e" + (minute % 3) },
                8 => new EmailBounced { LeadId = Lead(lead), OccurredAt = At(minute), Email = "e" + (minute % 3) },
                _ => View(lead, minute, "/about"),
            };
        return Gen.ArrayOf(one).ToArbitrary();
    }

    private static FunnelReport Report(FunnelEvent[] events) => new FunnelReporter().CreateReport(FunnelReporterTests.Funnel, events);

    private static bool InUnitInterval(Ratio ratio) => !ratio.IsDefined || (ratio.ToDecimal() >= 0m && ratio.ToDecimal() <= 1m);

    [Property]
    public Property StepCounts_NeverIncreaseFromStepToStep() => Prop.ForAll(Streams(), events =>
    {
        long[] counts = [.. Report(events).Overall.Steps.Select(s => s.Reached)];
        return counts.Zip(counts.Skip(1)).All(pair => pair.First >= pair.Second);
    });

    [Property]
    public Property ConversionAndEmailRates_StayBetweenZeroAndOne() => Prop.ForAll(Streams(), events =>
    {
        FunnelReport report = Report(events);
        Ratio[] rates =
        [
            .. report.Overall.Steps.SelectMany(s => new[] { s.FromPrevious, s.FromStart }),
            .. report.Overall.Stages.Select(s => s.FromPrevious),
            report.Overall.OverallConversion,
            report.Email.OpenRate, report.Email.ClickRate, report.Email.ClickToOpenRate, report.Email.BounceRate, report.Email.UnsubscribeRate,
            report.LandingPageBounceRate, report.CartAbandonmentRate, report.RefundRate,
        ];
        return rates.All(InUnitInterval);
    });

    [Property]
    public Property ChannelBreakdown_AddsUpToTheWhole() => Prop.ForAll(Streams(), events =>
    {
        FunnelReport report = Report(events);
        return report.ByChannel.Sum(c => c.Orders) == report.Overall.Orders
            && report.ByChannel.Sum(c => c.Revenue.MinorUnits) == report.Overall.Revenue.MinorUnits
            && Enumerable.Range(0, report.Overall.Steps.Length)
                .All(k => report.ByChannel.Sum(c => c.Steps[k].Reached) == report.Overall.Steps[k].Reached);
    });

    [Property]
    public Property Links_MergeExactlyThePeopleTheAliasesResolveTogether() => Prop.ForAll(Streams(), events =>
    {
        LeadAliases aliases = LeadAliases.From(events.OfType<IdentityLinked>());
        FunnelEvent[] selfLinked = [.. events.Select(e => e is IdentityLinked l ? l with { VisitorId = l.LeadId } : e)];
        long people = Report(events).Lifecycle.Values.Sum();
        // A link of an id to itself merges nobody; a real link can only lower the count of people.
        return people == events.OfType<LeadEvent>().Select(e => aliases.Resolve(e.LeadId)).Distinct().Count()
            && people <= Report(selfLinked).Lifecycle.Values.Sum();
    });

    [Property]
    public Property Report_DoesNotDependOnArrivalOrder() => Prop.ForAll(Streams(), events =>
    {
        FunnelReport forward = Report(events);
        FunnelReport backward = Report([.. events.Reverse()]);
        return forward.Overall.Steps.Select(s => s.Reached).SequenceEqual(backward.Overall.Steps.Select(s => s.Reached))
            && forward.Overall.Revenue == backward.Overall.Revenue
            && forward.Email == backward.Email;
    });
}
