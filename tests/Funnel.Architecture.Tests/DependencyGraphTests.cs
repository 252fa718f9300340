using System.Collections.Immutable;
using System.Reflection;
using Funnel.Advocacy;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Architecture.Tests;

/// <summary>The packages depend on each other one way only, as docs/architecture describes.</summary>
public class DependencyGraphTests
{
    /// <summary>Every package under src/, by a type it defines.</summary>
    private static readonly ImmutableArray<Assembly> Packages =
    [
        typeof(Money).Assembly,
        typeof(SequenceEngine).Assembly,
        typeof(OrderService).Assembly,
        typeof(AffiliateProgram).Assembly,
        typeof(InMemoryPaymentGateway).Assembly,
        typeof(AnalyticsServiceCollectionExtensions).Assembly,
        typeof(FunnelHostingServiceCollectionExtensions).Assembly,
        typeof(FunnelAspNetCoreServiceCollectionExtensions).Assembly,
        typeof(FunnelDashboardServiceCollectionExtensions).Assembly,
        typeof(SmtpServiceCollectionExtensions).Assembly,
        typeof(SendGridServiceCollectionExtensions).Assembly,
        typeof(StripeServiceCollectionExtensions).Assembly,
        typeof(Funnel.Storage.Sqlite.FunnelSqliteServiceCollectionExtensions).Assembly,
        typeof(Funnel.Storage.PostgreSql.FunnelPostgreSqlServiceCollectionExtensions).Assembly,
        typeof(LiquidTemplatesServiceCollectionExtensions).Assembly,
        typeof(LeadsCsvServiceCollectionExtensions).Assembly,
        typeof(InvoicePdfServiceCollectionExtensions).Assembly,
        typeof(ParquetExportServiceCollectionExtensions).Assembly,
    ];

    /// <summary>The Funnel packages each package may reference.</summary>
    private static readonly ImmutableDictionary<string, ImmutableHashSet<string>> Allowed = new Dictionary<string, string[]>
    {
        ["Funnel.Core"] = [],
        ["Funnel.Sequences"] = ["Funnel.Core"],
        ["Funnel.Commerce"] = ["Funnel.Core"],
        ["Funnel.Advocacy"] = ["Funnel.Core", "Funnel.Commerce"],
        ["Funnel.Testing"] = ["Funnel.Core", "Funnel.Commerce", "Funnel.Sequences"],
        ["Funnel.Analytics"] = ["Funnel.Core"],
        ["Funnel.Hosting"] = ["Funnel.Core"],
        ["Funnel.AspNetCore"] = ["Funnel.Core", "Funnel.Sequences", "Funnel.Commerce", "Funnel.Hosting"],
        ["Funnel.AspNetCore.Dashboard"] = ["Funnel.Core", "Funnel.Sequences", "Funnel.Commerce", "Funnel.Analytics", "Funnel.Advocacy"],
        ["Funnel.Email.Smtp"] = ["Funnel.Core"],
        ["Funnel.Email.SendGrid"] = ["Funnel.Core"],
        ["Funnel.Payments.Stripe"] = ["Funnel.Core", "Funnel.Commerce"],
        ["Funnel.Storage.Sqlite"] = ["Funnel.Core", "Funnel.Sequences", "Funnel.Commerce", "Funnel.Advocacy"],
        ["Funnel.Storage.PostgreSql"] = ["Funnel.Core", "Funnel.Sequences", "Funnel.Commerce", "Funnel.Advocacy", "Funnel.Analytics"],
        ["Funnel.Templates.Liquid"] = ["Funnel.Core"],
        ["Funnel.Leads.Csv"] = ["Funnel.Core"],
        ["Funnel.Invoices.Pdf"] = ["Funnel.Core", "Funnel.Commerce"],
        ["Funnel.Analytics.Parquet"] = ["Funnel.Core"],
    }.ToImmutableDictionary(p => p.Key, p => p.Value.ToImmutableHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>The only third-party assemblies Funnel.Core may reference, besides the framework.</summary>
    private static readonly ImmutableHashSet<string> CoreThirdParty = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "FluentValidation",
        "NodaTime",
        "Microsoft.Extensions.DependencyInjection.Abstractions",
        "Microsoft.Extensions.Options");

    private static ImmutableDictionary<string, ImmutableArray<string>> ActualGraph() =>
        Packages.ToImmutableDictionary(
            a => a.GetName().Name!,
            a => a.GetReferencedAssemblies().Select(r => r.Name!).Where(IsFunnel).Order(StringComparer.Ordinal).ToImmutableArray(),
            StringComparer.Ordinal);

    private static bool IsFunnel(string name) => name.StartsWith("Funnel.", StringComparison.Ordinal);

