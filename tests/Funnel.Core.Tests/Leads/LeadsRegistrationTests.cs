using FluentValidation;
using Funnel.Leads;
using Funnel.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Leads;

public class LeadsRegistrationTests
{
    [Fact]
    public async Task AddFunnel_RegistersLeadServicesThatUseTheInjectedClock()
    {
        FakeClock clock = new(Instant.FromUtc(2026, 3, 1, 12, 0));
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IClock>(clock)
            .AddFunnel()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        ILeadStore store = provider.GetRequiredService<ILeadStore>();
        store.ShouldBeOfType<InMemoryLeadStore>();
        provider.GetRequiredService<IValidator<LeadMagnet>>().ShouldBeOfType<LeadMagnetValidator>();
        provider.GetRequiredService<IValidator<ScoringModel>>().ShouldBeOfType<ScoringModelValidator>();
        provider.GetRequiredService<IValidator<SegmentDefinition>>().ShouldBeOfType<SegmentRuleValidator>();
        LeadCapture capture = provider.GetRequiredService<LeadCapture>();
        OptInResult result = await capture.OptInAsync(new OptInRequest
        {
            Email = "ann@example.com",
            Magnet = new LeadMagnet { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide },
        });

        result.Lead.CreatedAt.ShouldBe(clock.GetCurrentInstant());
        (await store.FindAsync(result.Lead.Id)).ShouldBe(result.Lead);
    }

    [Fact]
    public void AddFunnel_KeepsALeadStoreRegisteredBefore()
    {
        InMemoryLeadStore mine = new();
        using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<ILeadStore>(mine)
            .AddFunnel()
            .BuildServiceProvider();

        provider.GetRequiredService<ILeadStore>().ShouldBeSameAs(mine);
    }

    [Fact]
    public void ResolveTimeZone_KnownUnknownOrMissingZone_FallsBackWhenNeeded()
    {
        DateTimeZone fallback = DateTimeZoneProviders.Tzdb["America/New_York"];
        LeadProfile lead = new() { Id = LeadId.New(), Email = EmailAddress.Parse("ann@example.com"), CreatedAt = Instant.FromUtc(2026, 1, 1, 0, 0) };

        (lead with { TimeZoneId = "Europe/Berlin" }).ResolveTimeZone(DateTimeZoneProviders.Tzdb, fallback).Id.ShouldBe("Europe/Berlin");
        (lead with { TimeZoneId = "Mars/Olympus" }).ResolveTimeZone(DateTimeZoneProviders.Tzdb, fallback).ShouldBe(fallback);
        lead.ResolveTimeZone(DateTimeZoneProviders.Tzdb, fallback).ShouldBe(fallback);
    }
}
