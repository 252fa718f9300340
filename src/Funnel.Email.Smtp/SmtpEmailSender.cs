using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
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
/// timeouts and protocol errors are transient. The <c>Message-ID</c> is derived from the idempotency key, so a
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
