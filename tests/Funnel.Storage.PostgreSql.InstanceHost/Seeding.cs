using System.Globalization;
using Funnel.Email;
using Funnel.Leads;
using Funnel.Sequences;
using NodaTime;

namespace Funnel.Storage.PostgreSql.InstanceHost;

/// <summary>The <c>seed</c> command: adds the leads and enrols each in the test sequence, through the public engine.</summary>
internal static class Seeding
{
    public static async Task<int> RunAsync(string connectionString, int leads)
    {
        // A host without AddFunnelHosting: its only hosted service migrates the schema; nothing dispatches.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddFunnelPostgreSql(connectionString);
        builder.Services.AddFunnel(o => o.TimeZoneId = "UTC");
        builder.Services.AddFunnelSequences();
        builder.Services.AddSingleton(ScaleOutTest.Sequence);
        builder.Services.AddSingleton<IEmailSender, RefusingSender>();
        using IHost host = builder.Build();
        await host.StartAsync();

        ILeadStore leadStore = host.Services.GetRequiredService<ILeadStore>();
        SequenceEngine engine = host.Services.GetRequiredService<SequenceEngine>();
        Instant now = host.Services.GetRequiredService<IClock>().GetCurrentInstant();
        await Parallel.ForAsync(0, leads, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
        {
            await leadStore.TryAddAsync(new LeadProfile
            {
                Id = ScaleOutTest.Lead(i),
                Email = EmailAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"lead{i}@example.com")),
                CreatedAt = now,
            }, cancellationToken);
            await engine.EnrolAsync(ScaleOutTest.Lead(i), ScaleOutTest.Sequence.Key, now, cancellationToken: cancellationToken);
        });

        await host.StopAsync();
        Console.WriteLine("seeded " + leads.ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}

/// <summary>The sender of the seeding process, which must send nothing.</summary>
internal sealed class RefusingSender : IEmailSender
{
    public Task<EmailSendResult> SendAsync(EmailMessage message, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("The seeding process does not send.");
}
