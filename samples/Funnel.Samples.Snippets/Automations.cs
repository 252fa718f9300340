using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Segments;
using Funnel.Sequences;
using Funnel.Webhooks;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/automations.md.</summary>
internal static class AutomationSnippets
{
    public static SequenceDefinition Nurture()
    {
        // <snippet:automations-branch>
        SequenceDefinition nurture = new()
        {
            Key = "guide-nurture",
            Triggers = [EventMatch.For(EventTypes.OptedIn, "quick-start-guide")],
            ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, "masterclass-basic")],
            Steps =
            [
                new SequenceStep { Key = "guide", Subject = "Your guide", TextBody = "Here it is: https://example.com/guide.pdf" },
                new SequenceStep
                {
                    Key = "opened-guide",                                   // a branch: it sends nothing
                    Delay = Period.FromDays(2),                             // evaluated two days later
                    If = new EmailRule("guide", EmailAction.Opened),
                    Then =
                    [
                        new SequenceStep { Key = "tag-engaged", Action = new AddTag("engaged") },
                        new SequenceStep { Key = "case-study", Subject = "How Ana sold 50 copies", TextBody = "..." },
                    ],
                    Else = [new SequenceStep { Key = "resend-guide", Subject = "Did you miss this?", TextBody = "..." }],
                },
                new SequenceStep { Key = "offer", Delay = Period.FromDays(1), Subject = "Doors are open", TextBody = "..." },
            ],
        };
        // </snippet:automations-branch>
        return nurture;
    }

    public static ImmutableArray<SequenceStep> Actions()
    {
        // <snippet:automations-actions>
        ImmutableArray<SequenceStep> steps =
        [
            new SequenceStep { Key = "tag-hot", Action = new AddTag("hot") },
            new SequenceStep { Key = "untag-cold", Action = new RemoveTag("cold") },
            new SequenceStep { Key = "bonus", Action = new AddScore(25) },
            new SequenceStep { Key = "qualify", Action = new SetStage(LifecycleStage.SalesQualified) },
            new SequenceStep { Key = "tell-jane", Action = new NotifySeller("Hot lead: {{ email }}", "{{ email }} just qualified.") },
            new SequenceStep { Key = "to-crm", Action = new CallWebhook(new Uri("https://crm.example.com/hooks/funnel")) },
            new SequenceStep { Key = "invite", Action = new EnrolInSequence("webinar-invite") },
            new SequenceStep { Key = "wait-a-day", Delay = Period.FromDays(1), Action = new ExitSequence("guide-nurture") },
        ];
        // </snippet:automations-actions>
        return steps;
    }

    public static SequenceStep SegmentBranch()
    {
        // <snippet:automations-conditions>
        SequenceStep branch = new()
        {
            Key = "bought-or-hot",
            IfInSegment = "hot-leads",                                      // a tracked segment, read when due
            If = new AnyRule(
            [
                new EventRule { EventType = EventTypes.OrderPlaced },       // a purchase
                new AllRule([new TagRule("vip"), new FieldRule("country", FieldOperator.Equal, "DE")]),
            ]),
            Then = [new SequenceStep { Key = "thanks", Subject = "Thank you", TextBody = "..." }],
            Else = [],                                                      // nothing: go on after the branch
        };
        // </snippet:automations-conditions>
        return branch;
    }

    public static void Register(WebApplicationBuilder builder)
    {
        // <snippet:automations-register>
        builder.Services.AddSingleton(Nurture());
        builder.Services.Configure<SequenceOptions>(o =>
        {
            o.SellerEmail = "jane@example.com";                              // for NotifySeller
            o.WebhookSigningSecret = builder.Configuration["Funnel:WebhookSecret"];   // for CallWebhook, 32+ characters
        });
        builder.Services.AddFunnelHttpWebhooks(o => o.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddFunnelSequenceDispatcher();
        builder.Services.AddFunnelHosting();
        // </snippet:automations-register>
    }

    public static async Task<IResult> ReceiveAsync(HttpRequest request, IClock clock, string secret)
    {
        // <snippet:automations-verify>
        using MemoryStream body = new();
        await request.Body.CopyToAsync(body);
        bool genuine = WebhookSignature.Verify(
            secret, request.Headers["Funnel-Signature"], body.ToArray(), clock.GetCurrentInstant(), Duration.FromMinutes(5));
        if (!genuine)
        {
            return Results.Unauthorized();
        }
        // </snippet:automations-verify>

        return Results.Ok();
    }
}
