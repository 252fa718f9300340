using Funnel.Events;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection;
using static Funnel.Tests.TestEvents;

namespace Funnel.Tests.Kpis;

public class FunnelReportSectionTests
{
    [Fact]
    public void CreateReport_WithASection_StoresItsResultUnderItsKey()
    {
        var reporter = new FunnelReporter(new FunnelReportSettings { Sections = [new CountingSection("views")] });

        FunnelReport report = reporter.CreateReport(FunnelReporterTests.Funnel, [View(1, 0), View(2, 1), OptIn(1, 2)]);

        report.Sections.Keys.ShouldBe(["views"]);
        report.Section<ViewCount>().ShouldBe(new ViewCount(2));
    }

    [Fact]
    public void CreateReport_ReplayedEvent_AddsItToTheSectionOnce()
    {
        PageViewed view = View(1, 0);
        var reporter = new FunnelReporter(new FunnelReportSettings { Sections = [new CountingSection("views")] });

        FunnelReport report = reporter.CreateReport(FunnelReporterTests.Funnel, [view, view, view]);

        report.Section<ViewCount>().ShouldBe(new ViewCount(1));
    }

    [Fact]
    public void CreateReport_NoSections_SectionIsNull()
    {
        FunnelReport report = new FunnelReporter().CreateReport(FunnelReporterTests.Funnel, [View(1, 0)]);

        report.Sections.ShouldBeEmpty();
        report.Section<ViewCount>().ShouldBeNull();
    }

    [Fact]
    public void CreateReport_TwoSectionsWithOneKey_KeepsTheFirst()
    {
        var first = new CountingSection("views");
        var reporter = new FunnelReporter(new FunnelReportSettings { Sections = [first, new CountingSection("views", offset: 100)] });

        FunnelReport report = reporter.CreateReport(FunnelReporterTests.Funnel, [View(1, 0)]);

        report.Sections.Count.ShouldBe(1);
        report.Section<ViewCount>().ShouldBe(new ViewCount(1));
    }

    [Fact]
    public void AddFunnel_RegisteredSection_IsInTheReporterReports()
    {
        using ServiceProvider provider = new ServiceCollection()
            .AddFunnel()
            .AddSingleton<IFunnelReportSection>(new CountingSection("views"))
            .BuildServiceProvider();

        FunnelReport report = provider.GetRequiredService<IFunnelReporter>().CreateReport(FunnelReporterTests.Funnel, [View(1, 0)]);

        report.Section<ViewCount>().ShouldBe(new ViewCount(1));
    }

    [Fact]
    public void AddFunnel_RegistersOnlyCoreServices()
    {
        IServiceCollection services = new ServiceCollection().AddFunnel();

        services.Select(d => d.ServiceType.Assembly.GetName().Name)
            .Where(name => name!.StartsWith("Funnel.", StringComparison.Ordinal))
            .Distinct()
            .ShouldBe(["Funnel.Core"]);
    }

    private sealed record ViewCount(long Views);

    private sealed class CountingSection(string key, long offset = 0) : IFunnelReportSection
    {
        public string Key => key;

        public IFunnelReportSectionBuilder CreateBuilder(FunnelReportSettings settings) => new Builder(offset);

        private sealed class Builder(long views) : IFunnelReportSectionBuilder
        {
            public void Add(FunnelEvent funnelEvent) => views += funnelEvent is PageViewed ? 1 : 0;

            public object Build() => new ViewCount(views);
        }
    }
}
