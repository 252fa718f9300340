using FluentValidation;

namespace Funnel.Leads;

/// <summary>The kind of free resource a lead magnet offers in exchange for an email address.</summary>
public enum LeadMagnetKind
{
    /// <summary>A guide or e-book, such as a quick-start PDF.</summary>
    Guide = 0,

    /// <summary>A ready-to-use template.</summary>
    Template = 1,

    /// <summary>A checklist or cheat sheet.</summary>
    Checklist = 2,

    /// <summary>A short course delivered over a few days by email.</summary>
    MiniCourse = 3,

    /// <summary>A free (live or recorded) webinar.</summary>
    Webinar = 4,
}

/// <summary>A free resource offered in exchange for an email address, such as the E-Book Masterclass quick-start guide.</summary>
/// <remarks>
/// The <see cref="Key"/> is what <see cref="Events.OptedIn.Magnet"/> carries, so funnel steps and segments refer to
/// the magnet by it. With <see cref="DoubleOptIn"/>, consent stays pending until the lead confirms through the
/// link in a confirmation email (see <see cref="LeadCapture.ConfirmAsync(string, string, string, CancellationToken)"/>).
/// </remarks>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed record LeadMagnet
{
    /// <summary>Gets the stable key, such as <c>quick-start-guide</c> (see <see cref="Funnel.Key"/>).</summary>
    public required string Key { get; init; }

    /// <summary>Gets the title shown to visitors.</summary>
    public required string Title { get; init; }

    /// <summary>Gets the kind of resource.</summary>
    public required LeadMagnetKind Kind { get; init; }

    /// <summary>Gets whether an opt-in must be confirmed through a link before marketing consent is granted.</summary>
    /// <value>Defaults to <see langword="false"/> (single opt-in).</value>
    public bool DoubleOptIn { get; init; }

    /// <summary>Gets the purpose the lead consents to, such as <c>marketing-email</c>.</summary>
    /// <value>Defaults to <c>marketing-email</c>.</value>
    public string ConsentPurpose { get; init; } = "marketing-email";

    /// <summary>Gets the consent wording shown next to the form, kept as proof of what the lead agreed to.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? ConsentText { get; init; }
}

/// <summary>Validates a <see cref="LeadMagnet"/>.</summary>
/// <threadsafety>Instances are immutable and safe to share between threads.</threadsafety>
public sealed class LeadMagnetValidator : AbstractValidator<LeadMagnet>
{
    /// <summary>Initializes the validator.</summary>
    public LeadMagnetValidator()
    {
        RuleFor(m => m.Key).Must(Funnel.Key.IsValid)
            .WithMessage(m => $"'{m.Key}' is not a valid key: use 1-100 lowercase letters, digits, '-', '_' or '.'.");
        RuleFor(m => m.Title).NotEmpty().WithMessage("The title is required.")
            .MaximumLength(FieldLimits.Title).WithMessage($"The title must be at most {FieldLimits.Title} characters.");
        RuleFor(m => m.ConsentText).MaximumLength(FieldLimits.LongText)
            .WithMessage($"The consent text must be at most {FieldLimits.LongText} characters.");
        RuleFor(m => m.Kind).IsInEnum().WithMessage(m => $"{(int)m.Kind} is not a lead magnet kind.");
        RuleFor(m => m.ConsentPurpose).Must(Funnel.Key.IsValid)
            .WithMessage(m => $"'{m.ConsentPurpose}' is not a valid consent purpose: use a key such as marketing-email.");
    }
}
