using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Storage.ConformanceTests;

/// <summary>The stores a <see cref="LeadPrivacySpecificationTests"/> run exports from and erases in.</summary>
/// <param name="Leads">The lead store.</param>
/// <param name="Events">The event log.</param>
/// <param name="Stores">The personal data stores that cover <paramref name="Leads"/> and <paramref name="Events"/> (and any other table).</param>
/// <param name="FindEverywhere">Returns where a text occurs in anything the stores keep (such as <c>events.payload</c>), case-insensitively.</param>
public sealed record PrivacyWorld(
    ILeadStore Leads,
    IFunnelEventLog Events,
    IReadOnlyList<IPersonalDataStore> Stores,
    Func<string, Task<IReadOnlyList<string>>> FindEverywhere);

/// <summary>The contract of <see cref="IPersonalDataStore"/>s with <see cref="LeadPrivacyService"/>: subclass it with a <see cref="CreateWorld"/> of your stores.</summary>
public abstract class LeadPrivacySpecificationTests
{
    private const string Key = "a-suppression-key-of-at-least-32-characters";
    private const string Ip = "203.0.113.77";
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) PrivacySpec/1.0";
    private static readonly LeadMagnet Guide = new()
    {
        Key = "guide",
        Title = "Guide",
        Kind = LeadMagnetKind.Guide,
        DoubleOptIn = true,
        ConsentText = "Send me the guide and weekly tips.",
    };

    /// <summary>Returns new, empty stores.</summary>
    protected abstract PrivacyWorld CreateWorld();

    [Fact]
    public async Task ExportAsync_CapturedLead_HoldsProfileEventsAndConsentHistory()
    {
        Harness h = new(CreateWorld());
        OptInResult optIn = await h.OptInAsync("ann@example.com", "Annabel");
        await h.Capture.ConfirmAsync(optIn.ConfirmationToken!);

        LeadDataExport export = await h.Privacy.ExportAsync(optIn.Lead.Id);

        export.Email.ShouldBe(EmailAddress.Parse("ann@example.com"));
        export.ConsentHistory.Select(c => c.Status).ShouldBe([ConsentStatus.Pending, ConsentStatus.Granted]);
        export.ConsentHistory[0].IpAddress.ShouldBe(Ip);
        export.ConsentHistory[0].UserAgent.ShouldBe(UserAgent);
        export.ConsentHistory[0].Text.ShouldBe(Guide.ConsentText);
        export.Records.Count(r => AnyField(r, "ann@example.com")).ShouldBeGreaterThanOrEqualTo(1);
        export.Records.Count(r => AnyField(r, "opted_in")).ShouldBeGreaterThanOrEqualTo(1);
        export.Records.Count(r => AnyField(r, "opt_in_confirmed")).ShouldBeGreaterThanOrEqualTo(1);
        string json = export.ToJson();
        json.ShouldContain("Annabel");
        json.ShouldContain(Ip);
    }

    [Fact]
    public async Task EraseAsync_CapturedLead_EmailNameIpAndUserAgentAppearNowhere()
    {
        PrivacyWorld world = CreateWorld();
        Harness h = new(world);
        OptInResult ann = await h.OptInAsync("ann@example.com", "Annabel");
        await h.Capture.ConfirmAsync(ann.ConfirmationToken!);
        await world.Events.AppendAsync([new PageViewed
        {
            LeadId = ann.Lead.Id,
            OccurredAt = h.Clock.GetCurrentInstant(),
            Page = "/sales",
            Attribution = new Attribution { Channel = "email", Referrer = "https://mail.example/read?to=ann@example.com" },
        }]);
        (await world.FindEverywhere("ann@example.com")).ShouldNotBeEmpty();

        LeadErasure erasure = await h.Privacy.EraseAsync(ann.Lead.Id);

        erasure.ChangedAnything.ShouldBeTrue();
        foreach (string value in new[] { "ann@example.com", "Annabel", Ip, UserAgent })
        {
            (await world.FindEverywhere(value)).ShouldBeEmpty($"'{value}' is still stored");
        }
    }

    [Fact]
    public async Task EraseAsync_LeadWithALinkedVisitorId_ErasesTheVisitorsEventsToo()
    {
        PrivacyWorld world = CreateWorld();
        Harness h = new(world);
        LeadId visitor = new(Guid.Parse("0193f5a0-7777-7000-8000-000000000001"));
        // Before the opt-in, on another device: a page view whose referrer and property name the person.
        await world.Events.AppendAsync([new PageViewed
        {
            LeadId = visitor,
            OccurredAt = h.Clock.GetCurrentInstant(),
            Page = "/guide",
            Attribution = new Attribution { Channel = "email", Referrer = "https://mail.example/read?to=ann@example.com" },
            Properties = ImmutableDictionary<string, string>.Empty.Add("typed", "Annabel").Add("note", "forwarded by ann@example.com"),
        }]);
        OptInResult ann = await h.OptInAsync("ann@example.com", "Annabel");
        (await h.Capture.LinkAsync(visitor, ann.Lead.Id)).ShouldBe(IdentityLinkStatus.Linked);
        LeadDataExport export = await h.Privacy.ExportAsync(ann.Lead.Id);
        export.Records.ShouldContain(r => AnyField(r, "/guide"), "the linked visitor's events are exported with the lead's");

        LeadErasure erasure = await h.Privacy.EraseAsync(ann.Lead.Id);
        LeadErasure again = await h.Privacy.EraseAsync(ann.Lead.Id);

        erasure.ChangedAnything.ShouldBeTrue();
        again.ChangedAnything.ShouldBeFalse();
        foreach (string value in new[] { "ann@example.com", "Annabel" })
        {
            (await world.FindEverywhere(value)).ShouldBeEmpty($"'{value}' is still stored");
        }

        (await world.Events.ReadLeadAsync(visitor, 10)).ShouldHaveSingleItem().Event.ShouldBeOfType<PageViewed>().Page.ShouldBe("/guide");
    }

    [Fact]
    public async Task EraseAsync_CapturedLead_KeepsEventsProfileAndStageForAggregates()
    {
        PrivacyWorld world = CreateWorld();
        Harness h = new(world);
        OptInResult ann = await h.OptInAsync("ann@example.com", "Annabel");
        await h.OptInAsync("bob@example.com", "Bob");
        IReadOnlyList<LoggedEvent> before = await world.Events.ReadAsync(0, 1000);

        await h.Privacy.EraseAsync(ann.Lead.Id);

        IReadOnlyList<LoggedEvent> after = await world.Events.ReadAsync(0, 1000);
        after.Select(e => (e.Position, e.Event.Id, e.Event.EventType, e.Event.OccurredAt, e.Event.Attribution.Channel))
            .ShouldBe(before.Select(e => (e.Position, e.Event.Id, e.Event.EventType, e.Event.OccurredAt, e.Event.Attribution.Channel)));
        (await world.Events.ReadLeadAsync(ann.Lead.Id, 100)).Count.ShouldBe(before.Count(e => e.Event is LeadEvent l && l.LeadId == ann.Lead.Id));
        LeadProfile erased = (await world.Leads.FindAsync(ann.Lead.Id)).ShouldNotBeNull();
        erased.ErasedAt.ShouldBe(h.Clock.GetCurrentInstant());
        erased.Stage.ShouldBe(ann.Lead.Stage);
        erased.Magnets.ShouldBe(ann.Lead.Magnets);
        erased.CanReceiveMarketingEmail.ShouldBeFalse();
        erased.Email.Value.ShouldEndWith("@erased.invalid");
        erased.ConsentHistory.ShouldAllBe(c => c.IpAddress == null && c.UserAgent == null);
        erased.ConsentHistory[^1].Status.ShouldBe(ConsentStatus.Withdrawn);
    }

    [Fact]
    public async Task EraseAsync_Twice_SecondChangesNothing()
    {
        Harness h = new(CreateWorld());
        OptInResult ann = await h.OptInAsync("ann@example.com", "Annabel");
        LeadErasure first = await h.Privacy.EraseAsync(ann.Lead.Id);
        string exported = Records(await h.Privacy.ExportAsync(ann.Lead.Id));
        h.Clock.Advance(Duration.FromHours(1));

        LeadErasure second = await h.Privacy.EraseAsync(ann.Lead.Id);

        second.ChangedAnything.ShouldBeFalse();
        second.Tombstone.ShouldBe(first.Tombstone);
        second.Outcomes.ShouldAllBe(o => o.Status != ErasureStatus.Erased);
        Records(await h.Privacy.ExportAsync(ann.Lead.Id)).ShouldBe(exported);
    }

    [Fact]
    public async Task EraseAsync_UnknownLead_FindsNothing()
    {
        Harness h = new(CreateWorld());
        await h.OptInAsync("ann@example.com", "Annabel");

        LeadErasure erasure = await h.Privacy.EraseAsync(ConformanceKit.Lead(999));

        erasure.ChangedAnything.ShouldBeFalse();
        (await h.Privacy.ExportAsync(ConformanceKit.Lead(999))).Records.ShouldBeEmpty();
    }

    [Fact]
    public async Task IsSuppressedAsync_ErasedAddress_TrueUntilTheAddressOptsInAgain()
    {
        Harness h = new(CreateWorld());
        OptInResult ann = await h.OptInAsync("ann@example.com", "Annabel");
        (await h.Privacy.IsSuppressedAsync("ann@example.com")).ShouldBeFalse();

        await h.Privacy.EraseAsync(ann.Lead.Id);

        (await h.Privacy.IsSuppressedAsync(" Ann@Example.COM ")).ShouldBeTrue();
        (await h.Privacy.IsSuppressedAsync("bob@example.com")).ShouldBeFalse();
        (await h.Privacy.IsSuppressedAsync("not an address")).ShouldBeFalse();
        OptInResult again = await h.OptInAsync("ann@example.com", "Annabel");
        again.IsNewLead.ShouldBeTrue();
        again.Lead.Id.ShouldNotBe(ann.Lead.Id);
        (await h.Privacy.IsSuppressedAsync("ann@example.com")).ShouldBeFalse();
    }

    [Fact]
    public async Task EraseAsync_AddressErasedTwiceAsTwoLeads_KeepsBothTombstones()
    {
        Harness h = new(CreateWorld());
        OptInResult first = await h.OptInAsync("ann@example.com", "Annabel");
        LeadErasure one = await h.Privacy.EraseAsync(first.Lead.Id);
        OptInResult second = await h.OptInAsync("ann@example.com", "Annabel");

        LeadErasure two = await h.Privacy.EraseAsync(second.Lead.Id);

        two.ChangedAnything.ShouldBeTrue();
        two.Tombstone.ShouldNotBe(one.Tombstone);
        (await h.Privacy.IsSuppressedAsync("ann@example.com")).ShouldBeTrue();
        (await h.Leads.FindAsync(first.Lead.Id)).ShouldNotBeNull().Email.ShouldBe(one.Tombstone);
        (await h.Leads.FindAsync(second.Lead.Id)).ShouldNotBeNull().Email.ShouldBe(two.Tombstone);
    }

    [Property(MaxTest = 15)]
    public Property EraseAsync_RandomLeads_ErasedExportHoldsNoOriginalValueAndOthersAreUntouched() => Prop.ForAll(
        PrivacyArbitraries.People(),
        Gen.Choose(0, 1000).ToArbitrary(),
        (people, pick) =>
        {
            Harness h = new(CreateWorld());
            LeadId[] ids = [.. people.Select(p => h.OptInAsync(p.Email, p.Name, p.Ip).GetAwaiter().GetResult().Lead.Id)];
            int victim = pick % ids.Length;
            string[] others = [.. ids.Where((_, i) => i != victim).Select(id => Records(h.Privacy.ExportAsync(id).GetAwaiter().GetResult()))];

            h.Privacy.EraseAsync(ids[victim]).GetAwaiter().GetResult();

            string erased = h.Privacy.ExportAsync(ids[victim]).GetAwaiter().GetResult().ToJson();
            (string Email, string Name, string Ip) p = people[victim];
            bool clean = !erased.Contains(p.Email, StringComparison.OrdinalIgnoreCase)
                && !erased.Contains(p.Name, StringComparison.Ordinal)
                && !erased.Contains(p.Ip, StringComparison.Ordinal);
            string[] othersAfter = [.. ids.Where((_, i) => i != victim).Select(id => Records(h.Privacy.ExportAsync(id).GetAwaiter().GetResult()))];
            return clean && others.SequenceEqual(othersAfter);
        });

    private static bool AnyField(PersonalRecord record, string text) =>
        record.Kind == text || record.Fields.Values.Any(v => v is not null && v.Contains(text, StringComparison.OrdinalIgnoreCase));

    private static string Records(LeadDataExport export) =>
        string.Join("\n", export.Records.Select(r => $"{r.Store}/{r.Kind}/{r.Id}: " + string.Join(",", r.Fields.Select(f => $"{f.Key}={f.Value}"))));

    private sealed class Harness
    {
        public Harness(PrivacyWorld world)
        {
            Leads = world.Leads;
            Clock = new FakeClock(ConformanceKit.T0);
            Capture = new LeadCapture(world.Leads, world.Events, Clock);
            Privacy = new LeadPrivacyService(world.Leads, world.Stores, Options.Create(new PrivacyOptions { SuppressionKey = Key }), Clock, world.Events);
        }

        public ILeadStore Leads { get; }

        public FakeClock Clock { get; }

        public LeadCapture Capture { get; }

        public LeadPrivacyService Privacy { get; }

        public Task<OptInResult> OptInAsync(string email, string name, string ip = Ip) => Capture.OptInAsync(new OptInRequest
        {
            Email = email,
            Magnet = Guide,
            CustomFields = ImmutableDictionary<string, string>.Empty.Add("first_name", name),
            Attribution = new Attribution { Channel = "google", Referrer = "https://www.google.com/search?q=" + name },
            IpAddress = ip,
            UserAgent = UserAgent,
            ConfirmationUrlTemplate = "https://shop.example/confirm?token={token}",
        });
    }
}

/// <summary>Random people for the privacy property: distinct addresses, names and IP addresses that occur nowhere else.</summary>
internal static class PrivacyArbitraries
{
    public static Arbitrary<(string Email, string Name, string Ip)[]> People() =>
        (from count in Gen.Choose(1, 5)
         from people in Person().ArrayOf(count)
         select people.Select((p, i) => ($"u{i}.{p.Local}@{p.Domain}.example", $"Nm{p.Name}{i}", $"198.51.{i}.{p.Octet}")).ToArray())
        .ToArbitrary();

    private static Gen<(string Local, string Domain, string Name, int Octet)> Person() =>
        from local in Letters(3, 10)
        from domain in Letters(2, 8)
        from name in Letters(4, 10)
        from octet in Gen.Choose(1, 254)
        select (local, domain, name, octet);

    private static Gen<string> Letters(int min, int max) =>
        from length in Gen.Choose(min, max)
        from chars in Gen.Elements("abcdefghijklmnopqrstuvwxyz".ToCharArray()).ArrayOf(length)
        select new string(chars);
}
