using System.Collections.Immutable;
using FluentValidation.Results;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Tests.Sequences;

/// <summary>Generators for variant assignment: lead ids, test keys and weighted variant lists.</summary>
internal static class VariantArbitraries
{
    public static Gen<LeadId> Lead { get; } =
        from a in Gen.Choose(int.MinValue, int.MaxValue)
        from b in Gen.Choose(int.MinValue, int.MaxValue)
        from c in Gen.Choose(int.MinValue, int.MaxValue)
        from d in Gen.Choose(int.MinValue, int.MaxValue)
        select new LeadId(new Guid([.. BitConverter.GetBytes(a), .. BitConverter.GetBytes(b), .. BitConverter.GetBytes(c), .. BitConverter.GetBytes(d)]));

    public static Gen<string> TestKey { get; } =
        from sequence in Gen.Choose(0, 50)
        from step in Gen.Choose(0, 20)
        select EmailVariants.TestKey("seq-" + sequence, "step-" + step);

    public static Gen<ImmutableArray<EmailVariant>> Variants { get; } =
        from count in Gen.Choose(1, EmailVariants.MaxVariants)
        from weights in Gen.ArrayOf(Gen.Choose(1, EmailVariants.MaxWeight), count)
        select weights.Select((w, i) => new EmailVariant { Key = i == 0 ? EmailVariant.ControlKey : "v" + i, Weight = w, Subject = i == 0 ? null : "S" + i }).ToImmutableArray();
}

public class EmailVariantTests
{
    private static readonly ImmutableArray<EmailVariant> ControlAndShort =
    [
        new() { Key = EmailVariant.ControlKey },
        new() { Key = "short", Subject = "Inside: your guide" },
    ];

    private static SequenceDefinition Tested(ImmutableArray<EmailVariant> variants, int steps = 1) => new()
    {
        Key = "guide-test",
        Triggers = [EventMatch.For(EventTypes.OptedIn)],
        ExitGoals = [],
        Steps = [.. Enumerable.Range(1, steps).Select(i => new SequenceStep
        {
            Key = "test-" + i,
            Delay = i == 1 ? Period.Zero : Period.FromDays(1),
            Subject = "Your quick-start guide is inside",
            TextBody = "Hello {{ email }}",
            HtmlBody = "<p>Hello</p>",
            Variants = i == 1 ? variants : [],
        })],
    };

    [Property(MaxTest = 300)]
    public Property Assign_AnyLeadKeyAndWeights_IsStickyAndPicksOneOfTheVariants() => Prop.ForAll(
        Arb.From(from lead in VariantArbitraries.Lead
                 from key in VariantArbitraries.TestKey
                 from variants in VariantArbitraries.Variants
                 select (lead, key, variants)),
        t =>
        {
            EmailVariant first = EmailVariants.Assign(t.key, t.lead, t.variants)!;
            // A copy of the definition (another instance of the app, a reloaded configuration) picks the same variant.
            ImmutableArray<EmailVariant> copy = [.. t.variants.Select(v => v with { })];
            EmailVariant again = EmailVariants.Assign(t.key, new LeadId(Guid.Parse(t.lead.ToString())), copy)!;
            return t.variants.Contains(first) && again.Key == first.Key && EmailVariants.Assign(t.key, t.lead, t.variants) == first;
        });

    [Property(MaxTest = 100)]
    public Property Assign_AnyWeights_SplitsLeadsWithinSixSigmaOfTheWeights() => Prop.ForAll(
        Arb.From(from key in VariantArbitraries.TestKey
                 from variants in VariantArbitraries.Variants
                 from seed in Gen.Choose(0, int.MaxValue)
                 select (key, variants, seed)),
        t =>
        {
            const int Leads = 4_000;
            Random random = new(t.seed);
            Dictionary<string, int> counts = t.variants.ToDictionary(v => v.Key, _ => 0);
            for (int i = 0; i < Leads; i++)
            {
                counts[EmailVariants.Assign(t.key, new LeadId(RandomGuid(random)), t.variants)!.Key]++;
            }

            double total = t.variants.Sum(v => (double)v.Weight);
            return t.variants.All(v =>
            {
                double p = v.Weight / total;
                double sigma = Math.Sqrt(Leads * p * (1 - p));
                // Six sigma (plus a little for tiny shares, whose counts are Poisson): a random failure is about 1e-8 per check.
                return Math.Abs(counts[v.Key] - (Leads * p)) <= (6 * sigma) + 3;
            });
        });

