using System.Collections.Immutable;
using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

public class LeadCaptureTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly LeadMagnet Guide = new() { Key = "quick-start-guide", Title = "Quick-start guide", Kind = LeadMagnetKind.Guide };

    private static readonly LeadMagnet Checklist = new() { Key = "launch-checklist", Title = "Launch checklist", Kind = LeadMagnetKind.Checklist, DoubleOptIn = true };

    [Fact]
    public async Task OptInAsync_NewEmail_CreatesLeadAndEmitsOptInConsentAndStageEvents()
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore store = new();
        LeadCapture capture = new(store, new InMemoryFunnelEventLog(), clock);
        Attribution facebook = LeadCapture.AttributionFrom("Facebook", "cpc", "launch");

        OptInResult result = await capture.OptInAsync(new OptInRequest
        {
            Email = " Ann@Example.com ",
            Magnet = Guide,
            Attribution = facebook,
            TimeZoneId = "Europe/Berlin",
            Tags = ["from-ads"],
            CustomFields = ImmutableDictionary<string, string>.Empty.Add("first_name", "Ann"),
        });

        result.IsNewLead.ShouldBeTrue();
        result.ConfirmationToken.ShouldBeNull();
        LeadProfile lead = result.Lead;
        lead.Email.Value.ShouldBe("ann@example.com");
        lead.Stage.ShouldBe(LifecycleStage.Lead);
        lead.CreatedAt.ShouldBe(Start);
        lead.TimeZoneId.ShouldBe("Europe/Berlin");
        lead.Tags.ShouldBe(["from-ads"]);
        lead.CustomFields["first_name"].ShouldBe("Ann");
        lead.FirstTouch.Channel.ShouldBe("facebook");
        lead.LastTouch.ShouldBe(facebook);
        lead.ConsentStatus.ShouldBe(ConsentStatus.Granted);
        lead.Consent!.Method.ShouldBe(ConsentMethod.SingleOptIn);
        lead.Consent.Source.ShouldBe("quick-start-guide");
        lead.Consent.RecordedAt.ShouldBe(Start);
        lead.CanReceiveMarketingEmail.ShouldBeTrue();
        result.Events.Select(e => e.EventType).ShouldBe([EventTypes.OptedIn, EventTypes.ConsentRecorded, EventTypes.LifecycleStageChanged]);
        result.Events.ShouldAllBe(e => e.LeadId == lead.Id && e.OccurredAt == Start);
        ((OptedIn)result.Events[0]).Magnet.ShouldBe("quick-start-guide");
        ((LifecycleStageChanged)result.Events[2]).To.ShouldBe(LifecycleStage.Lead);
        (await store.FindByEmailAsync(EmailAddress.Parse("ANN@example.com"))).ShouldBe(lead);
    }

    [Fact]
    public async Task OptInAsync_SameEmailTwice_IsOneLeadWithTwoOptInEvents()
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore store = new();
        LeadCapture capture = new(store, new InMemoryFunnelEventLog(), clock);
        LeadId visitor = LeadId.New();

        OptInResult first = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide, VisitorId = visitor, Attribution = LeadCapture.AttributionFrom("facebook") });
        clock.AdvanceDays(3);
        OptInResult second = await capture.OptInAsync(new OptInRequest { Email = "ANN@Example.com", Magnet = Checklist with { DoubleOptIn = false }, VisitorId = LeadId.New(), Attribution = LeadCapture.AttributionFrom(null, referrer: "https://www.google.com/search?q=x") });

        store.Count.ShouldBe(1);
        first.Lead.Id.ShouldBe(visitor);
        second.IsNewLead.ShouldBeFalse();
        second.Lead.Id.ShouldBe(visitor);
        second.Lead.CreatedAt.ShouldBe(Start);
        second.Lead.Magnets.ShouldBe(["quick-start-guide", "launch-checklist"]);
        second.Lead.FirstTouch.Channel.ShouldBe("facebook");
        second.Lead.LastTouch.Channel.ShouldBe("google.com");
        // The second device's visitor id is linked to the lead, so its anonymous events count as the lead's.
        second.Events.Select(e => e.EventType).ShouldBe([EventTypes.OptedIn, EventTypes.ConsentRecorded, EventTypes.IdentityLinked]);
        first.Events.Concat(second.Events).OfType<OptedIn>().Count().ShouldBe(2);
    }

    [Fact]
    public async Task OptInAsync_ManyConcurrentOptInsWithOneEmail_CreateOneLead()
    {
        InMemoryLeadStore store = new();
        LeadCapture capture = new(store, new InMemoryFunnelEventLog(), new FakeClock(Start));

        OptInResult[] results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
            capture.OptInAsync(new OptInRequest { Email = i % 2 == 0 ? "ann@example.com" : "ANN@EXAMPLE.COM", Magnet = Guide, VisitorId = LeadId.New() }))));

        store.Count.ShouldBe(1);
        store.Snapshot().ShouldHaveSingleItem().Email.Value.ShouldBe("ann@example.com");
        results.Count(r => r.IsNewLead).ShouldBe(1);
        results.Select(r => r.Lead.Id).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task OptInAsync_BadEmail_ThrowsValidationErrorNamingEmail()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));

        ValidationException ex = await Should.ThrowAsync<ValidationException>(() => capture.OptInAsync(new OptInRequest { Email = "ann(at)example.com", Magnet = Guide }));

        ex.Errors.ShouldHaveSingleItem().PropertyName.ShouldBe("Email");
        ex.Errors.Single().ErrorMessage.ShouldBe("'ann(at)example.com' is not a valid email address: it has no '@'.");
    }

    [Fact]
    public async Task OptInAsync_UnknownTimeZoneAndBadMagnetKey_NamesBothFields()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));

        ValidationException ex = await Should.ThrowAsync<ValidationException>(() => capture.OptInAsync(
            new OptInRequest { Email = "ann@example.com", Magnet = Guide with { Key = "Quick Start" }, TimeZoneId = "Mars/Olympus" }));

        ex.Errors.Select(e => e.PropertyName).ShouldBe(["Magnet.Key", "TimeZoneId"], ignoreOrder: true);
    }

    [Fact]
    public async Task OptInAsync_DoubleOptInAfterUnsubscribing_StaysUnsubscribedUntilConfirmed()
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore store = new();
        LeadCapture capture = new(store, new InMemoryFunnelEventLog(), clock);
        OptInResult first = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });
        (await store.TryUpdateAsync(first.Lead, first.Lead.ApplySuppression(new EmailUnsubscribed { LeadId = first.Lead.Id, OccurredAt = Start, Email = "nurture-1" }))).ShouldBeTrue();
        clock.AdvanceHours(1);

        OptInResult again = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });

        again.Lead.UnsubscribedAt.ShouldBe(Start);
        again.Lead.CanReceiveMarketingEmail.ShouldBeFalse();
        ConfirmationResult confirmed = await capture.ConfirmAsync(again.ConfirmationToken.ShouldNotBeNull());
        confirmed.Lead!.UnsubscribedAt.ShouldBeNull();
        confirmed.Lead.CanReceiveMarketingEmail.ShouldBeTrue();
    }

    [Fact]
    public async Task ConfirmAsync_DoubleOptInToken_GrantsConsentOnce()
    {
        FakeClock clock = new(Start);
        InMemoryLeadStore store = new();
        LeadCapture capture = new(store, new InMemoryFunnelEventLog(), clock);

        OptInResult optIn = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });
        optIn.Lead.ConsentStatus.ShouldBe(ConsentStatus.Pending);
        optIn.Lead.CanReceiveMarketingEmail.ShouldBeFalse();
        ((ConsentRecorded)optIn.Events[1]).Status.ShouldBe(ConsentStatus.Pending);
        string token = optIn.ConfirmationToken.ShouldNotBeNull();
        optIn.Lead.PendingConfirmation!.TokenHash.ShouldNotContain(token);

        clock.AdvanceHours(2);
        ConfirmationResult confirmed = await capture.ConfirmAsync(token);
        ConfirmationResult again = await capture.ConfirmAsync(token);

        confirmed.Status.ShouldBe(ConfirmationStatus.Confirmed);
        confirmed.Lead!.ConsentStatus.ShouldBe(ConsentStatus.Granted);
        confirmed.Lead.Consent!.ConfirmedAt.ShouldBe(Start + Duration.FromHours(2));
        confirmed.Lead.PendingConfirmation.ShouldBeNull();
        confirmed.Event!.EventType.ShouldBe(EventTypes.OptInConfirmed);
        again.Status.ShouldBe(ConfirmationStatus.Invalid);
        again.Event.ShouldBeNull();
    }

    [Fact]
    public async Task OptInAndConfirm_DoubleOptIn_RecordTheirEventsInTheLogOnce()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));

        OptInResult optIn = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });
        log.Snapshot().ShouldBe(optIn.Events);
        ConfirmationResult confirmed = await capture.ConfirmAsync(optIn.ConfirmationToken!);
        ConfirmationResult again = await capture.ConfirmAsync(optIn.ConfirmationToken!);

        log.Snapshot().Select(e => e.EventType).ShouldBe(
            [EventTypes.OptedIn, EventTypes.ConsentRecorded, EventTypes.LifecycleStageChanged, EventTypes.OptInConfirmed]);
        log.Snapshot()[^1].ShouldBe(confirmed.Event);
        again.Status.ShouldBe(ConfirmationStatus.Invalid);
    }

    [Fact]
    public async Task OptInAsync_InvalidRequest_RecordsNothing()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));

        await Should.ThrowAsync<ValidationException>(() => capture.OptInAsync(new OptInRequest { Email = "ann(at)example.com", Magnet = Guide }));

        log.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task ConfirmAsync_AfterTokenLifetime_ReturnsExpiredAndKeepsConsentPending()
    {
        FakeClock clock = new(Start);
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), clock, confirmationTokenLifetime: Duration.FromHours(24));
        OptInResult optIn = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });

        clock.AdvanceHours(24);
        ConfirmationResult result = await capture.ConfirmAsync(optIn.ConfirmationToken!);

        result.Status.ShouldBe(ConfirmationStatus.Expired);
        result.Lead!.ConsentStatus.ShouldBe(ConsentStatus.Pending);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task ConfirmAsync_MalformedOrUnknownToken_ReturnsInvalid(string token)
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));
        await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });

        (await capture.ConfirmAsync(token)).Status.ShouldBe(ConfirmationStatus.Invalid);
    }

    [Fact]
    public async Task ConfirmAsync_TokenWithOneSecretByteChanged_ReturnsInvalid()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));
        string token = (await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist })).ConfirmationToken!;
        char last = token[^2];
        string tampered = token[..^2] + (last == 'A' ? 'B' : 'A') + token[^1];

        (await capture.ConfirmAsync(tampered)).Status.ShouldBe(ConfirmationStatus.Invalid);
        (await capture.ConfirmAsync(token)).Status.ShouldBe(ConfirmationStatus.Confirmed);
    }

    [Fact]
    public async Task OptInAsync_DoubleOptInAfterConsentGranted_NeedsNoNewConfirmation()
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));
        await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Guide });

        OptInResult second = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });

        second.ConfirmationToken.ShouldBeNull();
        second.Lead.ConsentStatus.ShouldBe(ConsentStatus.Granted);
    }

    [Theory]
    [InlineData("google", null, "google")]
    [InlineData(null, "https://www.YouTube.com/watch?v=1", "youtube.com")]
    [InlineData(null, null, "direct")]
    [InlineData(null, "not a url", "direct")]
    public void AttributionFrom_SourceOrReferrer_DerivesChannel(string? source, string? referrer, string channel)
    {
        LeadCapture.AttributionFrom(source, referrer: referrer).Channel.ShouldBe(channel);
    }

    [Fact]
    public void ApplySuppression_UnsubscribeBounceComplaint_BlockMarketingEmail()
    {
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse("ann@example.com"),
            CreatedAt = Start,
            Consent = new ConsentRecord { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Start },
        };

        LeadProfile unsubscribed = lead.ApplySuppression(new EmailUnsubscribed { LeadId = lead.Id, OccurredAt = Start, Email = "nurture-1" });
        LeadProfile softBounce = lead.ApplySuppression(new EmailBounced { LeadId = lead.Id, OccurredAt = Start, Email = "nurture-1", Kind = BounceKind.Soft });
        LeadProfile hardBounce = lead.ApplySuppression(new EmailBounced { LeadId = lead.Id, OccurredAt = Start, Email = "nurture-1" });

        lead.CanReceiveMarketingEmail.ShouldBeTrue();
        unsubscribed.ConsentStatus.ShouldBe(ConsentStatus.Withdrawn);
        unsubscribed.UnsubscribedAt.ShouldBe(Start);
        unsubscribed.CanReceiveMarketingEmail.ShouldBeFalse();
        softBounce.ShouldBeSameAs(lead);
        hardBounce.BouncedAt.ShouldBe(Start);
        hardBounce.CanReceiveMarketingEmail.ShouldBeFalse();
    }

    [Fact]
    public void ApplySuppression_TopicUnsubscribe_LeavesOnlyTheTopicAndResubscribeUndoesIt()
    {
        LeadProfile lead = new()
        {
            Id = LeadId.New(),
            Email = EmailAddress.Parse("ann@example.com"),
            CreatedAt = Start,
            Consent = new ConsentRecord { Purpose = "marketing-email", Status = ConsentStatus.Granted, Method = ConsentMethod.SingleOptIn, Source = "guide", RecordedAt = Start },
        };

        LeadProfile left = lead.ApplySuppression(new EmailUnsubscribed { LeadId = lead.Id, OccurredAt = Start, Email = "webinar-promo", Topic = "webinars" });
        LeadProfile twice = left.ApplySuppression(new EmailUnsubscribed { LeadId = lead.Id, OccurredAt = Start, Email = "webinar-promo", Topic = "webinars" });
        LeadProfile back = left.Resubscribe("webinars");

        left.UnsubscribedTopics.ShouldBe(["webinars"]);
        left.UnsubscribedAt.ShouldBeNull();
        left.ConsentStatus.ShouldBe(ConsentStatus.Granted);
        left.CanReceiveMarketingEmail.ShouldBeTrue();
        left.ConsentHistory.ShouldBe(lead.ConsentHistory);
        twice.ShouldBeSameAs(left);
        back.UnsubscribedTopics.ShouldBeEmpty();
        lead.Resubscribe("webinars").ShouldBeSameAs(lead);
    }

    [Fact]
    public async Task TryUpdateAsync_ReplacementWithAnotherEmail_Throws()
    {
        InMemoryLeadStore store = new();
        LeadProfile ann = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = Start };
        (await store.TryAddAsync(ann)).ShouldBeTrue();

        await Should.ThrowAsync<ArgumentException>(() => store.TryUpdateAsync(ann, ann with { Email = EmailAddress.Parse("bob@example.com") }));
        (await store.FindByEmailAsync(ann.Email)).ShouldBe(ann);
        store.Count.ShouldBe(1);
    }

    [Fact]
    public void LeadMagnetValidator_BadMagnet_NamesEachField()
    {
        var result = new LeadMagnetValidator().Validate(new LeadMagnet { Key = "", Title = "", Kind = (LeadMagnetKind)42 });

        result.Errors.Select(e => e.PropertyName).ShouldBe(["Key", "Title", "Kind"], ignoreOrder: true);
    }
}
