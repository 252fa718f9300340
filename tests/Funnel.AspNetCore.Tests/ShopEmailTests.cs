using Funnel.Pipeline;
using System.Net;
using Funnel.Events;
using Funnel.Samples.WebShop;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Tests;

public sealed class ShopEmailTests
{
    [Fact]
    public async Task ConfirmedOptIn_DispatcherRun_SendsTheGuideWithTrackedLinksThatLeadToTheShop()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(client, "hedy@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        (await client.GetAsync(WebShopFactory.Relative(shop.Outbox.Snapshot().Single().ConfirmationLink!))).ShouldBeStatus(HttpStatusCode.Redirect);

        await shop.Services.GetServices<IFunnelJob>().Single(j => j.Name == "sequence-dispatch").RunAsync();

        OutboxMessage guide = shop.Outbox.Snapshot().First();
        guide.Subject.ShouldBe("Your E-Book Quick-Start Guide");
        guide.To.ShouldBe("hedy@example.com");
        Uri[] clicks = [.. guide.Links.Where(l => l.AbsolutePath.StartsWith("/funnel/email/click/", StringComparison.Ordinal))];
        clicks.Length.ShouldBe(2);
        guide.Links.ShouldContain(l => l.AbsolutePath.StartsWith("/funnel/email/unsubscribe/", StringComparison.Ordinal));
        using HttpResponseMessage followed = await client.GetAsync(WebShopFactory.Relative(clicks[1]));
        followed.ShouldBeStatus(HttpStatusCode.Redirect);
        followed.Headers.Location.ShouldBe(new Uri("http://localhost/sales"));
        shop.Events.OfType<EmailSent>().Select(e => e.Email).ShouldBe(["confirm", ShopSequences.GuideEmail]);
        shop.Events.OfType<EmailClicked>().ShouldHaveSingleItem().Url.ShouldBe("http://localhost/sales");
    }

    [Fact]
    public async Task UnconfirmedOptIn_DispatcherRun_SendsOnlyTheConfirmation()
    {
        using var shop = new WebShopFactory();
        using HttpClient client = shop.CreateBrowser();
        (await WebShopFactory.OptInAsync(client, "barbara@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);

        await shop.Services.GetServices<IFunnelJob>().Single(j => j.Name == "sequence-dispatch").RunAsync();

        shop.Outbox.Snapshot().ShouldHaveSingleItem().Subject.ShouldStartWith("Confirm your address");
        shop.Events.OfType<SequenceEnrolled>().ShouldAllBe(e => e.Sequence == "opt-in-confirmation");
    }
}
