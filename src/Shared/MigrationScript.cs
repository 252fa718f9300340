using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Funnel.Storage;

// Linked into both storage packages: each loads its own embedded scripts.

/// <summary>One embedded script, <c>Migrations/NNNN_name.sql</c>, with its SHA-256 checksum.</summary>
/// <remarks>The package embeds its scripts with the logical name <c>{assembly name}.Migrations.NNNN_name.sql</c>.</remarks>
internal sealed record MigrationScript(int Version, string Name, string Sql, string Checksum)
{
    private static readonly string Prefix = typeof(MigrationScript).Assembly.GetName().Name + ".Migrations.";

    public static IReadOnlyList<MigrationScript> All { get; } = Load();

    private static MigrationScript[] Load()
    {
        System.Reflection.Assembly assembly = typeof(MigrationScript).Assembly;
        List<MigrationScript> scripts = [];
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            string file = resource[Prefix.Length..^".sql".Length];
            int underscore = file.IndexOf('_', StringComparison.Ordinal);
            int version = int.Parse(file[..underscore], NumberStyles.None, CultureInfo.InvariantCulture);
            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using StreamReader reader = new(stream, Encoding.UTF8);
            string sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            string checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            scripts.Add(new MigrationScript(version, file[(underscore + 1)..], sql, checksum));
        }

        scripts.Sort(static (a, b) => a.Version.CompareTo(b.Version));
        for (int i = 1; i < scripts.Count; i++)
        {
            if (scripts[i].Version == scripts[i - 1].Version)
            {
                throw new InvalidOperationException($"Two Funnel migrations have version {scripts[i].Version}.");
            }
        }

        return [.. scripts];
    }
}
