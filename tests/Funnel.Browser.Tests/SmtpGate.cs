using System.Net;
using System.Net.Sockets;

namespace Funnel.Browser.Tests;

/// <summary>
/// A loopback TCP relay in front of an SMTP server that can be shut like a server going down: while its file
/// <see cref="OpenFile"/> exists it relays each connection to the server; otherwise it answers "421" and hangs up, the
/// transient failure a real SMTP server gives while it is unavailable.
/// </summary>
/// <remarks>
/// The file lets the browser script open the gate itself, right before it retries a failed send from the dashboard.
/// <see cref="Close"/> also drops the relayed connections, so a sender's pooled connection cannot outlive the outage.
/// </remarks>
internal sealed class SmtpGate : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly List<TcpClient> _relayed = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public SmtpGate(string host, int port, string openFile)
    {
        _host = host;
        _port = port;
        OpenFile = openFile;
        File.WriteAllText(openFile, "open");
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Gets the port the shop sends to.</summary>
    public int Port { get; }

    /// <summary>Gets the file whose existence opens the gate.</summary>
    public string OpenFile { get; }

    /// <summary>Shuts the gate: new connections are refused with 421 and relayed ones are dropped.</summary>
    public void Close()
    {
        File.Delete(OpenFile);
        lock (_relayed)
        {
            foreach (TcpClient client in _relayed)
            {
                client.Dispose();
            }

            _relayed.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Close();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            if (!File.Exists(OpenFile))
            {
                using (client)
                {
                    await client.GetStream().WriteAsync("421 4.3.2 Service not available (test outage)\r\n"u8.ToArray(), _stop.Token);
                }

                return;
            }

            var server = new TcpClient();
            lock (_relayed)
            {
                _relayed.Add(client);
                _relayed.Add(server);
            }

            using (client)
            using (server)
            {
                await server.ConnectAsync(_host, _port, _stop.Token);
                NetworkStream a = client.GetStream();
                NetworkStream b = server.GetStream();
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The gate was shut, or either side hung up.
        }
    }
}