    [Fact]
    public void Assign_HundredThousandLeadsWithFixedSeed_MatchesTheWeightsWithinHalfAPercent()
    {
        ImmutableArray<EmailVariant> variants =
        [
            new() { Key = EmailVariant.ControlKey, Weight = 2 },
            new() { Key = "short", Weight = 1, Subject = "Short" },
            new() { Key = "question", Weight = 1, Subject = "Question?" },
        ];
        Random random = new(19);
        Dictionary<string, int> counts = variants.ToDictionary(v => v.Key, _ => 0);
        for (int i = 0; i < 100_000; i++)
        {
            counts[EmailVariants.Assign("guide-test/test-1", new LeadId(RandomGuid(random)), variants)!.Key]++;
        }

        // One standard deviation is about 0.16 % of the leads here; half a percent is three of them.
        (counts["control"] / 100_000.0).ShouldBe(0.50, 0.005);
        (counts["short"] / 100_000.0).ShouldBe(0.25, 0.005);
        (counts["question"] / 100_000.0).ShouldBe(0.25, 0.005);
    }

    [Fact]
    public void Assign_VersionSevenLeadIdsOfOneMillisecond_StillSplitEvenly()
    {
        // Lead ids made in one burst share their leading bytes; the hash must not care.
        Dictionary<string, int> counts = new() { ["control"] = 0, ["short"] = 0 };
        for (int i = 0; i < 10_000; i++)
        {
            counts[EmailVariants.Assign("guide-test/test-1", LeadId.New(), ControlAndShort)!.Key]++;
        }

        counts["control"].ShouldBeInRange(4_700, 5_300);
    }

    [Fact]
    public void Assign_KnownLeads_GetTheVariantsTheDocumentedHashGives()
    {
        // Computed outside .NET from the documented rule (SHA-256 of "testKey:lead", the first 8 bytes big-endian scaled
        // onto the weights), so a change to the bucketing that would move leads of a running test fails here.
        ImmutableArray<EmailVariant> variants = [new EmailVariant { Key = EmailVariant.ControlKey, Weight = 2 }, new EmailVariant { Key = "short" }, new EmailVariant { Key = "question" }];

        string?[] picked = [.. Enumerable.Range(1, 6).Select(n => EmailVariants.Assign("guide-nurture/nurture-1", LeadId.Parse($"0193f5a0-1111-7000-8000-00000000000{n}"), variants)?.Key)];

        picked.ShouldBe(["short", "control", "short", "control", "control", "control"]);
    }

    [Fact]
    public void Assign_NoVariants_ReturnsNull() =>
        EmailVariants.Assign("guide-test/test-1", LeadId.New(), []).ShouldBeNull();

    [Fact]
    public void Assign_ZeroWeight_Throws() =>
        Should.Throw<ArgumentException>(() => EmailVariants.Assign("k", LeadId.New(), [new() { Key = "control", Weight = 0 }]));

    [Fact]
    public void Validate_WellFormedVariants_IsValid() =>
        new SequenceDefinitionValidator().Validate(Tested(ControlAndShort)).Errors.ShouldBeEmpty();

    [Fact]
    public void Validate_BrokenVariants_NamesEachProblem()
    {
        ImmutableArray<EmailVariant> variants =
        [
            new() { Key = "short", Subject = "A" },
            new() { Key = "short", Subject = "B" },
            new() { Key = "Bad Key", Subject = "C" },
            new() { Key = "heavy", Weight = 0, Subject = "D" },
            new() { Key = "empty" },
            new() { Key = "unknown-field", Subject = "Hi {{ nickname }}" },
            new() { Key = "blank", TextBody = " " },
        ];

        ValidationResult result = new SequenceDefinitionValidator().Validate(Tested(variants));

        result.Errors.Select(e => e.PropertyName).ShouldBe(
        [
            "Steps[0].Variants[1].Key", "Steps[0].Variants[2].Key", "Steps[0].Variants[3].Weight", "Steps[0].Variants[4]",
            "Steps[0].Variants[5].Subject", "Steps[0].Variants[6].TextBody", "Steps[0].Variants",
        ], ignoreOrder: true);
        result.Errors.Single(e => e.PropertyName == "Steps[0].Variants").ErrorMessage.ShouldContain("'control'");
    }

