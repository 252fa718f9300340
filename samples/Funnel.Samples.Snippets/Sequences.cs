using System.Collections.Immutable;
using Funnel.Analytics.Experiments;
using Funnel.Definitions;
using Funnel.Email;
using Funnel.Events;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/sequences.md.</summary>
internal static class SequenceSnippets
{
    public static SequenceDefinition Define()
    {
        // <snippet:sequences-define>
SequenceDefinition nurture = new()
{
    Key = "guide-nurture",
    Triggers = [EventMatch.For(EventTypes.OptedIn, "quick-start-guide")],           // who enrols
    ExitGoals = [EventMatch.For(EventTypes.OrderPlaced, "masterclass-basic"),        // what ends it
                 EventMatch.For(EventTypes.PaymentSucceeded)],
    Fields = ImmutableDictionary<string, string>.Empty.Add("first_name", "there"),  // custom fields + fallback
    QuietHours = null,                                                              // e.g. new(new(21, 0), new(8, 0))
    ReEntry = ReEntryPolicy.Never,
    Steps =
    [
        new SequenceStep { Key = "nurture-1", Timing = StepTiming.AfterEnrolment,   // the guide, at once
            Subject = "Your Quick Start Guide to E-Book Creation",
            TextBody = "Hi {{ first_name }}, here is your guide ...\n\nUnsubscribe: {{ unsubscribe_url }}",
            HtmlBody = "<p>Hi {{ first_name }}, here is your guide ...</p>" },
        new SequenceStep { Key = "nurture-2", Timing = StepTiming.OnDay, Day = 1,     // day 1 at 09:00 local
            SendAt = new LocalTime(9, 0),
            Subject = "One number every e-book author should know", TextBody = "..." },
        // nurture-3 ... nurture-7: days 2 to 6 at 09:00 local
    ],
};
        // </snippet:sequences-define>
        return nurture;
    }

    public static SequenceStep Step()
    {
        return
        // <snippet:sequences-step>
new SequenceStep { Key = "nurture-2", Timing = StepTiming.OnDay, Day = 1, SendAt = new LocalTime(9, 0),
    Subject = "One number every e-book author should know", TextBody = "..." }
        ;
        // </snippet:sequences-step>
    }

    public static void Register(IServiceCollection services, string secret)
    {
        // <snippet:sequences-register>
services.AddFunnel(o => o.TimeZoneId = "America/New_York");
services.AddFunnelSequences();                     // package Funnel.Sequences: the engine and the "sequences" handler
services.AddFunnelSequenceDispatcher();            // the dispatcher job: every 15 s, batches back to back while any is due
services.AddFunnelHosting();                       // runs the pipeline and the jobs (AddFunnelAspNetCore calls it)
services.AddSingleton(GuideSequences.Nurture);
services.AddSingleton(GuideSequences.Welcome);
services.Configure<SequenceOptions>(o =>
{
    o.From = "Jane <jane@example.com>";
    o.Tracking = new TrackingOptions { BaseUrl = "https://example.com/email", SigningKey = secret }; // >= 32 bytes
});
services.AddFunnelSmtp(o => { o.Host = "smtp.example.com"; o.UserName = "..."; o.Password = "..."; o.DefaultFrom = "jane@example.com"; });
        // </snippet:sequences-register>
    }

    public static void Translate(IServiceCollection services)
    {
        // <snippet:sequences-translate>
services.AddSingleton(FunnelSequences.OptInConfirmation with
{
    Steps = [FunnelSequences.OptInConfirmation.Steps[0] with { Subject = "Bitte bestätigen: {{ magnet_title }}" }],
});
        // </snippet:sequences-translate>
    }
}
