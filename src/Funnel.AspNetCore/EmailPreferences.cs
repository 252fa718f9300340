using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;

namespace Funnel.AspNetCore;

/// <summary>The registered email topics and which topic an email belongs to, for the preference centre.</summary>
/// <remarks>
/// An email key is a sequence step's key (the topic is its sequence's) or a broadcast's key (the topic is the
/// broadcast's, read from the broadcast store).
/// </remarks>
internal sealed class EmailPreferences
{
    private readonly FrozenDictionary<string, string> _topicOfStep;
    private readonly IBroadcastStore? _broadcasts;

    public EmailPreferences(IEnumerable<EmailTopic> topics, IEnumerable<SequenceDefinition> sequences, IBroadcastStore? broadcasts)
    {
        Topics = [.. topics];
        Dictionary<string, string> topicOfStep = new(StringComparer.Ordinal);
        foreach (SequenceDefinition sequence in sequences)
        {
            if (sequence.Topic is { } topic)
            {
                foreach (SequenceStep step in sequence.AllSteps())
                {
                    topicOfStep.TryAdd(step.Key, topic);
                }
            }
        }

        _topicOfStep = topicOfStep.ToFrozenDictionary(StringComparer.Ordinal);
        _broadcasts = broadcasts;
    }

    /// <summary>Gets the registered topics, in registration order.</summary>
    public ImmutableArray<EmailTopic> Topics { get; }

    /// <summary>Returns the topic of an email, or <see langword="null"/> when it has none (or is unknown).</summary>
    public async Task<EmailTopic?> TopicOfAsync(string email, CancellationToken cancellationToken)
    {
        string? key = _topicOfStep.GetValueOrDefault(email);
        if (key is null && _broadcasts is not null)
        {
            key = (await _broadcasts.FindAsync(email, cancellationToken).ConfigureAwait(false))?.Definition.Topic;
        }

        return key is null ? null : Topics.FirstOrDefault(t => t.Key == key);
    }

    /// <summary>Returns the preference centre: a checkbox per topic (ticked when the lead still gets it) and the button that leaves all marketing email.</summary>
    public string Page(string action, LeadProfile lead, EmailTopic? topicOfEmail)
    {
        StringBuilder html = new();
        html.Append("""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Email preferences</title></head>""")
            .Append("""<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><h1>Email preferences</h1>""");
        if (lead.UnsubscribedAt is not null)
        {
            return html.Append("""<p id="unsubscribed-all">You are unsubscribed from all our marketing email.</p></body></html>""").ToString();
        }

        if (topicOfEmail is not null)
        {
            html.Append("<p>You got this email as part of <strong id=\"email-topic\">").Append(Encode(topicOfEmail.Title)).Append("</strong>.</p>");
        }

        html.Append("<form method=\"post\" action=\"").Append(action).Append("\"><input type=\"hidden\" name=\"preferences\" value=\"1\">")
            .Append("<fieldset><legend>Keep sending me:</legend>");
        foreach (EmailTopic topic in Topics)
        {
            string id = "topic-" + topic.Key;
            html.Append("<p><label><input type=\"checkbox\" name=\"topic\" id=\"").Append(Encode(id)).Append("\" value=\"").Append(Encode(topic.Key)).Append('"')
                .Append(lead.UnsubscribedTopics.Contains(topic.Key) ? string.Empty : " checked").Append("> ").Append(Encode(topic.Title)).Append("</label>");
            if (topic.Description is { } description)
            {
                html.Append("<br><small>").Append(Encode(description)).Append("</small>");
            }

            html.Append("</p>");
        }

        return html.Append("</fieldset><button type=\"submit\" id=\"save\">Save my preferences</button></form>")
            .Append("<form method=\"post\" action=\"").Append(action).Append("\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">")
            .Append("<p><button type=\"submit\" id=\"unsubscribe\">Unsubscribe from all marketing email</button></p></form></body></html>")
            .ToString();
    }

    /// <summary>Returns the page that confirms saved preferences.</summary>
    public string SavedPage(LeadProfile lead)
    {
        StringBuilder html = new();
        html.Append("""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Preferences saved</title></head>""")
            .Append("""<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><h1 id="saved">Your preferences are saved</h1><ul>""");
        foreach (EmailTopic topic in Topics)
        {
            bool kept = !lead.UnsubscribedTopics.Contains(topic.Key);
            html.Append("<li>").Append(Encode(topic.Title)).Append(kept ? ": you will get it" : ": you will not get it").Append("</li>");
        }

        return html.Append("</ul></body></html>").ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