    [Fact]
    public void Validate_MoreThanTheMostVariants_IsAnError()
    {
        ImmutableArray<EmailVariant> variants =
            [new() { Key = "control" }, .. Enumerable.Range(1, EmailVariants.MaxVariants).Select(i => new EmailVariant { Key = "v" + i, Subject = "S" + i })];

        ValidationResult result = new SequenceDefinitionValidator().Validate(Tested(variants));

        result.Errors.ShouldHaveSingleItem().ErrorMessage.ShouldContain($"at most {EmailVariants.MaxVariants}");
    }

    [Fact]
    public async Task Dispatch_StepWithVariants_SendsEachLeadItsVariantAndRecordsItOnTheSentEvent()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceDefinition definition = Tested(ControlAndShort, steps: 2);
        SequenceEngine engine = world.Engine(sender, [definition]);
        List<LeadProfile> leads = [];
        for (int i = 0; i < 200; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            leads.Add(lead);
            await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        List<FunnelEvent> events = await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromDays(3), Duration.FromHours(1));

        List<EmailSent> sent = [.. events.OfType<EmailSent>().Where(e => e.Email == "test-1")];
        sent.Count.ShouldBe(200);
        Dictionary<LeadId, string> subjects = sender.Sent.Where(s => s.Message.EmailKey == "test-1").ToDictionary(s => s.Message.LeadId!.Value, s => s.Message.Subject);
        foreach (EmailSent e in sent)
        {
            string expected = EmailVariants.Assign("guide-test/test-1", e.LeadId, ControlAndShort)!.Key;
            e.Variant.ShouldBe(expected);
            subjects[e.LeadId].ShouldBe(expected == "short" ? "Inside: your guide" : "Your quick-start guide is inside");
        }

