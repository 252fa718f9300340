using Funnel.Email;
using Funnel.Email.SendGrid;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/email-feedback.md.</summary>
internal static class EmailFeedbackSnippets
{
    public static void SoftBounceThreshold(WebApplicationBuilder builder)
    {
        // <snippet:email-feedback-threshold>
        builder.Services.AddFunnelSequences();
        builder.Services.Configure<SequenceOptions>(o => o.SoftBounceThreshold = 3); // 1 to 100; 3 by default
        // </snippet:email-feedback-threshold>
    }

    public static void SendGrid(WebApplicationBuilder builder)
    {
        // <snippet:email-feedback-sendgrid>
        builder.Services.AddFunnelSequences();
        builder.Services.AddFunnelSendGrid(o =>
        {
            o.ApiKey = builder.Configuration["SendGrid:ApiKey"]!;                   // Mail Send permission
            o.DefaultFrom = "Jane Author <jane@example.com>";                       // a verified sender
            o.WebhookPublicKey = builder.Configuration["SendGrid:WebhookPublicKey"]; // Signed Event Webhook key
        });

        WebApplication app = builder.Build();
        app.MapFunnelSendGridWebhook("/email/sendgrid/events");
        // </snippet:email-feedback-sendgrid>
    }

    public static void SendGridGroups(WebApplicationBuilder builder)
    {
        // <snippet:email-feedback-sendgrid-groups>
        builder.Services.AddSingleton(new EmailTopic { Key = "newsletter", Title = "The weekly newsletter" });
        builder.Services.AddFunnelSendGrid(o =>
        {
            o.ApiKey = builder.Configuration["SendGrid:ApiKey"]!;
            o.DefaultFrom = "Jane Author <jane@example.com>";
            o.UnsubscribeGroups["newsletter"] = 4242;   // SendGrid's unsubscribe group id for the topic
        });
        // </snippet:email-feedback-sendgrid-groups>
    }

    public static async Task RecordAsync(IEmailFeedbackRecorder recorder, string bounceId, string address, Instant at, CancellationToken cancellationToken)
    {
        // <snippet:email-feedback-record>
        EmailFeedbackResult result = await recorder.RecordAsync(
            new EmailFeedback
            {
                Provider = "my-provider",        // with ProviderEventId, what makes a replay a duplicate
                ProviderEventId = bounceId,
                Kind = EmailFeedbackKind.HardBounce,
                OccurredAt = at,
                Recipient = EmailAddress.Parse(address), // or LeadId, when the provider echoes it back
                Email = "nurture-3",                     // the email's key, when known
            },
            cancellationToken);
        // result.Status: Recorded, Duplicate (a replay: nothing recorded twice) or UnknownLead
        // </snippet:email-feedback-record>
    }
}
