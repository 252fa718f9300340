using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Funnel.Events;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using NodaTime;

namespace Funnel.Email.Smtp;

/// <summary>Sends email through MailKit over a small pool of reused SMTP connections.</summary>
/// <remarks>
/// Up to <see cref="SmtpOptions.MaxConnections"/> connections are opened lazily and reused; a connection that fails
/// is dropped and the next send opens a new one, and a send on a reused connection that the server had closed is
/// retried once on a fresh connection. Replies 5xx are permanent failures; 4xx replies, lost connections,
/// timeouts and protocol errors are transient. A rejected recipient is a bounce (<see cref="BounceOf"/>): 550, 551,
/// 553 and 5.1.x are hard bounces, 4xx and 5.2.x (mailbox full) soft ones. The <c>Message-ID</c> is derived from the idempotency key, so a
/// retried send carries the same id.
/// </remarks>
internal sealed class SmtpEmailSender : IEmailSender, IDisposable
{
    private readonly SmtpOptions options;
    private readonly IClock clock;
    private readonly SemaphoreSlim slots;
    private readonly ConcurrentBag<SmtpClient> idle = [];
    private readonly MailboxAddress defaultFrom;
    private readonly string messageIdDomain;
    private int disposed;
    private int opened;

    public SmtpEmailSender(SmtpOptions options, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        this.options = options;
        this.clock = clock;
        slots = new SemaphoreSlim(options.MaxConnections, options.MaxConnections);
        defaultFrom = MailboxAddress.Parse(options.DefaultFrom);
        messageIdDomain = options.MessageIdDomain ?? DomainOf(defaultFrom.Address);
    }

    /// <summary>Gets how many connections were opened so far (for tests of the reuse).</summary>
    internal int OpenedConnections => Volatile.Read(ref opened);

    /// <summary>Gets how many connections are pooled for reuse (for tests of the disposal).</summary>
    internal int IdleConnections => idle.Count;

