using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Funnel.Advocacy;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Sequences;

namespace Funnel.Architecture.Tests;

/// <summary>The conventions of Funnel.Core's public surface (see STYLE.md), held by every package split from it.</summary>
public class PublicSurfaceTests
{
    public static TheoryData<string> SplitPackages => new() { "Funnel.Sequences", "Funnel.Commerce", "Funnel.Advocacy", "Funnel.Testing" };

    private static readonly Assembly[] Assemblies =
    [
        typeof(Money).Assembly,
        typeof(SequenceEngine).Assembly,
        typeof(OrderService).Assembly,
        typeof(AffiliateProgram).Assembly,
        typeof(InMemoryPaymentGateway).Assembly,
    ];

    private static Type[] PublicTypes(string package) =>
        Assemblies.Single(a => a.GetName().Name == package).GetExportedTypes();

    [Theory]
    [MemberData(nameof(SplitPackages))]
    public void PublicClasses_AreSealedUnlessAbstractOrStatic(string package)
    {
        PublicTypes(package).Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(SplitPackages))]
    public void EquatableTypes_DefineEqualityOperators(string package)
    {
        PublicTypes(package).Where(t => !t.IsInterface && !t.IsAbstract
                && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEquatable<>) && i.GenericTypeArguments[0] == t)
                && t.GetMethod("op_Equality", BindingFlags.Public | BindingFlags.Static, [t, t]) is null)
            .ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(SplitPackages))]
    public void PublicTypes_LiveInTheFunnelNamespacesOrTheDiExtensions(string package)
    {
        PublicTypes(package).ShouldAllBe(t => t.Namespace!.StartsWith("Funnel.", StringComparison.Ordinal)
            || (t.Namespace == "Microsoft.Extensions.DependencyInjection" && t.Name.EndsWith("ServiceCollectionExtensions", StringComparison.Ordinal)));
    }

    [Fact]
    public void EventTypeNames_AcrossPackages_AreUniqueSnakeCaseAndNameEveryEvent()
    {
        Type[] constantClasses = [typeof(EventTypes), typeof(SequenceEventTypes), typeof(OfferEventTypes), typeof(PaymentEventTypes), typeof(AdvocacyEventTypes), typeof(Funnel.Invoices.InvoiceEventTypes),
            typeof(Funnel.Waitlists.WaitlistEventTypes), typeof(Funnel.Subscriptions.SubscriptionEventTypes)];
        string[] names = [.. constantClasses.SelectMany(c => c.GetFields()).Select(f => (string)f.GetValue(null)!)];
        Type[] events = [.. Assemblies.SelectMany(a => a.GetExportedTypes()).Where(t => t.IsSubclassOf(typeof(FunnelEvent)) && !t.IsAbstract)];

        names.ShouldBeUnique();
        names.ShouldAllBe(n => Regex.IsMatch(n, "^[a-z]+(_[a-z]+)*$"));
        events.Length.ShouldBeGreaterThan(40);
        string[] unnamed =
        [
            .. events.Where(t => t.Assembly.GetName().Name != "Funnel.Analytics" && t != typeof(UnknownEvent))
                .Select(t => ((FunnelEvent)RuntimeHelpers.GetUninitializedObject(t)).EventType)
                .Where(n => !names.Contains(n)),
        ];
        unnamed.ShouldBeEmpty("every event type name is a constant of its package's EventTypes class");
    }
}
