using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using NodaTime;
using NodaTime.Testing;
using static Funnel.Tests.Advocacy.AdvocacyTestKit;

namespace Funnel.Tests.Advocacy;

public class ReferralProperties
{
    /// <summary>Random referral attempts among 4 customers and 6 leads sharing 5 addresses and 3 card fingerprints, then purchases.</summary>
    [Property(MaxTest = 300)]
    public Property Rewards_AnyAttempts_OnlyForGenuineFirstPurchasesOncePerFriend((int Referrer, int Friend, int Email, int Card)[] attempts)
    {
        var clock = new FakeClock(T0);
        var program = InMemoryEngines.Referrals(new ReferralProgramSettings { FriendCoupon = new Coupon { Code = "FRIEND20", PercentOff = 20m }, ReferrerCredit = Usd(50) }, clock);
        static EmailAddress Email(int n) => EmailAddress.Parse($"person{Math.Abs(n % 5)}@example.com");
        static string Card(int n) => "card" + Math.Abs(n % 3);
        var codes = Enumerable.Range(1, 4).ToDictionary(r => r, r => program.CodeFor(Lead(r), Email(r), Card(r)));
        var acceptedBy = new Dictionary<int, int>();
        var firstCard = new Dictionary<int, string>();
        bool guardsHeld = true;
        int order = 0;

        foreach (var (r, f, e, c) in attempts ?? [])
        {
            int referrer = 1 + Math.Abs(r % 4), friend = 1 + Math.Abs(f % 6);
            ReferralOutcome outcome = program.Refer(codes[referrer], Lead(friend), Email(e));
            bool genuine = friend != referrer && Email(e) != Email(referrer) && !acceptedBy.ContainsKey(friend);
            guardsHeld &= (outcome.Rejection is null) == genuine;
            if (genuine)
            {
                acceptedBy[friend] = referrer;
            }

            if (acceptedBy.ContainsKey(friend))
            {
                firstCard.TryAdd(friend, Card(c));
            }

            program.RecordPurchase(Placed(friend, ++order, Usd(497), clock.GetCurrentInstant()), Card(c));
        }

        clock.Advance(Duration.FromDays(31));
        var rewards = program.ReleaseRewards().Cast<ReferralRewardEarned>().ToList();

        int[] expected = [.. firstCard.Where(p => p.Value != Card(acceptedBy[p.Key])).Select(p => p.Key).Order()];

        return guardsHeld.Label("a referral is accepted exactly when it is not self, same-email or repeated")
            .And(rewards.GroupBy(x => x.Referred).All(g => g.Count() == 1).Label("at most one reward per friend"))
            .And(rewards.Select(x => Friend(x.Referred)).Order().SequenceEqual(expected).Label("rewards exactly for first purchases not paid with the referrer's card"))
            .And(rewards.All(x => acceptedBy.TryGetValue(Friend(x.Referred), out int by) && Lead(by) == x.LeadId).Label("rewards go to the accepted referrer"))
            .And(Enumerable.Range(1, 4).All(r => program.CreditOf(Lead(r)) == Usd(50) * rewards.Count(x => x.LeadId == Lead(r))).Label("credit = reward x count"));
    }

    private static int Friend(LeadId lead) => Enumerable.Range(1, 6).Single(n => Lead(n) == lead);
}
