using FsCheck;
using FsCheck.Fluent;

namespace Funnel.Analytics.Tests.Funnels;

/// <summary>A small random funnel question with the events of a few leads, at colliding instants.</summary>
public sealed record FunnelCase(int Steps, int WindowMinutes, bool Strict, bool Exclusions, (int Lead, int Minute, int Type)[] Events)
{
    public override string ToString() =>
        $"steps={Steps} window={WindowMinutes} strict={Strict} exclusions={Exclusions} events=[{string.Join(", ", Events.Select(e => $"L{e.Lead}@{e.Minute}:t{e.Type}"))}]";
}

/// <summary>FsCheck generators for funnel analysis (kept here, not in the shared arbitraries).</summary>
public static class FunnelArbitraries
{
    public static Arbitrary<FunnelCase> Cases()
    {
        Gen<FunnelCase> gen =
            from steps in Gen.Choose(1, 4)
            from window in Gen.Elements(0, 2, 5, 10, 1000)
            from strict in Gen.Elements(false, true)
            from exclusions in Gen.Elements(false, true)
            from events in Gen.ArrayOf(
                from lead in Gen.Choose(1, 4)
                from minute in Gen.Choose(0, 15)
                from type in Gen.Choose(0, steps + 1)
                select (lead, minute, type))
            select new FunnelCase(steps, window, strict, exclusions, events);
        return gen.ToArbitrary();
    }
}
