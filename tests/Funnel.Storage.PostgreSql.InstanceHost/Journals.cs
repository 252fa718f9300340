using System.Globalization;
using System.Text;
using Funnel.Email;
using Funnel.Events;
using Funnel.Offers;
using Funnel.Pipeline;
using NodaTime;

namespace Funnel.Storage.PostgreSql.InstanceHost;

/// <summary>An append-only text file: each line is written and flushed to the OS before <see cref="Append"/> returns.</summary>
/// <remarks>A SIGKILL cannot lose a flushed line (the kernel holds it); a line torn by the kill has no newline.</remarks>
internal sealed class Journal(string path) : IDisposable
{
    private readonly FileStream _file = new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 4096);
    private readonly Lock _gate = new();

    public void Append(string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_gate)
        {
            _file.Write(bytes);
            _file.Flush();
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>The three journals of this process: <c>sends-</c>, <c>handled-</c> and <c>grants-&lt;instance&gt;.log</c>.</summary>
internal sealed class HostJournals : IDisposable
{
    public HostJournals(string folder, string instance)
    {
        Instance = instance;
        Sends = new Journal(Path.Combine(folder, $"sends-{instance}.log"));
        Handled = new Journal(Path.Combine(folder, $"handled-{instance}.log"));
        Grants = new Journal(Path.Combine(folder, $"grants-{instance}.log"));
    }

    /// <summary>Gets the instance name: the name given on the command line and the process id.</summary>
    public string Instance { get; }

    /// <summary>Gets the journal of accepted sends: <c>&lt;idempotency key&gt; &lt;unix ms&gt;</c> per line.</summary>
    public Journal Sends { get; }

    /// <summary>Gets the journal of the events the <c>journal</c> handler saw: one event id per line.</summary>
    public Journal Handled { get; }

    /// <summary>Gets the journal of entitlement grants: <c>&lt;order&gt; &lt;product&gt;</c> per line.</summary>
    public Journal Grants { get; }

    public void Dispose()
    {
        Sends.Dispose();
        Handled.Dispose();
        Grants.Dispose();
    }
}

/// <summary>The mail server of the test: each accepted send's key and time is journalled before the send returns.</summary>
internal sealed class JournallingSender(HostJournals journals) : IEmailSender
{
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        long now = SystemClock.Instance.GetCurrentInstant().ToUnixTimeMilliseconds();
        journals.Sends.Append(string.Create(CultureInfo.InvariantCulture, $"{message.IdempotencyKey} {now}"));
        return Task.FromResult(EmailSendResult.Sent("<" + message.IdempotencyKey + "@scale-out-test>"));
    }
}

/// <summary>A pipeline handler that journals the id of every event it is handed.</summary>
internal sealed class JournallingHandler(HostJournals journals) : IFunnelHandler
{
    public Task HandleAsync(FunnelEvent funnelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(funnelEvent);
        journals.Handled.Append(funnelEvent.Id.ToString());
        return Task.CompletedTask;
    }
}

/// <summary>The platform that delivers the course: each grant is journalled.</summary>
internal sealed class JournallingGrantor(HostJournals journals) : IEntitlementGrantor
{
    public Task GrantAsync(Entitlement entitlement, CancellationToken cancellationToken = default)
    {
        journals.Grants.Append($"{entitlement.Order} {entitlement.Product}");
        return Task.CompletedTask;
    }

    public Task RevokeAsync(Entitlement entitlement, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("The scale-out test revokes nothing.");
}
