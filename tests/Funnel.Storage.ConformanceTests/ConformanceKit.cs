using NodaTime;

namespace Funnel.Storage.ConformanceTests;

/// <summary>Ids and instants for the store specifications.</summary>
internal static class ConformanceKit
{
    public static readonly Instant T0 = Instant.FromUtc(2026, 10, 5, 14, 0);

    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));

    public static OrderId Order(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2));

    public static Funnel.Advocacy.AffiliateId Affiliate(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3));

    public static Money Cents(long cents) => new(cents, Currency.USD);

    public static Instant At(int seconds) => T0 + Duration.FromSeconds(seconds);
}
