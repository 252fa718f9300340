using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Analytics.Experiments;
using NodaTime;

namespace Funnel.Analytics.Tests.Experiments;

public class ExperimentAssignerTests
{
    private static readonly Experiment Headline = new()
    {
        Key = "sales-page-headline",
        Variants = [new ExperimentVariant("control"), new ExperimentVariant("transformation")],
    };

    // Fixed vectors, computed once with the documented hash (SHA-256 of "sales-page-headline:<lead>").
    // They must never change: a lead keeps its variant across processes, machines and versions.
    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000001", "control")]
    [InlineData("00000000-0000-0000-0000-000000000002", "transformation")]
    [InlineData("0194f5c2-7a3b-7c1d-9e2f-3a4b5c6d7e8f", "transformation")]
    [InlineData("5f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "control")]
    public void Assign_FixedLeads_GetTheirRecordedVariant(string lead, string variant) =>
        new ExperimentAssigner().Assign(Headline, LeadId.Parse(lead)).Variant.ShouldBe(variant);

    [Fact]
    public void Assign_SameLeadTwice_IsSticky()
    {
        var lead = LeadId.New();

        new ExperimentAssigner().Assign(Headline, lead).ShouldBe(new ExperimentAssigner().Assign(Headline, lead));
    }

    [Fact]
    public void Assign_WithHoldout_HoldsOutAboutThatShare()
    {
        Experiment withHoldout = Headline with { HoldoutPercent = 20m };
        var assigner = new ExperimentAssigner();

        int held = Enumerable.Range(0, 20_000).Count(i => assigner.Assign(withHoldout, new LeadId(new Guid(i, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0))).IsHoldout);

        ((double)held / 20_000).ShouldBe(0.20, 0.015);
    }

    [Fact]
    public void Expose_HeldOutLead_RecordsNothing()
    {
        // Lead 3 falls in the first 20 % of the holdout roll (computed once with the documented hash).
        Experiment withHoldout = Headline with { HoldoutPercent = 20m };
        var lead = LeadId.Parse("00000000-0000-0000-0000-000000000003");

        new ExperimentAssigner().Expose(withHoldout, lead, Instant.FromUnixTimeSeconds(0)).ShouldBeNull();
        new ExperimentAssigner().Expose(Headline, lead, Instant.FromUnixTimeSeconds(0)).ShouldNotBeNull();
    }

    [Fact]
    public void Expose_AssignedLead_RecordsTheVariant()
    {
        var lead = LeadId.Parse("00000000-0000-0000-0000-000000000001");

        ExperimentExposed? exposure = new ExperimentAssigner().Expose(Headline, lead, Instant.FromUnixTimeSeconds(10));

        exposure.ShouldNotBeNull();
        exposure.Variant.ShouldBe("control");
        exposure.Subject.ShouldBe("sales-page-headline");
        exposure.EventType.ShouldBe("experiment_exposed");
    }

    [Fact]
    public void Assign_InvalidExperiment_ThrowsNamingTheField()
    {
        Experiment bad = Headline with { Variants = [new ExperimentVariant("a"), new ExperimentVariant("b", 0)] };

        Should.Throw<FluentValidation.ValidationException>(() => new ExperimentAssigner().Assign(bad, LeadId.New())).Message.ShouldContain("Variants[1].Weight");
    }

    [Property(MaxTest = 20)]
    public Property Split_MatchesTheWeights_WithinTolerance() => Prop.ForAll(
        Gen.Choose(1, 5).ArrayOf().Where(w => w.Length is >= 2 and <= 4).ToArbitrary(),
        Gen.Choose(0, int.MaxValue).ToArbitrary(),
        (weights, salt) =>
        {
            var experiment = new Experiment { Key = "exp-" + salt, Variants = [.. weights.Select((w, i) => new ExperimentVariant("v" + i, w))] };
            var assigner = new ExperimentAssigner();
            const int N = 8000;
            var counts = new int[weights.Length];
            for (int i = 0; i < N; i++)
            {
                string variant = assigner.Assign(experiment, new LeadId(new Guid(i, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0))).Variant!;
                counts[int.Parse(variant[1..], System.Globalization.CultureInfo.InvariantCulture)]++;
            }

            double total = weights.Sum();

            // Within 5 standard errors of each expected share (a false alarm is ~1 in 3 million per variant).
            return weights.Select((w, i) =>
            {
                double p = w / total;
                return Math.Abs(((double)counts[i] / N) - p) <= 5 * Math.Sqrt(p * (1 - p) / N);
            }).All(ok => ok);
        });

    [Property(MaxTest = 50)]
    public Property Assignment_IsStable_AcrossAssignerInstances() => Prop.ForAll(
        Gen.Choose(int.MinValue, int.MaxValue).ToArbitrary(),
        seed =>
        {
            var lead = new LeadId(new Guid(seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
            return new ExperimentAssigner().Assign(Headline, lead) == new ExperimentAssigner().Assign(Headline, lead);
        });

    [Fact]
    public void Assign_KnownLeads_GetTheVariantsTheDocumentedHashGives()
    {
        // Computed outside .NET from the documented rule (SHA-256 of "key:lead", bytes 8-15 big-endian scaled onto the
        // weights), so a change to the bucketing that would reshuffle running experiments fails here.
        var experiment = new Experiment { Key = "headline-test", Variants = [new ExperimentVariant("a", 1), new ExperimentVariant("b", 1), new ExperimentVariant("c", 2)] };
        var assigner = new ExperimentAssigner();

        string?[] variants = [.. Enumerable.Range(1, 6).Select(n => assigner.Assign(experiment, LeadId.Parse($"0193f5a0-1111-7000-8000-00000000000{n}")).Variant)];

        variants.ShouldBe(["a", "c", "c", "c", "c", "c"]);
    }
}
