using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Segments;
using NodaTime;

namespace Funnel.Tests.Segments;

/// <summary>A lead of a generated population: a profile (or none, for a visitor) and its events.</summary>
public sealed record GeneratedLead(LeadId Id, LeadProfile? Profile, ImmutableArray<FunnelEvent> Events);

/// <summary>A generated population with its evaluation instant.</summary>
public sealed record GeneratedPopulation(ImmutableArray<GeneratedLead> Leads, Instant Now)
{
    public override string ToString() => $"{Leads.Length} leads, {Leads.Sum(l => l.Events.Length)} events";
}

/// <summary>FsCheck generators for segment rules and small populations that exercise every rule kind.</summary>
public static class SegmentArbitraries
{
    public static readonly Instant Now = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly string[] EventTypeNames = [EventTypes.PageViewed, EventTypes.OptedIn, EventTypes.EmailOpened, EventTypes.EmailClicked, EventTypes.SalesPageVisited];

    private static readonly string?[] Subjects = [null, "/blog/*", "/blog/a", "/blog/b", "/free-guide", "/sales", "guide", "nurture-1", "nurture-2", "course"];

    private static readonly string[] Tags = ["vip", "buyer", "cold"];

    public static Gen<Duration?> Window { get; } = Gen.Frequency(
        (3, Gen.Constant<Duration?>(null)),
        (2, Gen.Elements<Duration?>(Duration.FromHours(1), Duration.FromDays(1), Duration.FromMinutes(90), Duration.FromDays(7))),
        (1, Gen.Choose(1, int.MaxValue).Select(n => (Duration?)Duration.FromNanoseconds(n * 997L))));

    private static readonly Gen<ImmutableSortedDictionary<string, string>> PropertyFilter = Gen.Elements(
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("variant", "a"),
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("variant", "b").Add("device", "mobile"));

