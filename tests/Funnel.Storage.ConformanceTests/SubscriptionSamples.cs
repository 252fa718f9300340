using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>A subscription with every field set, and its stored document of format 1, for the stored-format tests of each storage package.</summary>
/// <remarks>The document is a contract: rows written by this version must read back as the same subscription in every later version.</remarks>
public static class SubscriptionSamples
{
    public static readonly SubscriptionId Id = new(Guid.Parse("0195f3a0-5555-7000-8000-000000000001"));
    public static readonly LeadId Lead = new(Guid.Parse("0195f3a0-2222-7000-8000-000000000001"));
    public static readonly Instant Start = Instant.FromUtc(2026, 3, 1, 4, 59, 59) + Duration.FromNanoseconds(123_456_789);

    /// <summary>The stored document of <see cref="Full"/> (its version, 3, is in the row's <c>version</c> column).</summary>
    public const string SubscriptionV1 = """
        {"v":1,"id":"0195f3a0-5555-7000-8000-000000000001","lead":"0195f3a0-2222-7000-8000-000000000001",
         "offer":"membership-pro","status":"past_due","price":{"amount":4999,"currency":"EUR"},"interval":"year",
         "timeZoneId":"America/New_York","startedAt":"2025-01-25T04:59:59.123456789Z",
         "billingAnchor":"2025-03-01T04:59:59.123456789Z","cycle":3,"currentPeriodStart":"2026-03-01T04:59:59.123456789Z",
         "currentPeriodEnd":"2027-03-01T04:59:59.123456789Z","trialEndsAt":"2025-02-08T04:59:59.123456789Z",
         "periodsPaid":2,"cancelAtPeriodEnd":true,"pausedAt":"2025-11-21T04:59:59.123456789Z",
         "pausedUntil":"2025-12-01T04:59:59.123456789Z","paymentMethod":"pm_1Qx","customer":"cus_9",
         "providerSubscriptionId":"sub_42","credit":{"amount":1234,"currency":"EUR"},"failedAttempts":2,
         "nextAttemptAt":"2026-03-04T04:59:59.123456789Z","accessGrantedFor":"membership",
         "appliedPayments":["pi_1","in_2#failed#1"],"endedAt":"2026-03-01T05:59:59.123456789Z","endReason":"payment_failed"}
        """;

    /// <summary>A past-due yearly subscription in euros, in New York's time zone, with every optional field set.</summary>
    public static Subscription Full() => new()
    {
        Id = Id,
        Lead = Lead,
        Offer = new OfferId("membership-pro"),
        Status = SubscriptionStatus.PastDue,
        Price = new Money(4_999, Currency.EUR),
        Interval = BillingInterval.Year,
        TimeZoneId = "America/New_York",
        StartedAt = Start - Duration.FromDays(400),
        BillingAnchor = Start - Duration.FromDays(365),
        Cycle = 3,
        CurrentPeriodStart = Start,
        CurrentPeriodEnd = Start + Duration.FromDays(365),
        TrialEndsAt = Start - Duration.FromDays(386),
        PeriodsPaid = 2,
        CancelAtPeriodEnd = true,
        PausedAt = Start - Duration.FromDays(100),
        PausedUntil = Start - Duration.FromDays(90),
        PaymentMethod = "pm_1Qx",
        Customer = "cus_9",
        ProviderSubscriptionId = "sub_42",
        Credit = new Money(1_234, Currency.EUR),
        FailedAttempts = 2,
        NextAttemptAt = Start + Duration.FromDays(3),
        AccessGrantedFor = new OfferId("membership"),
        AppliedPayments = ["pi_1", "in_2#failed#1"],
        EndedAt = Start + Duration.FromHours(1),
        EndReason = SubscriptionEndReason.PaymentFailed,
        Version = 3,
    };

    /// <summary>Checks that a subscription read back is <paramref name="expected"/>, field by field (records compare arrays by reference).</summary>
    public static void ShouldMatch(Subscription actual, Subscription expected)
    {
        actual.AppliedPayments.ShouldBe(expected.AppliedPayments);
        actual.ShouldBe(expected with { AppliedPayments = actual.AppliedPayments });
    }
}
