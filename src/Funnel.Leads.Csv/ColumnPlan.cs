using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;

namespace Funnel.Leads.Csv;

/// <summary>Which column index holds what, resolved once from the header and the mapping.</summary>
internal sealed class ColumnPlan
{
    private static readonly FrozenSet<string> EmailNames = Names("email", "emailaddress", "mail", "emailaddr");
    private static readonly FrozenSet<string> ConsentNames =
        Names("consent", "marketingconsent", "emailconsent", "optin", "optedin", "subscribed", "acceptsmarketing", "acceptsemailmarketing", "gdprconsent");
    private static readonly FrozenSet<string> TagNames = Names("tags", "tag", "labels");
    private static readonly FrozenSet<string> TimeZoneNames = Names("timezone", "tz", "timezoneid");
    private static readonly FrozenDictionary<string, string> FieldNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["firstname"] = "first_name", ["fname"] = "first_name", ["givenname"] = "first_name", ["first"] = "first_name",
        ["lastname"] = "last_name", ["lname"] = "last_name", ["surname"] = "last_name", ["familyname"] = "last_name", ["last"] = "last_name",
        ["name"] = "name", ["fullname"] = "name",
        ["company"] = "company", ["organization"] = "company", ["organisation"] = "company",
        ["phone"] = "phone", ["phonenumber"] = "phone", ["mobile"] = "phone",
        ["country"] = "country", ["city"] = "city",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private ColumnPlan(int headerCount, string[] headers)
    {
        HeaderCount = headerCount;
        Headers = headers;
    }

    public int HeaderCount { get; }

    public string[] Headers { get; }

    public int Email { get; private set; } = -1;

    public int Consent { get; private set; } = -1;

    public int Tags { get; private set; } = -1;

    public int TimeZone { get; private set; } = -1;

    public List<(int Index, string Field)> Fields { get; } = [];

    public ImmutableDictionary<string, string> Used { get; private set; } = ImmutableDictionary<string, string>.Empty;

    public ImmutableArray<string> Ignored { get; private set; } = [];

    /// <summary>Resolves the plan; throws <see cref="FormatException"/> naming a missing column.</summary>
    public static ColumnPlan Resolve(IReadOnlyList<string> headers, LeadCsvMapping mapping)
    {
        string[] names = [.. headers.Select(h => h.Trim().TrimStart('\uFEFF'))];
        ColumnPlan plan = new(names.Length, names);
        string[] keys = [.. names.Select(Normalise)];
        bool[] taken = new bool[names.Length];

        int Find(string header, string what)
        {
            string key = Normalise(header);
            int index = Array.IndexOf(keys, key);
            return index >= 0
                ? index
                : throw new FormatException($"The {what} column '{header}' is not in the file; its columns are: {string.Join(", ", names.Select(n => "'" + n + "'"))}.");
        }

        int Auto(FrozenSet<string> candidates)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                if (!taken[i] && candidates.Contains(keys[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        int Pick(string? explicitHeader, string what, FrozenSet<string> candidates)
        {
            int index = explicitHeader is not null ? Find(explicitHeader, what) : mapping.AutoMap ? Auto(candidates) : -1;
            if (index >= 0)
            {
                taken[index] = true;
            }

            return index;
        }

        plan.Email = Pick(mapping.EmailColumn, "email", EmailNames);
        if (plan.Email < 0)
        {
            throw new FormatException(
                $"The file has no email column: name it 'email' or set {nameof(LeadCsvMapping)}.{nameof(LeadCsvMapping.EmailColumn)}; its columns are: {string.Join(", ", names.Select(n => "'" + n + "'"))}.");
        }

        plan.Consent = Pick(mapping.ConsentColumn, "consent", ConsentNames);
        plan.Tags = Pick(mapping.TagsColumn, "tags", TagNames);
        plan.TimeZone = Pick(mapping.TimeZoneColumn, "time zone", TimeZoneNames);
        foreach (KeyValuePair<string, string> field in mapping.Fields)
        {
            int index = Find(field.Key, "field");
            taken[index] = true;
            plan.Fields.Add((index, field.Value));
        }

        if (mapping.AutoMap)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                if (!taken[i] && FieldNames.TryGetValue(keys[i], out string? field) && !plan.Fields.Exists(f => f.Field == field))
                {
                    taken[i] = true;
                    plan.Fields.Add((i, field));
                }
            }
        }

        ImmutableDictionary<string, string>.Builder used = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        used[names[plan.Email]] = "email";
        AddIf(used, names, plan.Consent, "consent");
        AddIf(used, names, plan.Tags, "tags");
        AddIf(used, names, plan.TimeZone, "time_zone");
        foreach ((int index, string field) in plan.Fields)
        {
            used[names[index]] = "field:" + field;
        }

        plan.Used = used.ToImmutable();
        plan.Ignored = [.. names.Where((_, i) => !taken[i])];
        return plan;
    }

    private static void AddIf(ImmutableDictionary<string, string>.Builder used, string[] names, int index, string what)
    {
        if (index >= 0)
        {
            used[names[index]] = what;
        }
    }

    private static string Normalise(string header)
    {
        StringBuilder key = new(header.Length);
        foreach (char c in header)
        {
            if (char.IsLetterOrDigit(c))
            {
                key.Append(char.ToLowerInvariant(c));
            }
        }

        return key.ToString();
    }

    private static FrozenSet<string> Names(params string[] names) => names.ToFrozenSet(StringComparer.Ordinal);
}
