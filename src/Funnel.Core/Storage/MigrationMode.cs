namespace Funnel.Storage;

/// <summary>What Funnel does to its schema when the app starts.</summary>
public enum MigrationMode
{
    /// <summary>Creates the tables, or applies the scripts the database has not had yet.</summary>
    Apply,

    /// <summary>Applies nothing, and fails start-up when the database is missing a script or a script changed.</summary>
    Validate,

    /// <summary>Applies and checks nothing; apply the storage package's exported script (<c>FunnelSqliteSchema.Script</c>, <c>FunnelPostgreSqlSchema.Script</c>) in your own pipeline.</summary>
    None,
}
