using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

/// <summary>Issue 17: every stored text field of an opt-in is bounded in the domain, and a rejected opt-in stores nothing.</summary>
public class FieldLimitTests
{
    private static readonly LeadMagnet Guide = new() { Key = "quick-start-guide", Title = "Quick-start guide", Kind = LeadMagnetKind.Guide };

    private static OptInRequest Valid() => new() { Email = "ann@example.com", Magnet = Guide };

    public static TheoryData<string, OptInRequest> OverLimit() => new()
    {
        { "Attribution.Campaign", Valid() with { Attribution = LeadCapture.AttributionFrom("facebook", campaign: new string('c', 100_000)) } },
        { "Attribution.Source", Valid() with { Attribution = LeadCapture.AttributionFrom(new string('s', FieldLimits.AttributionValue + 1)) } },
        { "Attribution.Channel", Valid() with { Attribution = new Attribution { Channel = new string('x', FieldLimits.AttributionValue + 1) } } },
        { "Attribution.Medium", Valid() with { Attribution = LeadCapture.AttributionFrom("a", medium: new string('m', FieldLimits.AttributionValue + 1)) } },
        { "Attribution.Content", Valid() with { Attribution = LeadCapture.AttributionFrom("a", content: new string('m', FieldLimits.AttributionValue + 1)) } },
        { "Attribution.Term", Valid() with { Attribution = LeadCapture.AttributionFrom("a", term: new string('m', FieldLimits.AttributionValue + 1)) } },
        { "Attribution.Referrer", Valid() with { Attribution = LeadCapture.AttributionFrom(null, referrer: "https://example.com/?q=" + new string('r', 100_000)) } },
        { "Attribution.Campaign", Valid() with { Attribution = LeadCapture.AttributionFrom("facebook", campaign: "spring\0launch") } },
        { "TimeZoneId", Valid() with { TimeZoneId = new string('z', 10_000) } },
        { "Tags", Valid() with { Tags = [.. Enumerable.Range(0, FieldLimits.TagsPerRequest + 1).Select(i => "t" + i)] } },
        { "Tags[0]", Valid() with { Tags = [new string('t', FieldLimits.Tag + 1)] } },
        { "Tags[0]", Valid() with { Tags = ["vip\u0000"] } },
        { "CustomFields", Valid() with { CustomFields = Enumerable.Range(0, FieldLimits.CustomFieldsPerRequest + 1).ToImmutableDictionary(i => "f" + i, i => "v") } },
        { "CustomFields", Valid() with { CustomFields = ImmutableDictionary<string, string>.Empty.Add(new string('n', FieldLimits.CustomFieldName + 1), "v") } },
        { "CustomFields[first_name]", Valid() with { CustomFields = ImmutableDictionary<string, string>.Empty.Add("first_name", new string('v', FieldLimits.CustomFieldValue + 1)) } },
        { "CustomFields[first_name]", Valid() with { CustomFields = ImmutableDictionary<string, string>.Empty.Add("first_name", "Ann\u0000") } },
        { "ConfirmationUrlTemplate", Valid() with { ConfirmationUrlTemplate = "https://example.com/confirm?token={token}&pad=" + new string('p', FieldLimits.Url) } },
        { "Magnet.Title", Valid() with { Magnet = Guide with { Title = new string('g', FieldLimits.Title + 1) } } },
        { "Magnet.ConsentText", Valid() with { Magnet = Guide with { ConsentText = new string('g', FieldLimits.LongText + 1) } } },
    };

    [Theory]
    [MemberData(nameof(OverLimit))]
    public async Task OptInAsync_FieldOverItsLimit_ThrowsValidationNamingTheFieldAndStoresNothing(string field, OptInRequest request)
    {
        InMemoryLeadStore store = new();
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(store, log, new FakeClock(Instant.FromUtc(2026, 3, 1, 12, 0)));

        ValidationException ex = await Should.ThrowAsync<ValidationException>(() => capture.OptInAsync(request));

        ex.Errors.Select(e => e.PropertyName).ShouldContain(field);
        (await store.FindByEmailAsync(EmailAddress.Parse("ann@example.com"))).ShouldBeNull();
        (await log.ReadAsync(0, 10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task OptInAsync_EveryFieldExactlyAtItsLimit_IsStored()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Instant.FromUtc(2026, 3, 1, 12, 0)));
        string utm = new('u', FieldLimits.AttributionValue);

        OptInResult result = await capture.OptInAsync(Valid() with
        {
            Attribution = LeadCapture.AttributionFrom(utm, utm, utm, utm, utm, "https://example.com/" + new string('r', FieldLimits.Url - 20)),
            Tags = [.. Enumerable.Range(0, FieldLimits.TagsPerRequest).Select(i => i + new string('t', FieldLimits.Tag - 3))],
            CustomFields = Enumerable.Range(0, FieldLimits.CustomFieldsPerRequest)
                .ToImmutableDictionary(i => i + new string('n', FieldLimits.CustomFieldName - 3), _ => "line one\r\nline two\t" + new string('v', FieldLimits.CustomFieldValue - 19)),
            Magnet = Guide with { Title = new string('g', FieldLimits.Title), ConsentText = new string('c', FieldLimits.LongText) },
        });

        result.Lead.LastTouch.Campaign!.Length.ShouldBe(FieldLimits.AttributionValue);
        result.Lead.Tags.Count.ShouldBe(FieldLimits.TagsPerRequest);
        result.Lead.CustomFields.Count.ShouldBe(FieldLimits.CustomFieldsPerRequest);
    }

    [Fact]
    public void AttributionValidator_OverLongCampaign_NamesCampaignAndTheLimit()
    {
        var result = new AttributionValidator().Validate(new Attribution { Campaign = new string('c', 300) });

        result.IsValid.ShouldBeFalse();
        result.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Campaign");
        result.Errors[0].ErrorMessage.ShouldBe("The utm_campaign must be at most 256 characters, not 300.");
    }

    [Fact]
    public async Task OptInAsync_RightToLeftOverrideInEmail_ThrowsValidationNamingEmail()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Instant.FromUtc(2026, 3, 1, 12, 0)));

        ValidationException ex = await Should.ThrowAsync<ValidationException>(() => capture.OptInAsync(Valid() with { Email = "moc.elpmaxe@\u202Eann" }));

        ex.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Email");
        ex.Errors.Single().ErrorMessage.ShouldContain("U+202E");
    }
}
