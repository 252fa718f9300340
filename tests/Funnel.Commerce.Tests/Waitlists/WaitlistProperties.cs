using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Offers;
using Funnel.Samples.EbookMasterclass;
using Funnel.Waitlists;
using NodaTime;

namespace Funnel.Tests.Waitlists;

/// <summary>What one step of a <see cref="WaitlistScript"/> does.</summary>
public enum WaitlistStepKind
{
    Join,
    Leave,
    Buy,
    RefundOldest,
    AdvanceHours,
    ExpireHolds,
}

/// <summary>One step: its kind and the lead it concerns (or the hours to advance).</summary>
public readonly record struct WaitlistStep(WaitlistStepKind Kind, int Lead);

/// <summary>A seat limit and steps of joins, leaves, purchases, refunds, clock advances and expiry runs, in any order.</summary>
public sealed record WaitlistScript(int Capacity, WaitlistStep[] Steps)
{
    public override string ToString() => $"capacity {Capacity}: {string.Join(", ", Steps.Select(s => $"{s.Kind}({s.Lead})"))}";
}

/// <summary>FsCheck generators for waitlists.</summary>
public static class WaitlistArbitraries
{
    public static Arbitrary<WaitlistScript> WaitlistScriptArb() => Arb.From(
        from capacity in Gen.Choose(1, 3)
        from count in Gen.Choose(1, 40)
        from kinds in Gen.ArrayOf(Gen.Elements(Enum.GetValues<WaitlistStepKind>()), count)
        from leads in Gen.ArrayOf(Gen.Choose(1, 7), count)
        select new WaitlistScript(capacity, [.. kinds.Zip(leads, (k, l) => new WaitlistStep(k, k == WaitlistStepKind.AdvanceHours ? l * 5 : l))]));
}

[Properties(Arbitrary = new[] { typeof(WaitlistArbitraries) }, MaxTest = 150)]
public class WaitlistProperties
{
    private static readonly OfferId Offer = OfferPathCatalogue.Basic;

    [Property]
    public Property AnyOrderOfJoinsReleasesExpiriesAndPurchases_NeverSellsMoreSeatsThanTheLimitOrHoldsOneSeatTwice(WaitlistScript script)
    {
        var kit = new WaitlistTestKit(script.Capacity);
        var orders = new List<Order>();
        var failures = new List<string>();
        foreach (WaitlistStep step in script.Steps)
        {
            RunAsync(kit, orders, step).GetAwaiter().GetResult();
            Check(kit, orders, script.Capacity, step, failures).GetAwaiter().GetResult();
        }

        return (failures.Count == 0).Label(string.Join("; ", failures));
    }

    private static async Task RunAsync(WaitlistTestKit kit, List<Order> orders, WaitlistStep step)
    {
        switch (step.Kind)
        {
            case WaitlistStepKind.Join:
                await kit.Waitlists.JoinAsync(Offer, WaitlistTestKit.Lead(step.Lead));
                break;
            case WaitlistStepKind.Leave:
                await kit.Waitlists.LeaveAsync(Offer, WaitlistTestKit.Lead(step.Lead));
                break;
            case WaitlistStepKind.Buy:
                if (await kit.BuyAsync(step.Lead) is { } order)
                {
                    orders.Add(order);
                }

                break;
            case WaitlistStepKind.RefundOldest:
                if (orders.Count > 0)
                {
                    await kit.Service.RefundAsync(orders[0].Id, orders[0].Paid);
                    orders.RemoveAt(0);
                }

                break;
            case WaitlistStepKind.AdvanceHours:
                kit.Clock.Advance(Duration.FromHours(step.Lead));
                break;
            case WaitlistStepKind.ExpireHolds:
                await kit.Waitlists.ExpireDueAsync();
                break;
        }
    }

    private static async Task Check(WaitlistTestKit kit, List<Order> orders, int capacity, WaitlistStep step, List<string> failures)
    {
        (int sold, int held) = kit.Inventory.Count(Offer);
        Waitlist? waitlist = await kit.Store.FindAsync(Offer);
        Instant now = kit.Clock.GetCurrentInstant();
        WaitlistHold[] live = waitlist is null ? [] : [.. waitlist.Holds.Where(h => h.ExpiresAt > now)];
        if (orders.Count > capacity)
        {
            failures.Add($"after {step}: {orders.Count} paid orders for {capacity} seats");
        }

        if (sold != orders.Count)
        {
            failures.Add($"after {step}: {sold} seats sold but {orders.Count} orders");
        }

        if (sold + held > capacity)
        {
            failures.Add($"after {step}: {sold} sold + {held} held > {capacity}");
        }

        if (live.Length > held || live.Select(h => h.Lead).Distinct().Count() != live.Length)
        {
            failures.Add($"after {step}: {live.Length} live waitlist holds for {held} held seats");
        }

        if (waitlist is not null && waitlist.Waiting.Any(w => live.Any(h => h.Lead == w.Lead && !h.Left)))
        {
            failures.Add($"after {step}: a lead both waits and holds");
        }

        // A lapsed hold frees its seat until the job runs (checkouts of others are turned away meanwhile).
        if (step.Kind == WaitlistStepKind.ExpireHolds && waitlist is not null && !waitlist.Waiting.IsEmpty && sold + held < capacity)
        {
            failures.Add($"after {step}: a seat is still free while {waitlist.Waiting.Length} leads wait");
        }
    }
}
