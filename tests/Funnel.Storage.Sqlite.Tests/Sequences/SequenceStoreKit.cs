using Funnel.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Storage.Sqlite.Tests.Sequences;

/// <summary>What the sequence store tests share.</summary>
internal static class SequenceStoreKit
{
    /// <summary>Gets the event serializer as <c>AddFunnel</c> + <c>AddFunnelSqlite</c> register it (with the sequence events).</summary>
    public static FunnelEventSerializer Serializer { get; } = CreateSerializer();

    private static FunnelEventSerializer CreateSerializer()
    {
        ServiceCollection services = new();
        services.AddFunnel();
        services.AddFunnelSqlite("Data Source=unused.db");
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<FunnelEventSerializer>();
    }
}
