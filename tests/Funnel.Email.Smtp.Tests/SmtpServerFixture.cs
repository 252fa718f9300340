using Funnel.TestSupport;

namespace Funnel.Email.Smtp.Tests;

/// <summary>One smtp4dev per test class; tests use distinct recipients so they do not see each other's mail.</summary>
public sealed class SmtpServerFixture : IAsyncLifetime
{
    public Smtp4devServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await Smtp4devServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