        sent.Count(e => e.Variant == "short").ShouldBeInRange(70, 130); // 50 % of 200, within about four sigma.
        // The step without variants records none, and the old JSON shape.
        events.OfType<EmailSent>().Where(e => e.Email == "test-2").ShouldAllBe(e => e.Variant == null);
    }

    [Fact]
    public async Task Dispatch_RetryOnAnotherEngineInstance_SendsTheSameVariant()
    {
        SequenceWorld world = new();
        RecordingSender failing = new(world.Clock) { Script = (_, _) => EmailSendResult.Transient("421 try later") };
        RecordingSender working = new(world.Clock);
        ImmutableArray<EmailVariant> variants =
        [
            new() { Key = EmailVariant.ControlKey },
            new() { Key = "a", Subject = "A" },
            new() { Key = "b", Subject = "B" },
            new() { Key = "c", Subject = "C" },
        ];
        SequenceDefinition definition = Tested(variants);
        SequenceEngine first = world.Engine(failing, [definition], id: "instance-1");
        SequenceEngine second = world.Engine(working, [definition with { }], id: "instance-2");
        List<LeadProfile> leads = [];
        for (int i = 0; i < 40; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            leads.Add(lead);
            await first.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        List<FunnelEvent> failed = await world.RunUntilAsync(first, SequenceWorld.Start + Duration.FromMinutes(1), Duration.FromMinutes(1));
        List<FunnelEvent> sent = await world.RunUntilAsync(second, SequenceWorld.Start + Duration.FromHours(2), Duration.FromMinutes(5));

        Dictionary<LeadId, string?> firstTry = failed.OfType<EmailFailed>().ToDictionary(e => e.LeadId, e => e.Variant);
        firstTry.Count.ShouldBe(40);
        List<EmailSent> sends = [.. sent.OfType<EmailSent>()];
        sends.Count.ShouldBe(40);
        foreach (EmailSent e in sends)
        {
            e.Variant.ShouldNotBeNull();
            e.Variant.ShouldBe(firstTry[e.LeadId]);
        }

        sends.Select(e => e.Variant).Distinct().Count().ShouldBeGreaterThan(2);
    }

    [Fact]
    public async Task Compute_EventsOfTheEngineAndFeedback_AttributesOpensClicksUnsubscribesAndOrdersToTheVariant()
    {
        SequenceWorld world = new();
        RecordingSender sender = new(world.Clock);
        SequenceEngine engine = world.Engine(sender, [Tested(ControlAndShort)]);
        for (int i = 0; i < 100; i++)
        {
            LeadProfile lead = await world.AddLeadAsync(i);
            await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));
        }

        List<FunnelEvent> events = await world.RunUntilAsync(engine, SequenceWorld.Start + Duration.FromHours(1), Duration.FromMinutes(10));
        List<EmailSent> sent = [.. events.OfType<EmailSent>()];
        Instant later = world.Clock.GetCurrentInstant() + Duration.FromHours(1);
        List<FunnelEvent> all = [.. sent];
        // Feedback carries no variant (as from a tracking pixel or a provider's webhook): it is attributed through the send.
        // Leads of "short" open twice and click; every third lead of the control unsubscribes; every fourth lead orders.
        int n = 0;
        foreach (EmailSent e in sent)
        {
            if (e.Variant == "short")
            {
                all.Add(new EmailOpened { LeadId = e.LeadId, OccurredAt = later, Email = "test-1" });
                all.Add(new EmailOpened { LeadId = e.LeadId, OccurredAt = later + Duration.FromMinutes(1), Email = "test-1" });
                all.Add(new EmailClicked { LeadId = e.LeadId, OccurredAt = later, Email = "test-1", Url = "https://example.com/" });
            }
            else if (n % 3 == 0)
            {
                all.Add(new EmailUnsubscribed { LeadId = e.LeadId, OccurredAt = later, Email = "test-1" });
            }

            if (n % 4 == 0)
            {
                all.Add(SequenceWorld.Order(e.LeadId, later));
            }

            n++;
        }

        LeadId stranger = LeadId.New();
        all.Add(new EmailOpened { LeadId = stranger, OccurredAt = later, Email = "test-1" }); // never sent a variant: ignored.
        all.Add(SequenceWorld.Order(sent[1].LeadId, sent[1].OccurredAt - Duration.FromMinutes(1))); // before the send: no conversion.

        ImmutableArray<EmailVariantMetrics> metrics = EmailVariantMetrics.Compute(all.AsEnumerable().Reverse(), EventMatch.For(EventTypes.OrderPlaced));

        int shortCount = sent.Count(e => e.Variant == "short");
        metrics.Select(m => m.Variant).ShouldBe(["control", "short"]);
        EmailVariantMetrics control = metrics[0];
        EmailVariantMetrics challenger = metrics[1];
        (control.Sent + challenger.Sent).ShouldBe(100);
        challenger.ShouldBe(new EmailVariantMetrics("test-1", "short", shortCount, shortCount, shortCount, 0, sent.Where((e, i) => e.Variant == "short" && i % 4 == 0).Count()));
        control.Opened.ShouldBe(0);
        control.Unsubscribed.ShouldBe(sent.Where((e, i) => e.Variant != "short" && i % 3 == 0).Count());
        control.Converted.ShouldBe(sent.Where((e, i) => e.Variant != "short" && i % 4 == 0).Count());
        Random random = new(19);
        EmailVariantMetrics.Compute(all.OrderBy(_ => random.Next()), EventMatch.For(EventTypes.OrderPlaced)).ShouldBe(metrics);
        EmailVariantMetrics.Compute(all).Select(m => m.Converted).ShouldBe([0, 0]); // no goal, no conversions.
    }

    [Fact]
    public void Serialize_EmailSentWithoutVariant_KeepsTheStoredShapeAndOldJsonReads()
    {
        FunnelEventSerializer serializer = new(FunnelEventTypes.FromAssemblies(typeof(EmailSent).Assembly));
        LeadId lead = LeadId.New();
        EmailSent plain = new() { LeadId = lead, OccurredAt = SequenceWorld.Start, Email = "nurture-1" };
        EmailSent tested = plain with { Variant = "short" };

        string plainJson = serializer.Serialize(plain);
        string testedJson = serializer.Serialize(tested);

        plainJson.ShouldNotContain("variant");
        testedJson.ShouldContain("\"variant\":\"short\"");
        serializer.Deserialize(plainJson).ShouldBe(plain);
        serializer.Deserialize(testedJson).ShouldBe(tested);
        ((EmailSent)serializer.Deserialize(plainJson)).Variant.ShouldBeNull();
    }

    private static Guid RandomGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
