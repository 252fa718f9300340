using Funnel.Events;
using NodaTime;

namespace Funnel.Tests;

/// <summary>Terse builders for events in tests.</summary>
internal static class TestEvents
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 3, 1, 12, 0);

    public static Instant At(int minutes) => T0 + Duration.FromMinutes(minutes);

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

    public static PageViewed View(int lead, int minute, string page = "/blog/post", string? channel = null, string? campaign = null) =>
        new() { LeadId = Lead(lead), OccurredAt = At(minute), Page = page, Attribution = new Attribution { Channel = channel, Campaign = campaign } };

    public static OptedIn OptIn(int lead, int minute, string magnet = "guide") =>
        new() { LeadId = Lead(lead), OccurredAt = At(minute), Magnet = magnet };

    public static SalesPageVisited Sales(int lead, int minute, string offer = "course") =>
        new() { LeadId = Lead(lead), OccurredAt = At(minute), Offer = offer };

    public static CheckoutStarted Checkout(int lead, int minute, string offer = "course") =>
        new() { LeadId = Lead(lead), OccurredAt = At(minute), Offer = offer };

    public static OrderPlaced Order(int lead, int minute, long cents, string offer = "course", OrderId? order = null, Currency? currency = null) =>
        new()
        {
            LeadId = Lead(lead),
            OccurredAt = At(minute),
            Offer = offer,
            Order = order ?? new OrderId(new Guid(lead, (short)minute, 7, 0, 0, 0, 0, 0, 0, 0, 0)),
            Total = new Money(cents, currency ?? Currency.USD),
        };

    public static AdSpendRecorded Spend(long cents, string? channel = null, string? campaign = null, int minute = 0) =>
        new() { OccurredAt = At(minute), Amount = new Money(cents, Currency.USD), Attribution = new Attribution { Channel = channel, Campaign = campaign } };
}
