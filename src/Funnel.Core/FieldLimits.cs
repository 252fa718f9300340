namespace Funnel;

/// <summary>The longest values, in UTF-16 characters, and the most entries the domain stores in its text fields.</summary>
/// <remarks>
/// <para>
/// Lead capture (<see cref="Leads.LeadCapture.OptInAsync"/>) rejects a request over any of these limits with a
/// <see cref="FluentValidation.ValidationException"/> naming the field, before anything is stored, so a 100 KB
/// <c>utm_campaign</c> never reaches the lead or its events. <see cref="Events.AttributionValidator"/> applies the
/// attribution limits to any other capture path, and the ASP.NET Core endpoints use the same constants to bound
/// what they read.
/// </para>
/// <para>
/// The limits are generous for real traffic (Google Analytics truncates campaign values at 100 characters; browsers
/// and CDNs keep URLs under 2,048) and small enough that one lead or event stays a few kilobytes.
/// </para>
/// </remarks>
/// <threadsafety>This type holds constants only.</threadsafety>
public static class FieldLimits
{
    /// <summary>The longest attribution value: channel, <c>utm_source</c>, <c>utm_medium</c>, <c>utm_campaign</c>, <c>utm_content</c> and <c>utm_term</c>.</summary>
    public const int AttributionValue = 256;

    /// <summary>The longest URL stored: the referrer, a page, a clicked link, a confirmation link template.</summary>
    public const int Url = 2048;

    /// <summary>The longest title or display name stored, such as a page title or a lead magnet's title.</summary>
    public const int Title = 300;

    /// <summary>The longest free text kept as proof, such as a lead magnet's consent wording.</summary>
    public const int LongText = 4000;

    /// <summary>The longest tag, such as <c>from-webinar</c>.</summary>
    public const int Tag = 100;

    /// <summary>The most tags one request may add.</summary>
    public const int TagsPerRequest = 50;

    /// <summary>The longest custom field name, such as <c>first_name</c>.</summary>
    public const int CustomFieldName = 100;

    /// <summary>The longest custom field value.</summary>
    public const int CustomFieldValue = 1000;

    /// <summary>The most custom fields one request may set.</summary>
    public const int CustomFieldsPerRequest = 50;

    /// <summary>The longest IANA time zone id accepted, such as <c>America/Argentina/ComodRivadavia</c>.</summary>
    public const int TimeZoneId = 64;

    /// <summary>The longest IP address kept with a consent (the longest textual IPv6 address).</summary>
    public const int IpAddress = 45;

    /// <summary>The longest user agent kept with a consent; a longer one is cut.</summary>
    public const int UserAgent = 512;
}
