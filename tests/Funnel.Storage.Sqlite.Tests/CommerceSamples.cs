using Funnel.Offers;
using Funnel.Payments;
using NodaTime;

namespace Funnel.Storage.Sqlite.Tests;

/// <summary>Records with every optional part set, for the stored-format and reopen tests.</summary>
internal static class CommerceSamples
{
    public static readonly OrderId OrderId = new(Guid.Parse("0195f3a0-1111-7000-8000-000000000001"));
    public static readonly OrderId UpsellOf = new(Guid.Parse("0195f3a0-1111-7000-8000-000000000002"));
    public static readonly LeadId Lead = new(Guid.Parse("0195f3a0-2222-7000-8000-000000000001"));
    public static readonly Guid SeatId = Guid.Parse("0195f3a0-3333-7000-8000-000000000001");
    public static readonly Instant PlacedAt = Instant.FromUtc(2026, 3, 2, 9, 15, 30) + Duration.FromNanoseconds(123_456_789);

    private static readonly Currency Usd = Currency.USD;

    /// <summary>An order with two lines (one on a payment plan), a coupon, a seat, a three-part schedule, a partial refund, paused access and pending entitlements.</summary>
    public static Order FullOrder()
    {
        Entitlement course = new(Lead, OrderId, "masterclass", "masterclass-videos", ProductKind.Course);
        Entitlement community = new(Lead, OrderId, "masterclass", "community", ProductKind.CommunityAccess);
        Entitlement templates = new(Lead, OrderId, "templates-bump", "template-pack", ProductKind.TemplatePack);
        return new Order
        {
            Id = OrderId,
            Lead = Lead,
            PlacedAt = PlacedAt,
            Lines =
            [
                new OrderLine
                {
                    Offer = "masterclass",
                    Role = OfferRole.Main,
                    Quantity = 1,
                    PaymentPlan = "3-pay",
                    Total = Money.FromMajor(297, Usd),
                    Products = ["masterclass-videos", "community"],
                },
                new OrderLine
                {
                    Offer = "templates-bump",
                    Role = OfferRole.OrderBump,
                    Quantity = 2,
                    Total = new Money(5_400, Usd),
                    Products = ["template-pack"],
                },
            ],
            Total = new Money(35_100, Usd),
            Schedule =
            [
                new ScheduledCharge(1, PlacedAt, new Money(11_700, Usd)),
                new ScheduledCharge(2, PlacedAt + Duration.FromDays(30), new Money(11_700, Usd)),
                new ScheduledCharge(3, PlacedAt + Duration.FromDays(60), new Money(11_700, Usd)),
            ],
            Coupons = ["LAUNCH20"],
            PaymentMethod = "pm_1Q2w3E",
            UpsellOf = UpsellOf,
            Seats = [new SeatReservation(SeatId, "masterclass", Lead, PlacedAt + Duration.FromMinutes(15))],
            Status = OrderStatus.PartiallyRefunded,
            Paid = new Money(23_400, Usd),
            Refunded = new Money(5_400, Usd),
            Entitlements = [course, community],
            PendingGrants = [community],
            PendingRevocations = [templates],
            Installments =
            [
                new Installment
                {
                    Number = 1,
                    DueAt = PlacedAt,
                    Amount = new Money(11_700, Usd),
                    Status = InstallmentStatus.Paid,
                    PaymentId = "pi_1",
                    Refunded = new Money(5_400, Usd),
                },
                new Installment
                {
                    Number = 2,
                    DueAt = PlacedAt + Duration.FromDays(30),
                    Amount = new Money(11_700, Usd),
                    Status = InstallmentStatus.Failed,
                    PaymentId = "in_2",
                    FailedAttempts = 2,
                    LastFailedAt = PlacedAt + Duration.FromDays(31),
                    DeclineCode = "insufficient_funds",
                },
                new Installment { Number = 3, DueAt = PlacedAt + Duration.FromDays(60), Amount = new Money(11_700, Usd) },
            ],
            Customer = "cus_9",
            PlanId = "sub_sched_7",
            FailedPaymentAttempts = 1,
            AccessPaused = true,
            PausedEntitlements = [course],
            AppliedAdjustments = ["re_1"],
            Version = 4,
        };
    }

    /// <summary>A failed refund notification parked for a retry, with every optional part set.</summary>
    public static StoredWebhookEvent ParkedEvent() => new()
    {
        EventId = "evt_1Rk",
        EventType = "charge.refunded",
        ReceivedAt = PlacedAt + Duration.FromHours(1),
        Status = WebhookEventStatus.Parked,
        Attempts = 3,
        Error = "payment pi_9 is not recorded yet",
        ClaimedBy = "web-1",
        ClaimedUntil = PlacedAt + Duration.FromHours(1) + Duration.FromMinutes(5),
        Notification = new PaymentNotification
        {
            EventId = "evt_1Rk",
            Kind = PaymentNotificationKind.Refunded,
            Order = OrderId,
            OccurredAt = PlacedAt + Duration.FromMinutes(59),
            PaymentId = "pi_9",
            Amount = new Money(5_400, Usd),
            Installment = 1,
            AdjustmentId = "re_9",
            Reason = "requested_by_customer",
        },
        Version = 2,
    };
}
