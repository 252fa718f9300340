using System.Net;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

/// <summary>The guide's whole journey through the WebShop, which registers packages and maps endpoints and nothing else.</summary>
public sealed class GuideJourneyTests
{
    [Fact]
    public async Task Journey_RawInputsOnly_SendsEveryEmailOnceAndRecordsEveryStep()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        // Opt-in with double opt-in: only the confirmation goes out, through the outbox.
        (await WebShopFactory.OptInAsync(client, "grace@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        Uri confirmation = shop.Outbox.Snapshot().ShouldHaveSingleItem().ConfirmationLink.ShouldNotBeNull();
        LeadId lead = shop.Events.OfType<OptedIn>().ShouldHaveSingleItem().LeadId;

        // The confirmation click starts the nurture: the guide at once, then day 1 at 09:00.
        (await client.GetAsync(WebShopFactory.Relative(confirmation))).ShouldBeStatus(HttpStatusCode.Redirect);
        shop.Settle();
        shop.Clock.Advance(Duration.FromDays(1));
        shop.Settle();

        // The purchase: checkout with a test card, then the provider's signed webhooks (each delivered twice).
        await shop.PurchaseAsync(client, deliveries: 2);

        shop.Settle();
        for (int day = 0; day < 6; day++)
        {
            shop.Clock.Advance(Duration.FromDays(1));
            shop.Settle();
        }

        // The course, module by module: its completion starts the advocacy emails.
        CourseProgressTracker course = shop.Services.GetRequiredService<CourseProgressTracker>();
        foreach (string module in new[] { "plan", "write", "launch" })
        {
            await course.CompleteModuleAsync(lead, GuideSequences.Course, module);
        }

        for (int day = 0; day < 12; day++)
        {
            shop.Settle();
            shop.Clock.Advance(Duration.FromDays(1));
        }

        shop.Settle();
        IReadOnlyList<FunnelEvent> events = shop.Events;
        string[] sent = [.. events.OfType<EmailSent>().Where(e => e.LeadId == lead).Select(e => e.Email)];
        sent.ShouldBe(
            [
                "confirm", "nurture-1", "nurture-2",
                .. GuideSequences.Welcome.Steps.Select(s => s.Key),
                .. GuideSequences.Advocacy.Steps.Select(s => s.Key),
            ],
            ignoreOrder: true);
        sent.ShouldBeUnique();
        shop.Outbox.Snapshot().Count(m => m.To == "grace@example.com").ShouldBe(sent.Length);
        events.OfType<EmailFailed>().ShouldBeEmpty();
        events.OfType<EmailSuppressed>().ShouldBeEmpty();

        string[] types = [.. events.Where(e => e is LeadEvent l && l.LeadId == lead).Select(e => e.EventType).Distinct()];
        types.ShouldContain(EventTypes.OptedIn);
        types.ShouldContain(EventTypes.ConsentRecorded);
        types.ShouldContain(EventTypes.ConfirmationRequested);
        types.ShouldContain(EventTypes.OptInConfirmed);
        types.ShouldContain(EventTypes.OrderPlaced);
        types.ShouldContain(EventTypes.PaymentSucceeded);
        types.ShouldContain(OfferEventTypes.EntitlementGranted);
        types.ShouldContain(EventTypes.CourseCompleted);
        events.OfType<SequenceExited>().ShouldHaveSingleItem().Sequence.ShouldBe(GuideSequences.Nurture.Key);
        events.OfType<SequenceEnrolled>().Where(e => e.LeadId == lead).Select(e => e.Sequence).ShouldBe(
            ["opt-in-confirmation", GuideSequences.Nurture.Key, GuideSequences.Welcome.Key, GuideSequences.Advocacy.Key], ignoreOrder: true);
        events.OfType<PaymentSucceeded>().Count(p => p.LeadId == lead).ShouldBe(1);
        events.Select(e => e.Id).ShouldBeUnique();
        (await shop.Services.GetRequiredService<Funnel.Pipeline.FunnelPipeline>().ListParkedAsync()).ShouldBeEmpty();
    }
}
