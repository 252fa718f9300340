using Funnel.Leads;
using Funnel.Pipeline;
using Funnel.Privacy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Testing;

namespace Funnel.Tests.Privacy;

public sealed class PrivacyRegistrationTests
{
    private const string Key = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void AddFunnelPrivacy_NoSuppressionKey_FailsNamingTheOption()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelPrivacy(static _ => { }).BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<PrivacyOptions>>().Value);

        error.Message.ShouldContain("PrivacyOptions.SuppressionKey");
        error.Message.ShouldContain("required");
    }

    [Fact]
    public void AddFunnelPrivacy_ShortSuppressionKey_FailsWithTheMinimumLength()
    {
        using ServiceProvider provider = new ServiceCollection()
            .AddFunnelPrivacy(static o => o.SuppressionKey = "short").BuildServiceProvider();

        OptionsValidationException error = Should.Throw<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<PrivacyOptions>>().Value);

        error.Message.ShouldContain("PrivacyOptions.SuppressionKey");
        error.Message.ShouldContain("at least 32 characters, not 5");
    }

    [Fact]
    public void AddFunnelPrivacy_ValidKey_ResolvesTheServiceWithTheInMemoryStoresLeadStoreLast()
    {
        using ServiceProvider provider = new ServiceCollection().AddFunnelPrivacy(static o => o.SuppressionKey = Key).BuildServiceProvider();

        LeadPrivacyService privacy = provider.GetRequiredService<LeadPrivacyService>();

        privacy.Stores.Length.ShouldBe(2);
        privacy.Stores[0].ShouldBeSameAs(provider.GetRequiredService<IFunnelEventLog>());
        privacy.Stores[1].ShouldBeSameAs(provider.GetRequiredService<ILeadStore>());
    }

    [Fact]
    public void AddFunnelPrivacy_CalledTwice_RegistersOneServiceAndKeepsTheLastKey()
    {
        ServiceCollection services = new();
        services.AddFunnelPrivacy(static o => o.SuppressionKey = "first-key-that-is-long-enough-000");
        services.AddFunnelPrivacy(static o => o.SuppressionKey = Key);

        services.Count(static d => d.ServiceType == typeof(LeadPrivacyService)).ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<PrivacyOptions>>().Value.SuppressionKey.ShouldBe(Key);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingTheKey()
    {
        var error = Should.Throw<FluentValidation.ValidationException>(() => new LeadPrivacyService(
            new InMemoryLeadStore(), [], Options.Create(new PrivacyOptions()), new FakeClock(Instant.FromUtc(2026, 1, 1, 0, 0))));

        error.Message.ShouldContain("SuppressionKey");
    }

    [Fact]
    public void TombstoneFor_SameAddressAndKey_IsStableValidAndKeyed()
    {
        LeadPrivacyService one = Service(Key);
        LeadPrivacyService other = Service(new string('x', 40));
        EmailAddress ann = EmailAddress.Parse("Ann@Example.com");

        EmailAddress tombstone = one.TombstoneFor(ann);

        tombstone.ShouldBe(one.TombstoneFor(EmailAddress.Parse(" ann@example.com")));
        tombstone.Value.ShouldMatch("^erased-[0-9a-f]{32}@erased\\.invalid$");
        tombstone.Value.ShouldNotContain("ann");
        other.TombstoneFor(ann).ShouldNotBe(tombstone);
    }

    private static LeadPrivacyService Service(string key) => new(
        new InMemoryLeadStore(), [], Options.Create(new PrivacyOptions { SuppressionKey = key }), new FakeClock(Instant.FromUtc(2026, 1, 1, 0, 0)));
}