    private static bool IsFramework(string name) =>
        name is "netstandard" or "mscorlib" || name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);

    [Fact]
    public void Packages_EveryPackageUnderSrc_IsListed()
    {
        string src = Path.Combine(RepositoryRoot(), "src");
        string[] projects = [.. Directory.GetDirectories(src, "Funnel.*").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

        projects.ShouldBe([.. Allowed.Keys.Order(StringComparer.Ordinal)], "add the new package to Packages and Allowed");
        Packages.Select(a => a.GetName().Name).Order(StringComparer.Ordinal).ShouldBe(projects);
    }

    [Fact]
    public void References_EveryPackage_StaysInsideTheAllowedGraph()
    {
        var offending = new List<string>();
        foreach ((string package, ImmutableArray<string> references) in ActualGraph())
        {
            foreach (string reference in references.Where(r => !Allowed[package].Contains(r)))
            {
                offending.Add($"{package} -> {reference} (allowed from {package}: {Describe(Allowed[package])})");
            }
        }

        offending.ShouldBeEmpty("these package references break the one-way graph");
    }

    [Fact]
    public void References_Core_OnlyTheFrameworkAndItsFourDependencies()
    {
        string[] others =
        [
            .. typeof(Money).Assembly.GetReferencedAssemblies().Select(r => r.Name!)
                .Where(n => !IsFramework(n) && !CoreThirdParty.Contains(n)),
        ];

        others.ShouldBeEmpty($"Funnel.Core may reference only the framework and {Describe(CoreThirdParty)}");
    }

    [Fact]
    public void References_AllPackages_FormNoCycle()
    {
        ImmutableDictionary<string, ImmutableArray<string>> graph = ActualGraph();

        string? cycle = FindCycle(graph);

        cycle.ShouldBeNull();
        TopologicalOrder(graph).First().ShouldBe("Funnel.Core");
    }

    [Fact]
    public void FindCycle_TwoPackagesReferencingEachOther_NamesTheEdge()
    {
        var graph = new Dictionary<string, ImmutableArray<string>>
        {
            ["Funnel.Core"] = [],
            ["Funnel.Offers"] = ["Funnel.Core", "Funnel.Payments"],
            ["Funnel.Payments"] = ["Funnel.Core", "Funnel.Offers"],
        }.ToImmutableDictionary(StringComparer.Ordinal);

        FindCycle(graph).ShouldBe("Funnel.Offers -> Funnel.Payments -> Funnel.Offers");
    }

    [Fact]
    public void TopologicalOrder_OneWayGraph_PutsDependenciesFirst()
    {
        var graph = new Dictionary<string, ImmutableArray<string>>
        {
            ["Funnel.Advocacy"] = ["Funnel.Commerce", "Funnel.Core"],
            ["Funnel.Commerce"] = ["Funnel.Core"],
            ["Funnel.Core"] = [],
        }.ToImmutableDictionary(StringComparer.Ordinal);

        TopologicalOrder(graph).ShouldBe(["Funnel.Core", "Funnel.Commerce", "Funnel.Advocacy"]);
    }

    /// <summary>Returns a cycle as <c>a -> b -> a</c>, or <see langword="null"/> when the graph has none.</summary>
    private static string? FindCycle(ImmutableDictionary<string, ImmutableArray<string>> graph)
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: on the path; true: done
        var path = new List<string>();

        string? Visit(string node)
        {
            if (state.TryGetValue(node, out bool done))
            {
                return done ? null : string.Join(" -> ", path.Skip(path.IndexOf(node)).Append(node));
            }

            state[node] = false;
            path.Add(node);
            foreach (string next in graph.GetValueOrDefault(node, []).Where(graph.ContainsKey))
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = true;
            return null;
        }

        return graph.Keys.Order(StringComparer.Ordinal).Select(Visit).FirstOrDefault(c => c is not null);
    }

    /// <summary>Kahn's sort: each package after every package it references (ties in ordinal order).</summary>
    private static ImmutableArray<string> TopologicalOrder(ImmutableDictionary<string, ImmutableArray<string>> graph)
    {
        var remaining = graph.ToDictionary(p => p.Key, p => p.Value.Where(graph.ContainsKey).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var order = ImmutableArray.CreateBuilder<string>(graph.Count);
        while (remaining.Count > 0)
        {
            string next = remaining.Where(p => p.Value.Count == 0).Select(p => p.Key).Order(StringComparer.Ordinal).FirstOrDefault()
                ?? throw new InvalidOperationException($"The packages {Describe(remaining.Keys)} form a cycle.");
            order.Add(next);
            remaining.Remove(next);
            foreach (HashSet<string> references in remaining.Values)
            {
                references.Remove(next);
            }
        }

        return order.MoveToImmutable();
    }

    private static string Describe(IEnumerable<string> names) =>
        names.Any() ? string.Join(", ", names.Order(StringComparer.Ordinal)) : "nothing";

    private static string RepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Funnel.Core.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("Funnel.Core.sln not found above the test's directory.");
    }
}
