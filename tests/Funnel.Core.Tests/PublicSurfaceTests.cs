using System.Reflection;

namespace Funnel.Tests;

/// <summary>Conventions every public type of Funnel.Core keeps (see STYLE.md).</summary>
public class PublicSurfaceTests
{
    private static readonly Type[] PublicTypes = [.. typeof(Money).Assembly.GetExportedTypes()];

    [Fact]
    public void PublicClasses_AreSealedUnlessAbstractOrStatic()
    {
        Type[] unsealed = [.. PublicTypes.Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract)];

        unsealed.ShouldBeEmpty();
    }

    [Fact]
    public void EquatableTypes_DefineEqualityOperators()
    {
        Type[] missing =
        [
            .. PublicTypes.Where(t => !t.IsInterface && !t.IsAbstract
                && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>) && i.GenericTypeArguments[0] == t)
                && t.GetMethod("op_Equality", BindingFlags.Public | BindingFlags.Static, [t, t]) is null),
        ];

        missing.ShouldBeEmpty();
    }

    [Fact]
    public void PublicTypes_LiveInTheFunnelNamespacesOrTheDiExtensions()
    {
        PublicTypes.ShouldAllBe(t => t.Namespace == "Funnel" || t.Namespace!.StartsWith("Funnel.", StringComparison.Ordinal)
            || t.Name == "FunnelServiceCollectionExtensions");
    }

    [Fact]
    public void Events_AreSealedRecordsWithAStableSnakeCaseType()
    {
        Type[] events = [.. PublicTypes.Where(t => t.IsSubclassOf(typeof(Funnel.Events.FunnelEvent)) && !t.IsAbstract)];

        events.Length.ShouldBeGreaterThan(20);
        events.ShouldAllBe(t => t.IsSealed);
        string[] constants = [.. typeof(Funnel.Events.EventTypes).GetFields().Select(f => (string)f.GetValue(null)!)];
        constants.ShouldBeUnique();
        constants.ShouldAllBe(c => System.Text.RegularExpressions.Regex.IsMatch(c, "^[a-z]+(_[a-z]+)*$"));
    }
}
