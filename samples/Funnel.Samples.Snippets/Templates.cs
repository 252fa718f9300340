using System.Collections.Immutable;
using Funnel.Definitions;
using Funnel.Events;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/templates.md.</summary>
internal static class TemplatesSnippets
{
    public static void AddLiquid(IServiceCollection services)
    {
        // <snippet:templates-add-liquid>
        services.AddFunnel();
        services.AddFunnelSequences();
        services.AddFunnelLiquidTemplates(options =>
        {
            options.MaxSteps = 10_000;          // statements per render, loop iterations included
            options.MaxOutputLength = 1_000_000; // characters per render
        });
        // </snippet:templates-add-liquid>
    }

    public static SequenceDefinition Welcome() =>
        // <snippet:templates-definition>
        new SequenceDefinition
        {
            Key = "guide-welcome",
            Triggers = [EventMatch.For(EventTypes.OptedIn, "quick-start-guide")],
            Fields = ImmutableDictionary<string, string>.Empty
                .Add("first_name", "")
                .Add("country", ""),
            Steps =
            [
                new SequenceStep
                {
                    Key = "welcome-1",
                    Timing = StepTiming.AfterEnrolment,
                    Subject = "{% if tags contains 'vip' %}[VIP] {% endif %}"
                        + "Your guide, {{ first_name | default: 'friend' | capitalize }}",
                    TextBody = "Hi {{ first_name | default: 'there' }},\n"
                        + "{% if country == 'DE' %}Die deutsche Ausgabe folgt.{% endif %}\n"
                        + "Unsubscribe: {{ unsubscribe_url }}",
                    HtmlBody = "<p>Hi {{ first_name | default: 'there' }}</p>"
                        + "{% if tags.size > 0 %}<ul>{% for tag in tags %}<li>{{ tag }}</li>{% endfor %}</ul>{% endif %}"
                        + "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
                },
            ],
        };
        // </snippet:templates-definition>
}
