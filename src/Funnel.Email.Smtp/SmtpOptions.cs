using FluentValidation;
using FluentValidation.Results;
using Microsoft.Extensions.Options;
using MimeKit;
using NodaTime;

namespace Funnel.Email.Smtp;

/// <summary>How the connection to the SMTP server is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Use TLS when the server offers STARTTLS, plain text otherwise.</summary>
    Auto,

    /// <summary>No TLS (only for a server on the same machine, such as a test server).</summary>
    None,

    /// <summary>Require STARTTLS.</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,
}

/// <summary>The SMTP server, credentials, default sender and connection pool of the SMTP email sender.</summary>
/// <threadsafety>Configure once at start-up; do not change afterwards.</threadsafety>
public sealed class SmtpOptions
{
    /// <summary>Gets or sets the server host name.</summary>
    /// <value>Required.</value>
    public string Host { get; set; } = string.Empty;

    /// <summary>Gets or sets the server port.</summary>
    /// <value>Defaults to 587.</value>
    public int Port { get; set; } = 587;

    /// <summary>Gets or sets how the connection is secured.</summary>
    /// <value>Defaults to <see cref="SmtpSecurity.Auto"/>.</value>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Gets or sets the user name; <see langword="null"/> sends without authentication.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? UserName { get; set; }

    /// <summary>Gets or sets the password, required with <see cref="UserName"/>.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Password { get; set; }

    /// <summary>Gets or sets the sender of messages that name none, such as <c>Jane &lt;jane@example.com&gt;</c>.</summary>
    /// <value>Required.</value>
    public string DefaultFrom { get; set; } = string.Empty;

    /// <summary>Gets or sets the domain of the generated <c>Message-ID</c>s.</summary>
    /// <value>Defaults to <see langword="null"/>: the domain of <see cref="DefaultFrom"/>.</value>
    public string? MessageIdDomain { get; set; }

    /// <summary>Gets or sets how many connections are kept open and used at once.</summary>
    /// <value>Defaults to 2.</value>
    public int MaxConnections { get; set; } = 2;

    /// <summary>Gets or sets the timeout of each SMTP operation.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public Duration Timeout { get; set; } = Duration.FromSeconds(30);
}

/// <summary>Validates <see cref="SmtpOptions"/>.</summary>
internal sealed class SmtpOptionsValidator : AbstractValidator<SmtpOptions>
{
    public SmtpOptionsValidator()
    {
        RuleFor(o => o.Host).NotEmpty();
        RuleFor(o => o.Port).InclusiveBetween(1, 65535);
        RuleFor(o => o.Security).IsInEnum();
        RuleFor(o => o.DefaultFrom).NotEmpty().Must(f => MailboxAddress.TryParse(f, out _))
            .WithMessage("'DefaultFrom' must be a mailbox such as 'Jane <jane@example.com>'.");
        RuleFor(o => o.Password).NotEmpty().When(o => !string.IsNullOrEmpty(o.UserName))
            .WithMessage("'Password' is required when 'UserName' is set.");
        RuleFor(o => o.MaxConnections).InclusiveBetween(1, 32);
        RuleFor(o => o.Timeout).Must(t => t > Duration.Zero && t <= Duration.FromMinutes(10))
            .WithMessage("'Timeout' must be positive and at most 10 minutes.");
    }
}
