using Funnel.Pipeline;
using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Core;
using Funnel.Storage.PostgreSql.Sequences;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>The <see cref="ISendOutbox"/> contract over <see cref="PgSendOutbox"/>, each store in a schema of its own.</summary>
public sealed class PgSendOutboxConformanceTests : SendOutboxSpecificationTests, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override ISendOutbox CreateStore() => SequenceStoreKit.Outbox(_schemas.Create());
}

/// <summary>The contract of an outbox writing into its log, over <see cref="PgSendOutbox"/> with the <see cref="PgFunnelEventLog"/> of its schema.</summary>
public sealed class PgSendOutboxEventLogConformanceTests : SendOutboxEventLogSpecification, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override async Task<(ISendOutbox Outbox, IFunnelEventLog Log)> CreateAsync()
    {
        Internal.PgDatabase database = await _schemas.CreateAsync();
        PgFunnelEventLog log = new(database, SequenceStoreKit.Serializer);
        return (new PgSendOutbox(database, SequenceStoreKit.Serializer, NodaTime.SystemClock.Instance, log), log);
    }
}

/// <summary>The <see cref="IEnrolmentStore"/> contract over <see cref="PgEnrolmentStore"/>, each store in a schema of its own.</summary>
public sealed class PgEnrolmentStoreConformanceTests : EnrolmentStoreSpecificationTests, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override IEnrolmentStore CreateStore() => new PgEnrolmentStore(_schemas.Create());
}

/// <summary>The <see cref="IBroadcastStore"/> contract over <see cref="PgBroadcastStore"/>, each store in a schema of its own.</summary>
public sealed class PgBroadcastStoreConformanceTests : BroadcastStoreSpecification, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override IBroadcastStore CreateStore() => new PgBroadcastStore(_schemas.Create());
}

/// <summary>The <see cref="ISequenceTestStore"/> contract over <see cref="PgSequenceTestStore"/>, each store in a schema of its own.</summary>
public sealed class PgSequenceTestStoreConformanceTests : SequenceTestStoreSpecification, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override ISequenceTestStore CreateStore() => new PgSequenceTestStore(_schemas.Create());
}
