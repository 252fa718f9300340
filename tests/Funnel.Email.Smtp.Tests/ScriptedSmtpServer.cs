using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Funnel.Email.Smtp.Tests;

/// <summary>
/// A tiny SMTP server on 127.0.0.1 for failure cases smtp4dev cannot produce: chosen replies to RCPT TO, and
/// closing a connection after a message (as servers do with idle connections).
/// </summary>
internal sealed class ScriptedSmtpServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private int connections;
    private int accepted;

    public ScriptedSmtpServer()
    {
        listener.Start();
        loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Returns the reply to <c>RCPT TO</c> for a recipient address; <see langword="null"/> accepts.</summary>
    public Func<string, string?> RecipientReply { get; init; } = _ => null;

    /// <summary>Gets whether the server closes each connection right after accepting a message.</summary>
    public bool CloseAfterEachMessage { get; init; }

    public int Connections => Volatile.Read(ref connections);

    public int Accepted => Volatile.Read(ref accepted);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try
        {
            await loop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client = await listener.AcceptTcpClientAsync(stop.Token);
            Interlocked.Increment(ref connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            NetworkStream stream = client.GetStream();
            using StreamReader reader = new(stream, Encoding.ASCII);
            await using StreamWriter writer = new(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            try
            {
                await writer.WriteLineAsync("220 scripted ESMTP");
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    string verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO":
                            await writer.WriteLineAsync("250-scripted");
                            await writer.WriteLineAsync("250 8BITMIME");
                            break;
                        case "RCPT":
                            string address = line[(line.IndexOf('<', StringComparison.Ordinal) + 1)..line.IndexOf('>', StringComparison.Ordinal)];
                            await writer.WriteLineAsync(RecipientReply(address) ?? "250 ok");
                            break;
                        case "DATA":
                            await writer.WriteLineAsync("354 go ahead");
                            while (await reader.ReadLineAsync(stop.Token) is { } body && body != ".")
                            {
                            }

                            Interlocked.Increment(ref accepted);
                            await writer.WriteLineAsync("250 queued");
                            if (CloseAfterEachMessage)
                            {
                                return;
                            }

                            break;
                        case "QUIT":
                            await writer.WriteLineAsync("221 bye");
                            return;
                        default:
                            await writer.WriteLineAsync("250 ok");
                            break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the server is stopping.
            }
        }
    }
}
