using System.Collections.Immutable;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Privacy;
using NodaTime;

namespace Funnel.Tests.Privacy;

public sealed class PersonalDataRedactionTests
{
    private static readonly Instant Created = Instant.FromUtc(2026, 3, 1, 12, 0);
    private static readonly Instant Erased = Instant.FromUtc(2026, 9, 1, 8, 0);

    [Fact]
    public void RedactProfile_GrantedLead_KeepsWhatReportsCountAndDropsThePersonalValues()
    {
        LeadProfile lead = Lead();
        PersonalDataSubject subject = Subject(lead);

        LeadProfile erased = PersonalDataRedaction.RedactProfile(lead, subject);

        (erased.Id, erased.Stage, erased.Score, erased.CreatedAt, erased.TimeZoneId).ShouldBe((lead.Id, lead.Stage, lead.Score, lead.CreatedAt, lead.TimeZoneId));
        erased.Tags.ShouldBe(lead.Tags);
        erased.Magnets.ShouldBe(lead.Magnets);
        erased.Email.ShouldBe(subject.Tombstone);
        erased.CustomFields.ShouldBe(new Dictionary<string, string> { ["first_name"] = PersonalDataSubject.Redacted });
        erased.FirstTouch.ShouldBe(new Attribution { Channel = "google", Campaign = "launch" });
        erased.ErasedAt.ShouldBe(Erased);
        erased.UnsubscribedAt.ShouldBe(Erased);
        erased.CanReceiveMarketingEmail.ShouldBeFalse();
        erased.Consent!.IpAddress.ShouldBeNull();
        erased.ConsentHistory.Select(c => (c.Status, c.Source, c.IpAddress, c.UserAgent)).ShouldBe([
            (ConsentStatus.Granted, "guide", (string?)null, (string?)null),
            (ConsentStatus.Withdrawn, "erasure", null, null),
        ]);
        erased.ConsentHistory[0].Text.ShouldBe("Send me tips.");
    }

    [Fact]
    public void RedactProfile_ErasedProfile_ReturnsItUnchanged()
    {
        LeadProfile erased = PersonalDataRedaction.RedactProfile(Lead(), Subject(Lead()));

        PersonalDataRedaction.RedactProfile(erased, Subject(erased) with { At = Erased + Duration.FromDays(1) }).ShouldBeSameAs(erased);
    }

    [Fact]
    public void PersonalValuesOf_Lead_ListsEmailFieldValuesIpUserAgentAndReferrerOnce()
    {
        PersonalDataRedaction.PersonalValuesOf(Lead()).ShouldBe(
            ["ann@example.com", "Annabel", "203.0.113.9", "Mozilla/5.0", "https://www.google.com/?q=annabel"],
            ignoreOrder: true);
    }

    private static PersonalDataSubject Subject(LeadProfile lead) => new()
    {
        LeadId = lead.Id,
        Email = lead.ErasedAt is null ? lead.Email : null,
        Tombstone = EmailAddress.Parse("erased-0123456789abcdef0123456789abcdef@erased.invalid"),
        PersonalValues = PersonalDataRedaction.PersonalValuesOf(lead),
        At = Erased,
    };

    private static LeadProfile Lead()
    {
        ConsentRecord consent = new()
        {
            Purpose = "marketing-email",
            Status = ConsentStatus.Granted,
            Method = ConsentMethod.SingleOptIn,
            Source = "guide",
            RecordedAt = Created,
            Text = "Send me tips.",
            IpAddress = "203.0.113.9",
            UserAgent = "Mozilla/5.0",
        };
        return new LeadProfile
        {
            Id = new LeadId(Guid.Parse("0190a7e4-0000-7000-8000-000000000001")),
            Email = EmailAddress.Parse("ann@example.com"),
            CreatedAt = Created,
            Stage = LifecycleStage.Customer,
            Score = 42,
            TimeZoneId = "Europe/Berlin",
            Tags = ImmutableSortedSet.Create(StringComparer.Ordinal, "vip"),
            CustomFields = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("first_name", "Annabel"),
            Consent = consent,
            ConsentHistory = [ConsentChange.Of(consent, Created)],
            FirstTouch = new Attribution { Channel = "google", Campaign = "launch", Referrer = "https://www.google.com/?q=annabel" },
            Magnets = ["guide"],
        };
    }
}
