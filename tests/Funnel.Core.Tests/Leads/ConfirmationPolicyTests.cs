using FluentValidation;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Pipeline;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

public sealed class ConfirmationPolicyTests
{
    private static readonly LeadMagnet Checklist = new() { Key = "launch-checklist", Title = "Launch checklist", Kind = LeadMagnetKind.Checklist, DoubleOptIn = true };

    [Theory]
    [InlineData(0, 60, 5, "MaxEmailsPerWindow")]
    [InlineData(3, 0, 5, "EmailWindow")]
    [InlineData(3, 60, 21, "MaxOutstandingLinks")]
    public void LeadCapture_InvalidPolicy_ThrowsNamingTheField(int emails, int windowMinutes, int links, string field)
    {
        var policy = new ConfirmationPolicy { MaxEmailsPerWindow = emails, EmailWindow = Duration.FromMinutes(windowMinutes), MaxOutstandingLinks = links };

        ValidationException error = Should.Throw<ValidationException>(() =>
            new LeadCapture(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), new FakeClock(Instant.FromUtc(2026, 3, 1, 12, 0)), confirmation: policy));

        error.Errors.ShouldContain(e => e.PropertyName == field);
    }

    [Fact]
    public async Task ConfirmAsync_OlderLinksWithinTheOutstandingLimit_AnyOneConfirmsOnceAndTheOldestDroppedFails()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 3, 1, 12, 0));
        var capture = new LeadCapture(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), clock,
            confirmation: new ConfirmationPolicy { MaxEmailsPerWindow = 10, MaxOutstandingLinks = 2 });
        List<string> tokens = [];
        for (int i = 0; i < 3; i++)
        {
            OptInResult result = await capture.OptInAsync(new OptInRequest { Email = "ada@example.com", Magnet = Checklist, Attribution = Attribution.None });
            tokens.Add(result.ConfirmationToken.ShouldNotBeNull());
            clock.AdvanceMinutes(1);
        }

        (await capture.ConfirmAsync(tokens[0])).Status.ShouldBe(ConfirmationStatus.Invalid, "the oldest of three fell out of two outstanding links");
        (await capture.ConfirmAsync(tokens[1])).Status.ShouldBe(ConfirmationStatus.Confirmed);
        (await capture.ConfirmAsync(tokens[2])).Status.ShouldBe(ConfirmationStatus.Invalid, "confirming with one link uses them all");
    }
}
