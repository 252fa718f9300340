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
/// <para>
/// The magnet carries its asset: an external <see cref="AssetUrl"/>, a file the app serves (<see cref="AssetFile"/>),
/// or neither (a webinar, say). With an asset, Funnel.AspNetCore's opt-in endpoint records a
/// <see cref="LeadMagnetDeliveryRequested"/> once the opt-in is complete (at once for a single opt-in, on confirmation
/// for a double opt-in), and Funnel.Sequences' built-in <c>lead-magnet-delivery</c> sequence mails the link.
/// </para>
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

    /// <summary>Gets the external address of the resource, such as a hosted PDF or a video page.</summary>
    /// <remarks>An absolute <c>http</c> or <c>https</c> URL of at most <see cref="FieldLimits.Url"/> characters; set it or <see cref="AssetFile"/>, not both.</remarks>
    /// <value>Defaults to <see langword="null"/>: the magnet has no external asset.</value>
    public Uri? AssetUrl { get; init; }

    /// <summary>Gets the path of the file the app serves for the magnet, such as <c>guides/quick-start.pdf</c>, relative to the host's magnet file provider.</summary>
    /// <remarks>
    /// A relative path with <c>/</c> separators, without <c>..</c> segments, a leading <c>/</c>, <c>\</c>, <c>:</c> or
    /// control characters, of at most <see cref="FieldLimits.Url"/> characters. Funnel.AspNetCore serves it through the
    /// <c>IFileProvider</c> the host configures, behind a signed, expiring link: the path never comes from a request.
    /// Set it or <see cref="AssetUrl"/>, not both.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>: the magnet has no file.</value>
    public string? AssetFile { get; init; }

    /// <summary>Gets the media type the <see cref="AssetFile"/> is served with, such as <c>application/pdf</c>.</summary>
    /// <remarks>Only used with <see cref="AssetFile"/>; a <c>type/subtype</c> of at most 255 characters.</remarks>
    /// <value>Defaults to <see langword="null"/>: inferred from the file's extension, else <c>application/octet-stream</c>.</value>
    public string? AssetContentType { get; init; }

    /// <summary>Gets whether the magnet has an asset to deliver: an <see cref="AssetUrl"/> or an <see cref="AssetFile"/>.</summary>
    public bool HasAsset => AssetUrl is not null || AssetFile is not null;
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
        RuleFor(m => m.AssetUrl)
            .Must(u => u!.IsAbsoluteUri && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp))
            .WithMessage(m => $"The asset URL '{m.AssetUrl}' must be an absolute http or https URL.")
            .Must(u => u!.OriginalString.Length <= FieldLimits.Url)
            .WithMessage($"The asset URL must be at most {FieldLimits.Url} characters.")
            .When(m => m.AssetUrl is not null);
        RuleFor(m => m.AssetFile)
            .Must(IsRelativeFilePath!)
            .WithMessage(m => $"The asset file '{m.AssetFile}' must be a relative path such as 'guides/quick-start.pdf': "
                + $"1-{FieldLimits.Url} characters, '/' separators, no '..' segment, leading '/', '\\', ':' or control characters.")
            .When(m => m.AssetFile is not null);
        RuleFor(m => m.AssetFile).Null()
            .WithMessage("Set the asset URL or the asset file, not both.")
            .When(m => m.AssetUrl is not null);
        RuleFor(m => m.AssetContentType)
            .Must(IsMediaType!)
            .WithMessage(m => $"The asset content type '{m.AssetContentType}' must be a media type such as 'application/pdf'.")
            .When(m => m.AssetContentType is not null);
        RuleFor(m => m.AssetContentType).Null()
            .WithMessage("The asset content type applies only to an asset file; set the asset file or remove it.")
            .When(m => m.AssetFile is null && m.AssetContentType is not null);
    }

    private static bool IsRelativeFilePath(string path) =>
        path.Length is > 0 and <= FieldLimits.Url
        && path[0] != '/'
        && !path.Any(c => char.IsControl(c) || c is '\\' or ':')
        && path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..")
        && !path.EndsWith('/');

    private static bool IsMediaType(string value)
    {
        int slash = value.IndexOf('/', StringComparison.Ordinal);
        return value.Length <= 255 && slash > 0 && slash < value.Length - 1
            && value.IndexOf('/', slash + 1) < 0
            && value.All(c => c > ' ' && c < 127 && c is not ('"' or ',' or '\\'));
    }
}
