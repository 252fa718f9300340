using System.Text.RegularExpressions;
using FluentValidation;
using Funnel.Storage;
using Npgsql;

namespace Funnel.Storage.PostgreSql;

/// <summary>Options of <c>AddFunnelPostgreSql</c>: where the database is, which schema Funnel owns and how it is migrated.</summary>
/// <remarks>Validated when the host starts; an invalid value stops start-up with a message naming the option.</remarks>
public sealed class FunnelPostgreSqlOptions
{
    /// <summary>Gets or sets the Npgsql connection string, such as <c>Host=db;Database=shop;Username=shop;Password=…</c>.</summary>
    /// <value>Required unless the app passes its own <see cref="NpgsqlDataSource"/> to <c>AddFunnelPostgreSql</c>.</value>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Gets or sets the schema that holds Funnel's tables; Funnel creates it when missing.</summary>
    /// <value>Default <c>funnel</c>. Lower-case letters, digits and underscores, starting with a letter or underscore, at most 63 characters.</value>
    public string Schema { get; set; } = "funnel";

    /// <summary>Gets or sets what happens to the schema when the app starts.</summary>
    /// <value>
    /// Default <see cref="MigrationMode.Apply"/>: missing scripts are applied under a PostgreSQL advisory lock, so
    /// several instances starting at once apply each script once.
    /// </value>
    public MigrationMode Migrations { get; set; } = MigrationMode.Apply;

    /// <summary>Gets or sets how often the host copies new lead events into the analytics segments that funnel loads read.</summary>
    /// <value>
    /// Default <see langword="null"/>: the host writes no segments, and a funnel load reads every row of its event
    /// types from the log (or the segments written by calls to
    /// <see cref="FunnelPostgreSqlAnalytics.WriteAnalyticsSegmentsAsync"/>). Set it, to one minute for example, when
    /// the app loads funnels from a large log: a load then reads the compact segments and only the log's newest rows.
    /// Every instance may run the writer; one writes at a time. At least one second, at most one day.
    /// </value>
    public TimeSpan? AnalyticsSegmentInterval { get; set; }
}

/// <summary>Validates <see cref="FunnelPostgreSqlOptions"/>.</summary>
internal sealed partial class FunnelPostgreSqlOptionsValidator : AbstractValidator<FunnelPostgreSqlOptions>
{
    public FunnelPostgreSqlOptionsValidator()
        : this(dataSourceGiven: false)
    {
    }

    public FunnelPostgreSqlOptionsValidator(bool dataSourceGiven)
    {
        if (!dataSourceGiven)
        {
            RuleFor(o => o.ConnectionString)
                .NotEmpty().WithMessage("Set the PostgreSQL connection string, such as \"Host=localhost;Database=shop;Username=shop;Password=…\", or pass your NpgsqlDataSource to AddFunnelPostgreSql.")
                .Must(BeValid).When(o => !string.IsNullOrEmpty(o.ConnectionString), ApplyConditionTo.CurrentValidator)
                .WithMessage("The PostgreSQL connection string cannot be parsed: {ErrorMessage}.");
        }

        RuleFor(o => o.Schema)
            .NotEmpty().WithMessage("Set the schema that holds Funnel's tables, such as \"funnel\".")
            .Matches(SchemaName()).When(o => !string.IsNullOrEmpty(o.Schema), ApplyConditionTo.CurrentValidator)
            .WithMessage("The schema name must be lower-case letters, digits and underscores, start with a letter or underscore and have at most 63 characters.");
        RuleFor(o => o.Migrations).IsInEnum();
        RuleFor(o => o.AnalyticsSegmentInterval)
            .Must(i => i is null || (i.Value >= TimeSpan.FromSeconds(1) && i.Value <= TimeSpan.FromDays(1)))
            .WithMessage("The analytics segment interval must be at least one second and at most one day, or null to write no segments on a timer.");
    }

    private static bool BeValid(FunnelPostgreSqlOptions options, string connectionString, ValidationContext<FunnelPostgreSqlOptions> context)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return true;
        }
        catch (ArgumentException ex)
        {
            context.MessageFormatter.AppendArgument("ErrorMessage", ex.Message);
            return false;
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