    private static readonly Gen<SegmentRule> Leaf = Gen.OneOf(
        from type in Gen.Elements(EventTypeNames)
        from subject in Gen.Elements(Subjects)
        from atLeast in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(2, 3)))
        from within in Window
        from properties in PropertyFilter
        select (SegmentRule)new EventRule { EventType = type, Subject = subject, AtLeast = atLeast, Within = within, Properties = properties },
        from email in Gen.Elements("nurture-1", "nurture-2", "nurture-*")
        from action in Gen.Elements(EmailAction.Opened, EmailAction.Clicked)
        from within in Window
        select (SegmentRule)new EmailRule(email, action, within),
        from page in Gen.Elements("/blog/*", "/blog/a", "/free-guide", "/sales")
        from within in Window
        select (SegmentRule)new PageRule(page, within),
        Gen.Elements(Tags).Select(t => (SegmentRule)new TagRule(t)),
        from field in Gen.Elements("country", "age")
        from op in Gen.Elements(Enum.GetValues<FieldOperator>())
        from value in op >= FieldOperator.GreaterThan ? Gen.Elements("18", "30", "42.5") : Gen.Elements("DE", "US", "30", "E")
        select (SegmentRule)new FieldRule(field, op, op == FieldOperator.Exists ? null : value),
        from a in Gen.Choose(-1, 5)
        from b in Gen.Choose(-1, 5)
        where a >= 0 || b >= 0
        select (SegmentRule)new StageRule(a < 0 ? null : (LifecycleStage)Math.Min(a, b < 0 ? a : b), b < 0 ? null : (LifecycleStage)Math.Max(a, b)),
        from a in Gen.Choose(-1, 12)
        from b in Gen.Choose(-1, 12)
        where a >= 0 || b >= 0
        select (SegmentRule)new ScoreRule(a < 0 ? null : Math.Min(a, b < 0 ? a : b) * 2.5, b < 0 ? null : Math.Max(a, b) * 2.5),
        Gen.Elements(Enum.GetValues<ConsentStatus>()).Select(s => (SegmentRule)new ConsentRule(s)));

    public static Gen<SegmentRule> Rule { get; } = Gen.Sized(size => RuleOfDepth(Math.Min(4, size / 20 + 1)));

    private static Gen<SegmentRule> RuleOfDepth(int depth) => depth <= 0
        ? Leaf
        : Gen.Frequency(
            (3, Leaf),
            (1, RuleOfDepth(depth - 1).NonEmptyListOf().Select(l => (SegmentRule)new AllRule([.. l.Take(5)]))),
            (1, RuleOfDepth(depth - 1).NonEmptyListOf().Select(l => (SegmentRule)new AnyRule([.. l.Take(5)]))),
            (1, RuleOfDepth(depth - 1).Select(r => (SegmentRule)new NotRule(r))));

    private static readonly Gen<FunnelEvent> Event =
        from type in Gen.Elements(EventTypeNames)
        from subject in Gen.Elements("/blog/a", "/blog/b", "/free-guide", "/sales", "guide", "nurture-1", "nurture-2", "course")
        from minutes in Gen.Choose(-60 * 24 * 10, 120)
        from props in Gen.Elements(0, 1, 2)
        select Make(type, subject, Now + Duration.FromMinutes(minutes), props);

    private static FunnelEvent Make(string type, string subject, Instant at, int props)
    {
        LeadId lead = LeadId.New();
        FunnelEvent e = type switch
        {
            EventTypes.PageViewed => new PageViewed { LeadId = lead, OccurredAt = at, Page = subject },
            EventTypes.OptedIn => new OptedIn { LeadId = lead, OccurredAt = at, Magnet = subject },
            EventTypes.EmailOpened => new EmailOpened { LeadId = lead, OccurredAt = at, Email = subject },
            EventTypes.EmailClicked => new EmailClicked { LeadId = lead, OccurredAt = at, Email = subject },
            _ => new SalesPageVisited { LeadId = lead, OccurredAt = at, Offer = subject },
        };
        return props switch
        {
            1 => e with { Properties = ImmutableDictionary<string, string>.Empty.Add("variant", "a") },
            2 => e with { Properties = ImmutableDictionary<string, string>.Empty.Add("variant", "b").Add("device", "mobile") },
            _ => e,
        };
    }

    private static readonly Gen<GeneratedLead> LeadGen =
        from visitor in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from stage in Gen.Choose(1, 5)
        from score in Gen.Choose(0, 12)
        from consent in Gen.Elements(Enum.GetValues<ConsentStatus>())
        from tags in Gen.SubListOf(Tags)
        from country in Gen.Elements<string?>(null, "DE", "US", "UK")
        from age in Gen.Elements<string?>(null, "18", "30", "42.5", "n/a")
        from events in Event.ListOf()
        select Lead(visitor, (LifecycleStage)stage, score * 2.5, consent, tags, country, age, events);

    private static GeneratedLead Lead(bool visitor, LifecycleStage stage, double score, ConsentStatus consent, IEnumerable<string> tags, string? country, string? age, IEnumerable<FunnelEvent> events)
    {
        LeadId id = LeadId.New();
        ImmutableSortedDictionary<string, string> fields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        if (country is not null)
        {
            fields = fields.Add("country", country);
        }

        if (age is not null)
        {
            fields = fields.Add("age", age);
        }

        LeadProfile? profile = visitor ? null : new LeadProfile
        {
            Id = id,
            Email = EmailAddress.Parse($"lead-{id.Value:N}@example.com"),
            CreatedAt = Now,
            Stage = stage,
            Score = score,
            Consent = consent == ConsentStatus.None ? null : new ConsentRecord { Purpose = "marketing-email", Status = consent, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Now },
            Tags = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, tags),
            CustomFields = fields,
        };
        return new GeneratedLead(id, profile, [.. events.Select(e => (FunnelEvent)((LeadEvent)e with { LeadId = id }))]);
    }

    public static Gen<GeneratedPopulation> Population { get; } =
        from count in Gen.Choose(0, 150)
        from leads in LeadGen.ArrayOf(count)
        select new GeneratedPopulation([.. leads], Now);

    public static LeadPopulation Build(GeneratedPopulation generated, bool shuffleEvents = false)
    {
        LeadPopulationBuilder builder = new();
        int[] index = [.. generated.Leads.Select(l => l.Profile is null ? builder.AddVisitor(l.Id) : builder.Add(l.Profile))];
        IEnumerable<(int Lead, FunnelEvent Event)> events = generated.Leads.SelectMany((l, i) => l.Events.Select(e => (index[i], e)));
        if (shuffleEvents)
        {
            events = events.Reverse();
        }

        foreach ((int lead, FunnelEvent e) in events)
        {
            builder.AddEvent(lead, e);
        }

        return builder.Build();
    }
}
