using System.Net;
using Funnel.Events;
using Funnel.Pipeline;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.AspNetCore.Dashboard.Tests;

/// <summary>The broadcasts page lists the stored broadcasts with their figures from the event log, and cancels one.</summary>
public class DashboardBroadcastTests
{
    private static Broadcast Stored(string key, Instant at, BroadcastStatus status = BroadcastStatus.Scheduled, int queued = 0) => new()
    {
        Definition = new BroadcastDefinition { Key = key, Segment = "newsletter", Subject = "Subject of " + key, TextBody = "Hi", SendAt = at },
        Status = status,
        CreatedAt = DashboardHost.Start,
        DueAt = at,
        Queued = queued,
    };

    [Fact]
    public async Task Page_ListsTheLatestFirstWithTheirFiguresFromTheLog()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        IBroadcastStore store = host.Services.GetRequiredService<IBroadcastStore>();
        (await store.TryAddAsync(Stored("promo-november", DashboardHost.Start - Duration.FromDays(20), BroadcastStatus.Queued, queued: 3))).ShouldBeTrue();
        (await store.TryAddAsync(Stored("promo-december", DashboardHost.Start + Duration.FromDays(2)))).ShouldBeTrue();
        Broadcast tested = Stored("promo-tested", DashboardHost.Start - Duration.FromDays(30), BroadcastStatus.Queued) with
        {
            Definition = Stored("promo-tested", DashboardHost.Start).Definition with
            {
                Variants = [new EmailVariant { Key = "control" }, new EmailVariant { Key = "short", Subject = "Short" }],
                WinnerTest = new BroadcastWinnerTest(),
            },
            Test = new BroadcastTestState { Stage = BroadcastTestStage.Decided, Winner = "short", Significant = true, DecidedAt = DashboardHost.Start },
        };
        (await store.TryAddAsync(tested)).ShouldBeTrue();
        Instant sentAt = DashboardHost.Start - Duration.FromDays(20);
        LeadId[] leads = [LeadId.New(), LeadId.New(), LeadId.New()];
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            .. leads.Select(l => (FunnelEvent)new EmailSent { LeadId = l, OccurredAt = sentAt, Email = "promo-november" }),
            new EmailOpened { LeadId = leads[0], OccurredAt = sentAt + Duration.FromHours(1), Email = "promo-november" },
            new EmailOpened { LeadId = leads[1], OccurredAt = sentAt + Duration.FromHours(2), Email = "promo-november" },
        ]);
        using HttpClient client = host.Client();

        string html = await DashboardHost.GetPageAsync(client, "/funnel-admin/broadcasts");

        html.ShouldContain("<h1>Broadcasts</h1>");
        html.ShouldContain("<td>short (significant)</td>");
        html.IndexOf("promo-december", StringComparison.Ordinal).ShouldBeLessThan(html.IndexOf("promo-november", StringComparison.Ordinal));
        html.ShouldContain("<td>promo-november</td><td>Subject of promo-november</td><td>newsletter</td><td>Queued</td>");
        html.ShouldContain("<td class=\"num\">3</td><td class=\"num\">3</td><td class=\"num\">" + Funnel.Ratio.Of(2, 3).ToString("P1", System.Globalization.CultureInfo.InvariantCulture) + "</td>");
    }

    [Fact]
    public async Task Cancel_AScheduledBroadcast_CancelsItThroughTheService()
    {
        await using DashboardHost host = await DashboardHost.StartAsync();
        IBroadcastStore store = host.Services.GetRequiredService<IBroadcastStore>();
        (await store.TryAddAsync(Stored("promo-december", DashboardHost.Start + Duration.FromDays(2)))).ShouldBeTrue();
        using HttpClient client = host.Client();
        (string cookie, string token) = await DashboardHost.AntiforgeryAsync(client, "/funnel-admin/broadcasts");

        using HttpResponseMessage response = await DashboardHost.PostAsync(client, "/funnel-admin/broadcasts/cancel", cookie,
            ("key", "promo-december"), ("__RequestVerificationToken", token));
        using HttpResponseMessage missing = await DashboardHost.PostAsync(client, "/funnel-admin/broadcasts/cancel", cookie,
            ("key", "no-such-broadcast"), ("__RequestVerificationToken", token));

        response.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        response.Headers.Location!.OriginalString.ShouldBe("/funnel-admin/broadcasts");
        (await store.FindAsync("promo-december")).ShouldNotBeNull().Status.ShouldBe(BroadcastStatus.Cancelled);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Sequences_page_shows_each_steps_figures_and_each_branchs_paths()
    {
        SequenceDefinition nurture = new()
        {
            Key = "guide-nurture",
            Steps =
            [
                new SequenceStep { Key = "guide", Subject = "Your guide", TextBody = "Hi" },
                new SequenceStep
                {
                    Key = "opened-guide",
                    If = new Funnel.Segments.EmailRule("guide", Funnel.Segments.EmailAction.Opened),
                    Then = [new SequenceStep { Key = "tag-engaged", Action = new AddTag("engaged") }],
                    Else = [new SequenceStep { Key = "reminder", Subject = "Did you miss it?", TextBody = "Hi" }],
                },
            ],
        };
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true, s => s.AddSingleton(nurture));
        LeadId[] leads = [LeadId.New(), LeadId.New(), LeadId.New()];
        EnrolmentId enrolment = EnrolmentId.New();
        Instant at = DashboardHost.Start;
        await host.Services.GetRequiredService<IFunnelEventLog>().AppendAsync(
        [
            .. leads.Select(l => (FunnelEvent)new SequenceEnrolled { LeadId = l, OccurredAt = at, Sequence = "guide-nurture", Enrolment = enrolment }),
            .. leads.Select(l => (FunnelEvent)new EmailSent { LeadId = l, OccurredAt = at, Email = "guide" }),
            new EmailOpened { LeadId = leads[0], OccurredAt = at, Email = "guide" },
            new SequenceBranched { LeadId = leads[0], OccurredAt = at, Sequence = "guide-nurture", Enrolment = enrolment, Step = "opened-guide", Path = SequenceBranched.ThenPath },
            new SequenceBranched { LeadId = leads[1], OccurredAt = at, Sequence = "guide-nurture", Enrolment = enrolment, Step = "opened-guide", Path = SequenceBranched.ElsePath },
            new SequenceBranched { LeadId = leads[2], OccurredAt = at, Sequence = "guide-nurture", Enrolment = enrolment, Step = "opened-guide", Path = SequenceBranched.ElsePath },
            new EmailSent { LeadId = leads[1], OccurredAt = at, Email = "reminder" },
        ]);
        using HttpClient client = host.Client();

        string html = await DashboardHost.GetPageAsync(client, "/funnel-admin/sequences");

        html.ShouldContain("<caption>guide-nurture: 3 enrolled</caption>");
        html.ShouldContain("<th scope=\"row\">guide</th><td>Email: Your guide</td><td class=\"num\">3</td>");
        html.ShouldContain("Branch: 1 took then (tag-engaged), 2 else (reminder)");
        html.ShouldContain("<th scope=\"row\">reminder</th><td>Email: Did you miss it?</td><td class=\"num\">1</td>");
        html.ShouldContain("AddTag { Tag = engaged }");
    }

    [Fact]
    public async Task SequencesPage_ShowsAStepsWinnerTestRunningThenDecided()
    {
        SequenceDefinition launch = new()
        {
            Key = "course-launch",
            Steps =
            [
                new SequenceStep
                {
                    Key = "launch-1",
                    Subject = "Doors are open",
                    TextBody = "Hi",
                    Variants = [new EmailVariant { Key = EmailVariant.ControlKey }, new EmailVariant { Key = "short", Subject = "Open" }],
                    WinnerTest = new StepWinnerTest { Wait = Duration.FromHours(2), MinimumSamplePerVariant = 50 },
                },
            ],
        };
        await using DashboardHost host = await DashboardHost.StartAsync("Production", o => o.AuthorizationPolicy = DashboardHost.Policy, true, s =>
        {
            s.AddSingleton(launch);
            s.AddFunnelAnalytics();
        });
        ISequenceTestStore tests = host.Services.GetRequiredService<ISequenceTestStore>();
        await tests.RecordSendAsync("course-launch/launch-1", LeadId.New(), EmailVariant.ControlKey, DashboardHost.Start - Duration.FromHours(3));
        LeadId opener = LeadId.New();
        await tests.RecordSendAsync("course-launch/launch-1", opener, "short", DashboardHost.Start - Duration.FromHours(3));
        await tests.RecordConversionAsync("course-launch/launch-1", opener);
        await tests.RecordSendAsync("course-launch/launch-1", LeadId.New(), "short", DashboardHost.Start - Duration.FromHours(1)); // not counted yet
        using HttpClient client = host.Client();

        string running = await DashboardHost.GetPageAsync(client, "/funnel-admin/sequences");
        await tests.DecideAsync(new SequenceTestDecision("course-launch/launch-1", "short", true, [new Funnel.Email.VariantResult("control", 50, 5), new Funnel.Email.VariantResult("short", 50, 20)], DashboardHost.Start));
        string decided = await DashboardHost.GetPageAsync(client, "/funnel-admin/sequences");

        running.ShouldContain("Email: Doors are open; winner test running, each variant needs 50 counted sends: control 1 counted, 0 opened, short 1 counted, 1 opened");
        decided.ShouldContain("Email: Doors are open; winner test decided 2026-12-01T09:00:00Z: short (significantly better)");
    }
}
