using Funnel.Pipeline;
using System.Net;
using Funnel.Leads;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Funnel.AspNetCore.Tests;

public sealed class ServiceRegistrationTests
{
    private static readonly LeadMagnet Guide = new() { Key = "guide", Title = "Guide", Kind = LeadMagnetKind.Guide };

    [Fact]
    public void AddFunnelAspNetCore_NoLeadMagnet_FailsValidationNamingLeadMagnets()
    {
        using ServiceProvider provider = new ServiceCollection().AddLogging().AddFunnelAspNetCore(_ => { }).BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("FunnelAspNetCoreOptions.LeadMagnets");
    }

    [Theory]
    [InlineData("//evil.example/phish")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    public void AddFunnelAspNetCore_RedirectOffSite_FailsValidationNamingTheOption(string redirect)
    {
        using ServiceProvider provider = new ServiceCollection().AddLogging()
            .AddFunnelAspNetCore(o => { o.LeadMagnets.Add(Guide); o.OptInRedirect = redirect; })
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("OptInRedirect");
    }

    [Theory]
    [InlineData("https://shop.example/app")]
    [InlineData("https://shop.example/?a=1")]
    [InlineData("ftp://shop.example/")]
    [InlineData("/relative")]
    public void AddFunnelAspNetCore_PublicOriginNotAnOrigin_FailsValidationNamingTheOption(string origin)
    {
        using ServiceProvider provider = new ServiceCollection().AddLogging()
            .AddFunnelAspNetCore(o => { o.LeadMagnets.Add(Guide); o.PublicOrigin = new Uri(origin, UriKind.RelativeOrAbsolute); })
            .BuildServiceProvider();

        var error = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value);

        error.Message.ShouldContain("PublicOrigin");
    }

    [Fact]
    public void AddFunnelAspNetCore_CalledTwice_RegistersTheJobRunnerOnceAndKeepsBothConfigurations()
    {
        var services = new ServiceCollection().AddLogging();

        services.AddFunnelAspNetCore(o => o.LeadMagnets.Add(Guide));
        services.AddFunnelAspNetCore(o => o.HoneypotField = "url");

        services.Count(d => d.ImplementationType?.Name == "FunnelJobRunner").ShouldBe(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        FunnelAspNetCoreOptions options = provider.GetRequiredService<IOptions<FunnelAspNetCoreOptions>>().Value;
        options.LeadMagnets.ShouldHaveSingleItem();
        options.HoneypotField.ShouldBe("url");
    }

    [Fact]
    public void AddFunnelJob_SameJobTwice_RegistersItOnce()
    {
        var services = new ServiceCollection();

        services.AddFunnelJob<NoOpJob>().AddFunnelJob<NoOpJob>();

        services.Count(d => d.ServiceType == typeof(IFunnelJob)).ShouldBe(1);
    }

    [Fact]
    public async Task MapFunnel_CustomPrefix_ServesTheEndpointsUnderIt()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddFunnelAspNetCore(o => o.LeadMagnets.Add(Guide));
        await using WebApplication app = builder.Build();
        app.MapFunnel("/api/marketing");
        await app.StartAsync();
        using HttpClient client = app.GetTestClient();

        using HttpResponseMessage moved = await client.PostAsync(new Uri("/api/marketing/page-view", UriKind.Relative), new StringContent("{\"url\":\"/a\"}"));
        using HttpResponseMessage old = await client.PostAsync(new Uri("/funnel/page-view", UriKind.Relative), new StringContent("{\"url\":\"/a\"}"));

        moved.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        old.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ((InMemoryFunnelEventLog)app.Services.GetRequiredService<IFunnelEventLog>()).Snapshot().ShouldHaveSingleItem();
        await app.StopAsync();
    }

    private sealed class NoOpJob : IFunnelJob
    {
        public string Name => "noop";

        public TimeSpan Interval => TimeSpan.FromMinutes(1);

        public Task RunAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