    public async Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        MimeMessage mime;
        try
        {
            mime = ToMime(message);
        }
        catch (ParseException e)
        {
            // A sender address that does not parse fails the same way on every retry.
            return EmailSendResult.Permanent("The message could not be built: " + e.Message);
        }

        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        SmtpClient? client = null;
        try
        {
            bool reused = idle.TryTake(out client);
            client ??= NewClient();
            if (!client.IsConnected)
            {
                reused = false;
                await ConnectAsync(client, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await client.SendAsync(mime, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (reused && IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
            {
                // The server closed the idle pooled connection (servers time them out): retry once on a fresh one.
                Drop(client);
                client = NewClient();
                await ConnectAsync(client, cancellationToken).ConfigureAwait(false);
                await client.SendAsync(mime, cancellationToken).ConfigureAwait(false);
            }

            idle.Add(client);
            client = null;
            if (Volatile.Read(ref disposed) != 0)
            {
                DropIdle(); // disposed while this send was in flight: its connection must not outlive the sender.
            }

            return EmailSendResult.Sent(mime.MessageId);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Map(e);
        }
        finally
        {
            if (client is not null)
            {
                Drop(client);
            }

            slots.Release();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        DropIdle();
    }

    /// <summary>Builds the MIME message: text and HTML alternatives, the headers, and a Message-ID from the idempotency key.</summary>
    internal MimeMessage ToMime(EmailMessage message)
    {
        MimeMessage mime = new();
        mime.From.Add(message.From is null ? defaultFrom : MailboxAddress.Parse(message.From));
        mime.To.Add(new MailboxAddress(null, message.To.Value));
        mime.Subject = message.Subject;
        mime.Date = clock.GetCurrentInstant().ToDateTimeOffset();
        mime.MessageId = MessageIdOf(message.IdempotencyKey, messageIdDomain);
        foreach (KeyValuePair<string, string> header in message.Headers)
        {
            mime.Headers.Replace(header.Key, header.Value);
        }

        BodyBuilder body = new() { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        mime.Body = body.ToMessageBody();
        return mime;
    }

    /// <summary>Returns the stable Message-ID (without angle brackets) for an idempotency key.</summary>
    internal static string MessageIdOf(string idempotencyKey, string domain)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16)) + "@" + domain;
    }

    /// <summary>Maps a MailKit or network failure to a transient or permanent result.</summary>
    internal static EmailSendResult Map(Exception e) => e switch
    {
        SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted } command when BounceOf(command) is { } kind =>
            EmailSendResult.Bounced(kind, string.Create(CultureInfo.InvariantCulture, $"SMTP {(int)command.StatusCode}: {command.Message}")),
        SmtpCommandException command when (int)command.StatusCode >= 500 =>
            EmailSendResult.Permanent(string.Create(CultureInfo.InvariantCulture, $"SMTP {(int)command.StatusCode}: {command.Message}")),
        SmtpCommandException command =>
            EmailSendResult.Transient(string.Create(CultureInfo.InvariantCulture, $"SMTP {(int)command.StatusCode}: {command.Message}")),
        SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or TimeoutException or OperationCanceledException =>
            EmailSendResult.Transient($"SMTP connection problem ({e.GetType().Name}): {e.Message}"),
        AuthenticationException =>
            EmailSendResult.Transient("SMTP authentication failed: " + e.Message),
        _ => EmailSendResult.Transient($"SMTP send failed ({e.GetType().Name}): {e.Message}"),
    };

    /// <summary>Classifies a rejected <c>RCPT TO</c>: a bounce, or <see langword="null"/> for a rejection that is not the mailbox's (a policy block).</summary>
    /// <remarks>
    /// Hard: 550, 551 and 553, and any enhanced status 5.1.x (bad address), unless the enhanced status says the
    /// mailbox is full (5.2.x) or the reply is a policy block (5.7.x). Soft: a 4xx reply, and 552 or 5.2.x (mailbox full, over quota).
    /// Other 5xx replies (554, 5.7.x policy) are permanent failures that do not count against the lead.
    /// </remarks>
    internal static BounceKind? BounceOf(SmtpCommandException command)
    {
        int code = (int)command.StatusCode;
        string enhanced = EnhancedStatusOf(command.Message);
        if (code is >= 400 and < 500 || code == 552 || enhanced.StartsWith("5.2.", StringComparison.Ordinal))
        {
            return BounceKind.Soft;
        }

        if (enhanced.StartsWith("5.1.", StringComparison.Ordinal))
        {
            return BounceKind.Hard;
        }

        return code is 550 or 551 or 553 && !enhanced.StartsWith("5.7.", StringComparison.Ordinal) ? BounceKind.Hard : null;
    }

    /// <summary>Returns the RFC 3463 enhanced status code at the start of a reply text (<c>5.1.1</c>), or empty.</summary>
    internal static string EnhancedStatusOf(string reply)
    {
        ReadOnlySpan<char> text = reply.AsSpan().TrimStart();
        int end = text.IndexOfAny(' ', '\t');
        ReadOnlySpan<char> token = end < 0 ? text : text[..end];
        int dots = token.Count('.');
        if (dots != 2 || token.Length < 5 || token[0] is not ('2' or '4' or '5') || token[1] != '.')
        {
            return string.Empty;
        }

        foreach (char c in token)
        {
            if (c != '.' && !char.IsAsciiDigit(c))
            {
                return string.Empty;
            }
        }

        return token.ToString();
    }

    private SmtpClient NewClient() => new() { Timeout = (int)options.Timeout.TotalMilliseconds };

    private void DropIdle()
    {
        while (idle.TryTake(out SmtpClient? client))
        {
            Drop(client);
        }
    }

    private static bool IsConnectionLoss(Exception e) => e is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException;

    private async Task ConnectAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        SecureSocketOptions security = options.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        Interlocked.Increment(ref opened);
        await client.ConnectAsync(options.Host, options.Port, security, cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(options.UserName))
        {
            await client.AuthenticateAsync(options.UserName, options.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Drop(SmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                client.Disconnect(quit: false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException or OperationCanceledException)
        {
            // The connection is being dropped because it failed; nothing more to do.
        }
        finally
        {
            client.Dispose();
        }
    }

    private static string DomainOf(string address)
    {
        int at = address.LastIndexOf('@');
        return at >= 0 && at < address.Length - 1 ? address[(at + 1)..] : "localhost";
    }
}
