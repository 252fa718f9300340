using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Funnel.Storage.Sqlite.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("", "FunnelSqliteOptions.ConnectionString")]
    [InlineData("Data Source=:memory:", "must name a database file")]
    [InlineData("Data Source=x.db;Mode=Memory", "must name a database file")]
    public void AddFunnelSqlite_BadConnectionString_FailsNamingTheField(string connectionString, string expected)
    {
        ServiceCollection services = new();
        services.AddFunnelSqlite(connectionString);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException e = Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelSqliteOptions>>().Value);

        e.Message.ShouldContain(expected);
    }

    [Fact]
    public void AddFunnelSqlite_BusyTimeoutNotPositive_FailsNamingTheField()
    {
        ServiceCollection services = new();
        services.AddFunnelSqlite("Data Source=x.db", o => o.BusyTimeout = TimeSpan.Zero);
        using ServiceProvider provider = services.BuildServiceProvider();

        Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FunnelSqliteOptions>>().Value)
            .Message.ShouldContain("FunnelSqliteOptions.BusyTimeout");
    }
}
