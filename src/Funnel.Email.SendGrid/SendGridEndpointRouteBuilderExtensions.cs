using Funnel.Email;
using Funnel.Email.SendGrid;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps SendGrid's signed Event Webhook.</summary>
/// <threadsafety>Call these methods while configuring the app, from one thread.</threadsafety>
public static class SendGridEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>POST <paramref name="pattern"/></c> for SendGrid's signed Event Webhook, recording bounces, blocks, drops, spam reports, unsubscribes and deferrals through <see cref="IEmailFeedbackRecorder"/>.</summary>
    /// <remarks>
    /// <para>
    /// Each request must carry SendGrid's ECDSA signature of its timestamp and raw body, checked against
    /// <see cref="SendGridOptions.WebhookPublicKey"/>: a missing or wrong signature, or a timestamp further than
    /// <see cref="SendGridOptions.WebhookTolerance"/> from now, is answered 401, a body over
    /// <see cref="SendGridOptions.MaxWebhookBodyBytes"/> 413 and one that is not a JSON array of events 400, each as
    /// ProblemDetails with the reason. A valid request is answered 200 with how many events were recorded, replays,
    /// for unknown leads and skipped.
    /// </para>
    /// <para>
    /// <c>bounce</c> is a hard bounce (its type <c>blocked</c>, like the <c>blocked</c> event, a soft one),
    /// <c>dropped</c> for a bounced or invalid address a hard bounce (for a spam-reporting one a complaint, for an
    /// unsubscribed one an unsubscribe), <c>spamreport</c> a complaint, <c>unsubscribe</c> and <c>group_unsubscribe</c>
    /// an unsubscribe (a <c>group_unsubscribe</c> from a group mapped in <see cref="SendGridOptions.UnsubscribeGroups"/>
    /// leaves that topic only), <c>deferred</c> a soft bounce (once per message), and <c>delivered</c>, <c>open</c> and
    /// <c>click</c> are recorded too. Replays (the same <c>sg_event_id</c>) record nothing twice.
    /// </para>
    /// <para>Needs <c>AddFunnelSendGrid</c> with a webhook public key and an <see cref="IEmailFeedbackRecorder"/> (<c>AddFunnelSequences()</c>).</para>
    /// </remarks>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route, such as <c>/email/sendgrid/events</c>.</param>
    /// <returns>The endpoint, to add metadata or rate limiting.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><c>AddFunnelSendGrid</c> was not called, or set no <see cref="SendGridOptions.WebhookPublicKey"/>.</exception>
    public static RouteHandlerBuilder MapFunnelSendGridWebhook(this IEndpointRouteBuilder endpoints, string pattern = "/email/sendgrid/events")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        SendGridWebhookHandler handler = endpoints.ServiceProvider.GetService<SendGridWebhookHandler>()
            ?? throw new InvalidOperationException("Call services.AddFunnelSendGrid(...) before MapFunnelSendGridWebhook.");
        if (!handler.HasKey)
        {
            throw new InvalidOperationException("MapFunnelSendGridWebhook needs SendGridOptions.WebhookPublicKey: the verification key of SendGrid's Signed Event Webhook.");
        }

        return endpoints.MapPost(
            pattern,
            (HttpContext context, IEmailFeedbackRecorder recorder, CancellationToken cancellationToken) => handler.HandleAsync(context, recorder, cancellationToken))
            .DisableAntiforgery()
            .WithName("FunnelSendGridWebhook");
    }
}
