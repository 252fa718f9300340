using Funnel.Pipeline;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Funnel.Events;
using NodaTime;

namespace Funnel.AspNetCore.Tests;

public sealed class DiagnosticsTests
{
    private static readonly Instant At = Instant.FromUtc(2026, 3, 2, 9, 0);

    [Fact]
    public async Task RecordAsync_OrdersAndPayments_CountsOrdersAndRevenueInMinorUnits()
    {
        var measurements = new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FunnelDiagnostics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        listener.Start();
        var log = new InMemoryFunnelEventLog();
        var recorder = new FunnelEventRecorder(log);
        var metrics = new FunnelMetricsHandler();
        LeadId lead = LeadId.New();
        OrderId order = OrderId.New();
        // A currency no other test uses, so measurements from tests running in parallel cannot match.
        Money paid = Money.FromMajor(123.45m, Currency.FromCode("CHF"));

        await recorder.RecordAsync([
            new OrderPlaced { LeadId = lead, OccurredAt = At, Order = order, Offer = "test-offer-diagnostics", Total = paid },
            new PaymentSucceeded { LeadId = lead, OccurredAt = At, Order = order, Amount = paid },
        ]);

        log.Snapshot().Count.ShouldBe(2);
        foreach (LoggedEvent logged in await log.ReadAsync(0, 10))
        {
            await metrics.HandleAsync(logged.Event);
        }

        lock (measurements)
        {
            measurements.ShouldContain(m => m.Instrument == "funnel.revenue" && m.Value == 12345 && (string?)m.Tags["funnel.currency"] == "CHF");
            measurements.ShouldContain(m => m.Instrument == "funnel.orders" && m.Value == 1 && (string?)m.Tags["funnel.offer"] == "test-offer-diagnostics");
        }
    }

    [Fact]
    public async Task PageView_Request_StartsAFunnelActivity()
    {
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FunnelDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (started) { started.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();

        using HttpResponseMessage response = await client.PostAsJsonAsync(new Uri("/funnel/page-view", UriKind.Relative), new { url = "/blog/diagnostics-test-page" });

        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        lock (started)
        {
            started.ShouldContain(a => a.OperationName == "funnel.page_view" && (string?)a.GetTagItem("funnel.page") == "/blog/diagnostics-test-page");
        }
    }
}
