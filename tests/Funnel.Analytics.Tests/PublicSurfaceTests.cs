using System.Reflection;
using Funnel.Analytics.Experiments;

namespace Funnel.Analytics.Tests;

/// <summary>Conventions every public type of Funnel.Analytics keeps (see STYLE.md).</summary>
public class PublicSurfaceTests
{
    private static readonly Type[] PublicTypes = [.. typeof(AnalyticsEventStore).Assembly.GetExportedTypes()];

    [Fact]
    public void PublicClasses_AreSealedUnlessAbstractOrStatic() =>
        PublicTypes.Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract).ShouldBeEmpty();

    [Fact]
    public void EquatableTypes_DefineEqualityOperators() =>
        PublicTypes.Where(t => !t.IsInterface && !t.IsAbstract
            && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>) && i.GenericTypeArguments[0] == t)
            && t.GetMethod("op_Equality", BindingFlags.Public | BindingFlags.Static, [t, t]) is null).ShouldBeEmpty();

    [Fact]
    public void PublicTypes_LiveInTheAnalyticsNamespacesOrTheDiExtensions() =>
        PublicTypes.ShouldAllBe(t => t.Namespace!.StartsWith("Funnel.Analytics", StringComparison.Ordinal) || t.Name == "AnalyticsServiceCollectionExtensions");

    [Fact]
    public void Events_AreSealedRecordsWithTheirTypeDeclaredInTheCore()
    {
        Type[] events = [.. PublicTypes.Where(t => t.IsSubclassOf(typeof(Funnel.Events.FunnelEvent)))];

        events.ShouldBe([typeof(ExperimentExposed)]);
        events.ShouldAllBe(t => t.IsSealed);
        new ExperimentExposed { LeadId = LeadId.New(), OccurredAt = default, Experiment = "e", Variant = "v" }.EventType.ShouldBe(Funnel.Events.EventTypes.ExperimentExposed);
    }
}
