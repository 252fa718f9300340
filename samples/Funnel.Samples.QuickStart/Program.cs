using Funnel;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Kpis;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

using ServiceProvider services = new ServiceCollection()
    .AddFunnel(options => options.DefaultCurrency = "USD")
    .BuildServiceProvider();

FunnelDefinition funnel = FunnelBuilder.Create("ebook-launch", "E-Book launch")
    .WithDefaultStages()
    .AddStep("visit", "Visitors", DefaultStages.Awareness.Key, StepKind.Content, EventMatch.For(EventTypes.PageViewed))
    .AddStep("opt-in", "Leads", DefaultStages.Interest.Key, StepKind.OptIn, EventMatch.For(EventTypes.OptedIn, "guide"))
    .AddStep("buy", "Customers", DefaultStages.Action.Key, StepKind.Purchase, EventMatch.For(EventTypes.OrderPlaced))
    .Build();

Instant now = services.GetRequiredService<IClock>().GetCurrentInstant();
LeadId lead = LeadId.New();
FunnelEvent[] events =
[
    new PageViewed { LeadId = lead, OccurredAt = now, Page = "/blog/first-ebook", Attribution = Attribution.FromUtm("facebook", "cpc", "launch") },
    new OptedIn { LeadId = lead, OccurredAt = now + Duration.FromMinutes(3), Magnet = "guide" },
    new OrderPlaced { LeadId = lead, OccurredAt = now + Duration.FromDays(2), Order = OrderId.New(), Offer = "masterclass", Total = Money.FromMajor(497m, Currency.USD) },
    new AdSpendRecorded { OccurredAt = now, Amount = Money.FromMajor(200m, Currency.USD), Attribution = Attribution.FromUtm("facebook") },
];

FunnelReport report = services.GetRequiredService<IFunnelReporter>().CreateReport(funnel, events);
Console.WriteLine($"Leads: {report.Overall.Steps[1].Reached}, revenue: {report.Overall.Revenue:C}, ROAS: {report.Overall.ReturnOnAdSpend:X2}");
// Leads: 1, revenue: $497.00, ROAS: 2.49x
