using Funnel.Events;
using Funnel.Leads;
using Funnel.Definitions;
using Funnel.Pipeline;
using Funnel.Segments;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The capture, segment and setup snippets of docs/segmentation-and-scoring.md (scoring's are in Scoring.cs).</summary>
internal static class SegmentationSnippets
{
    public static async Task<LeadCapture> OptInAsync(
        IReadOnlyDictionary<string, string> form, IReadOnlyDictionary<string, string?> q, (string? Referer, string? UserAgent) headers,
        LeadId visitorIdFromCookie, string? browserTimeZone)
    {
        // <snippet:segmentation-opt-in>
var guide = new LeadMagnet { Key = "quick-start-guide", Title = "Quick-start guide", Kind = LeadMagnetKind.Guide };
var capture = new LeadCapture(new InMemoryLeadStore(), new InMemoryFunnelEventLog(), SystemClock.Instance);
// or resolve LeadCapture from AddFunnel(), which uses the registered IFunnelEventLog

OptInResult result = await capture.OptInAsync(new OptInRequest
{
    Email = form["email"],                       // normalised and validated
    Magnet = guide,
    VisitorId = visitorIdFromCookie,             // becomes the lead id of a new lead
    Attribution = LeadCapture.AttributionFrom(q["utm_source"], q["utm_medium"], q["utm_campaign"],
                                              q["utm_content"], q["utm_term"], referrer: headers.Referer),
    TimeZoneId = browserTimeZone,                // "Europe/Berlin", for sending at local times
});
// Already in the event log: OptedIn, ConsentRecorded and, for a new lead, LifecycleStageChanged.
// result.Events lists them for information; do not append them again.
        // </snippet:segmentation-opt-in>
        return capture;
    }

    public static async Task ConfirmAsync(LeadCapture capture, string tokenFromLink)
    {
        // <snippet:segmentation-confirm>
ConfirmationResult confirmed = await capture.ConfirmAsync(tokenFromLink);
// Confirmed → consent Granted and an OptInConfirmed event in the log; Expired; or Invalid (unknown, tampered or used).
        // </snippet:segmentation-confirm>
    }

    public static SegmentMembership Evaluate(
        SegmentDefinition segment, LeadProfile profile, IEnumerable<FunnelEvent> leadEvents, IClock clock,
        IEnumerable<(LeadProfile, IEnumerable<FunnelEvent>)> leads, Instant now)
    {
        // <snippet:segmentation-evaluate>
var evaluator = new SegmentEvaluator(segment.Rule);           // validates once
bool inIt = evaluator.Matches(profile, leadEvents, clock.GetCurrentInstant());

var builder = new LeadPopulationBuilder();
foreach (var (lead, events) in leads)
{
    int i = builder.Add(lead);                                 // or AddVisitor(id)
    foreach (var e in events) builder.AddEvent(i, e);          // or AddEvent(i, type, subject, at, properties) from raw rows
}
SegmentMembership members = evaluator.Evaluate(builder.Build(), now);
        // </snippet:segmentation-evaluate>
        return members;
    }

    public static async Task TrackAsync(SegmentDefinition segment, IServiceProvider provider, LeadPopulation population, IClock clock)
    {
        // <snippet:segmentation-track>
var tracker = new SegmentTracker(segment, provider.GetRequiredService<ISegmentMembershipStore>());
SegmentChanges changes = await tracker.EvaluateAsync(population, clock.GetCurrentInstant());
        // </snippet:segmentation-track>
    }

    public static ScoringResult Score(LeadProfile profile, IEnumerable<FunnelEvent> leadEvents, Instant now)
    {
        // <snippet:segmentation-score>
var scorer = new LeadScorer(new ScoringModel
{
    Rules =
    [
        new ScoringRule(EventMatch.For(EventTypes.EmailOpened), Points: 2, Cap: 10),
        new ScoringRule(EventMatch.For(EventTypes.EmailClicked), Points: 5, Cap: 25),
        new ScoringRule(EventMatch.For(EventTypes.PageViewed, "/sales*"), Points: 20, Cap: 40),
        new ScoringRule(EventMatch.For(EventTypes.EmailUnsubscribed), Points: -50, Cap: 50),
    ],
    HalfLife = Duration.FromDays(14),
    MarketingQualifiedAt = 20,
    SalesQualifiedAt = 50,
});
ScoringResult result = scorer.Update(profile, leadEvents, now);   // new Score and Stage, plus events
        // </snippet:segmentation-score>
        return result;
    }

    public static SegmentDefinition Retarget()
    {
        // <snippet:segmentation-retargeting>
// "Visited a blog post but not the lead-magnet page": show them the free guide.
SegmentDefinition readers = RetargetingSegments.VisitedBlogNotLeadMagnetPage("/free-guide", "/blog/*", within: Duration.FromDays(30));

// "Downloaded the guide but did not visit the sales page": show them the offer.
SegmentDefinition warm = RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide");
        // </snippet:segmentation-retargeting>
        return warm;
    }

    public static async Task ExportAsync(SegmentDefinition warm, LeadPopulation population, Instant now)
    {
        // <snippet:segmentation-export>
Audience audience = new SegmentEvaluator(warm.Rule).Evaluate(population, now).ToAudience(warm.Key);
var exporter = new CsvAudienceExporter(a => File.Create($"{a.Name}.csv"));
int rows = await exporter.ExportAsync(audience);
        // </snippet:segmentation-export>
    }

    public static void Register(IServiceCollection services)
    {
        // <snippet:segmentation-register>
services.AddFunnel();
services.AddSingleton(new ScoringModel { Rules = [/* … */], MarketingQualifiedAt = 20, SalesQualifiedAt = 50 });
services.AddSingleton(RetargetingSegments.DownloadedGuideNotSalesPage("quick-start-guide"));
services.AddSingleton(new SegmentDefinition("vip", new TagRule("vip")));
services.AddFunnelHosting();   // Funnel.Hosting: runs the pipeline and the jobs; tests call pipeline.DeliverAllAsync()
        // </snippet:segmentation-register>
    }
}
