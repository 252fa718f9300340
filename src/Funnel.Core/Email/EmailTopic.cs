using FluentValidation;

namespace Funnel.Email;

/// <summary>A kind of marketing email a lead can leave on its own, such as the weekly newsletter or webinar invitations.</summary>
/// <remarks>
/// <para>
/// Register each topic as a service (<c>services.AddSingleton(new EmailTopic { … })</c>) and name it in a sequence's or a
/// broadcast's <c>Topic</c>. A lead who leaves a topic (through the preference centre the unsubscribe link opens) gets
/// no more email of that topic and still gets the others; leaving "all marketing email" (the RFC 8058 one-click
/// unsubscribe, or the page's button) stops every marketing email as before.
/// </para>
/// <para>A lead's left topics are <see cref="Leads.LeadProfile.UnsubscribedTopics"/>.</para>
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record EmailTopic
{
    /// <summary>Gets the stable key, such as <c>newsletter</c> (see <see cref="Funnel.Key"/>).</summary>
    public required string Key { get; init; }

    /// <summary>Gets the name shown to the lead in the preference centre, such as <c>The weekly newsletter</c>.</summary>
    public required string Title { get; init; }

    /// <summary>Gets one sentence shown under the title, such as <c>One writing tip every Tuesday.</c></summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Description { get; init; }
}

/// <summary>Validates an <see cref="EmailTopic"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class EmailTopicValidator : AbstractValidator<EmailTopic>
{
    /// <summary>Initializes the validator.</summary>
    public EmailTopicValidator()
    {
        RuleFor(t => t.Key).Must(Funnel.Key.IsValid)
            .WithMessage(t => $"'Key' is '{t.Key}': use 1-100 lowercase letters, digits, '-', '_' or '.'.");
        RuleFor(t => t.Title).NotEmpty().WithMessage("'Title' is required: the preference centre shows it.")
            .MaximumLength(FieldLimits.Title).WithMessage($"'Title' must be at most {FieldLimits.Title} characters.");
        RuleFor(t => t.Description).MaximumLength(FieldLimits.LongText)
            .WithMessage($"'Description' must be at most {FieldLimits.LongText} characters.");
    }
}
