using Funnel.Sequences;
using Funnel.Storage.ConformanceTests;
using Funnel.Storage.PostgreSql.Sequences;

namespace Funnel.Storage.PostgreSql.Tests.Sequences;

/// <summary>The <see cref="ISendOutbox"/> contract over <see cref="PgSendOutbox"/>, each store in a schema of its own.</summary>
public sealed class PgSendOutboxConformanceTests : SendOutboxSpecificationTests, IAsyncDisposable
{
    private readonly PgSchemas _schemas = new();

    public ValueTask DisposeAsync() => _schemas.DisposeAsync();

    protected override ISendOutbox CreateStore() => SequenceStoreKit.Outbox(_schemas.Create());
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
