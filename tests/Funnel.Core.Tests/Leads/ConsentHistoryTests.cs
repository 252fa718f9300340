using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

public sealed class ConsentHistoryTests
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly LeadMagnet Checklist = new()
    {
        Key = "launch-checklist",
        Title = "Launch checklist",
        Kind = LeadMagnetKind.Checklist,
        DoubleOptIn = true,
        ConsentText = "Email me the checklist and launch tips.",
    };

    [Fact]
    public async Task OptInConfirmAndUnsubscribe_DoubleOptIn_AppendOneChangeEachWithProofOnTheGrant()
    {
        FakeClock clock = new(Start);
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, clock);

        OptInResult optIn = await capture.OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = Checklist,
            IpAddress = " 2001:db8::1 ",
            UserAgent = "Mozilla/5.0 " + new string('x', 600),
        });
        clock.Advance(Duration.FromMinutes(5));
        ConfirmationResult confirmed = await capture.ConfirmAsync(optIn.ConfirmationToken!);
        clock.Advance(Duration.FromDays(3));
        LeadProfile unsubscribed = confirmed.Lead!.ApplySuppression(
            new EmailUnsubscribed { LeadId = optIn.Lead.Id, OccurredAt = clock.GetCurrentInstant(), Email = "launch-1" });

        unsubscribed.ConsentHistory.Select(c => (c.Status, c.Source, c.At)).ShouldBe([
            (ConsentStatus.Pending, "launch-checklist", Start),
            (ConsentStatus.Granted, "confirmation", Start + Duration.FromMinutes(5)),
            (ConsentStatus.Withdrawn, "unsubscribe", Start + Duration.FromMinutes(5) + Duration.FromDays(3)),
        ]);
        ConsentChange grant = unsubscribed.ConsentHistory[0];
        grant.IpAddress.ShouldBe("2001:db8::1");
        grant.UserAgent!.Length.ShouldBe(FieldLimits.UserAgent);
        grant.Text.ShouldBe(Checklist.ConsentText);
        unsubscribed.Consent!.IpAddress.ShouldBe("2001:db8::1");
        ConsentRecorded recorded = log.Snapshot().OfType<ConsentRecorded>().ShouldHaveSingleItem();
        recorded.IpAddress.ShouldBe("2001:db8::1");
        recorded.UserAgent.ShouldBe(grant.UserAgent);
    }

    [Fact]
    public async Task ConfirmAsync_WithTheClicksIpAndUserAgent_RecordsThemAsProofOfTheConfirmation()
    {
        InMemoryFunnelEventLog log = new();
        LeadCapture capture = new(new InMemoryLeadStore(), log, new FakeClock(Start));
        OptInResult optIn = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist, IpAddress = "198.51.100.1" });

        ConfirmationResult confirmed = await capture.ConfirmAsync(optIn.ConfirmationToken!, "203.0.113.5", "Mail client\u0007");

        ConsentChange change = confirmed.Lead!.ConsentHistory[^1];
        (change.Status, change.Source, change.IpAddress, change.UserAgent).ShouldBe((ConsentStatus.Granted, "confirmation", "203.0.113.5", (string?)null));
        confirmed.Lead.Consent!.IpAddress.ShouldBe("198.51.100.1");
        OptInConfirmed recorded = log.Snapshot().OfType<OptInConfirmed>().ShouldHaveSingleItem();
        recorded.IpAddress.ShouldBe("203.0.113.5");
        recorded.UserAgent.ShouldBeNull();
    }

    [Fact]
    public async Task OptInAsync_AgainWhileGranted_AddsNoChange()
    {
        FakeClock clock = new(Start);
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), clock);
        OptInResult first = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });
        await capture.ConfirmAsync(first.ConfirmationToken!);

        OptInResult second = await capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist });

        second.Lead.ConsentHistory.Length.ShouldBe(2);
    }

    [Theory]
    [InlineData("203.0.113.7\n")]
    [InlineData("0123456789012345678901234567890123456789012345")]
    public async Task OptInAsync_BadIpAddress_ThrowsNamingIpAddress(string ip)
    {
        LeadCapture capture = new(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Start));

        ValidationException error = await Should.ThrowAsync<ValidationException>(
            () => capture.OptInAsync(new OptInRequest { Email = "ann@example.com", Magnet = Checklist, IpAddress = ip }));

        error.Errors.ShouldContain(e => e.PropertyName == nameof(OptInRequest.IpAddress));
    }
}
