using Funnel.Storage;
using FluentValidation;
using Microsoft.Data.Sqlite;

namespace Funnel.Storage.Sqlite;

/// <summary>How the SQLite database is opened, migrated and written.</summary>
public sealed class FunnelSqliteOptions
{
    /// <summary>Gets or sets the connection string, such as <c>Data Source=funnel.db</c>; the file and its folder are created when missing.</summary>
    /// <remarks>Use a file on a local disk: SQLite's locking does not hold on network file systems. <c>:memory:</c> is refused (every connection would see another database).</remarks>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Gets or sets what happens to the schema at start-up; <see cref="MigrationMode.Apply"/> by default.</summary>
    public MigrationMode Migrations { get; set; } = MigrationMode.Apply;

    /// <summary>Gets or sets whether every commit waits for the disk (<see cref="SqliteSynchronous.Full"/>, the default) or only checkpoints do.</summary>
    /// <remarks>
    /// With <see cref="SqliteSynchronous.Full"/> a committed write survives a power cut; with
    /// <see cref="SqliteSynchronous.Normal"/> it survives a crash or kill of the process, and the last commits before a
    /// power cut may be lost. Writes are grouped into shared commits either way.
    /// </remarks>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Full;

    /// <summary>Gets or sets how long a connection waits for another process's lock before it fails; 30 seconds by default.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the most writes one commit groups; 1,000 by default.</summary>
    /// <remarks>Writes that arrive while a commit is in flight wait for it and then share the next commit, up to this many.</remarks>
    public int MaxWritesPerCommit { get; set; } = 1_000;
}


/// <summary>How SQLite waits for the disk when it commits (the <c>synchronous</c> pragma, in WAL mode).</summary>
public enum SqliteSynchronous
{
    /// <summary>Every commit is flushed to disk before it returns.</summary>
    Full,

    /// <summary>Commits are flushed at checkpoints; a process crash loses nothing, a power cut may lose the last commits.</summary>
    Normal,
}

internal sealed class FunnelSqliteOptionsValidator : AbstractValidator<FunnelSqliteOptions>
{
    public FunnelSqliteOptionsValidator()
    {
        RuleFor(o => o.ConnectionString)
            .NotEmpty().WithMessage("Set the SQLite connection string, such as \"Data Source=funnel.db\".")
            .Must(BeAFile).When(o => !string.IsNullOrEmpty(o.ConnectionString), ApplyConditionTo.CurrentValidator)
            .WithMessage("The connection string must name a database file (Data Source=path): in-memory and temporary databases are not shared between connections.");
        RuleFor(o => o.Migrations).IsInEnum();
        RuleFor(o => o.Synchronous).IsInEnum();
        RuleFor(o => o.BusyTimeout).GreaterThan(TimeSpan.Zero).LessThanOrEqualTo(TimeSpan.FromMinutes(10));
        RuleFor(o => o.MaxWritesPerCommit).InclusiveBetween(1, 100_000);
    }

    private static bool BeAFile(string connectionString)
    {
        try
        {
            SqliteConnectionStringBuilder builder = new(connectionString);
            return builder.Mode != SqliteOpenMode.Memory
                && !string.IsNullOrWhiteSpace(builder.DataSource)
                && builder.DataSource != ":memory:";
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
