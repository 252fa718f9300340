using System.Net;
using Funnel.Email;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Sequences;
using Microsoft.Extensions.DependencyInjection;

namespace Funnel.AspNetCore.Tests;

/// <summary>The preference centre the unsubscribe link opens when email topics are registered.</summary>
public sealed class EmailPreferencesEndpointTests
{
    private static readonly EmailTopic Newsletter = new() { Key = "newsletter", Title = "The weekly newsletter", Description = "One writing tip every Tuesday." };
    private static readonly EmailTopic Webinars = new() { Key = "webinars", Title = "Webinar invitations" };

    [Fact]
    public async Task UnsubscribePage_WithTopics_ShowsTheEmailsTopicAndACheckboxPerTopicTickedWhileSubscribed()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        await AddBroadcastAsync(shop);

        string html = await client.GetStringAsync(WebShopFactory.Relative(Links(shop).Unsubscribe(lead, "webinar-promo")));

        html.ShouldContain("""<strong id="email-topic">Webinar invitations</strong>""");
        html.ShouldContain("""id="topic-newsletter" value="newsletter" checked> The weekly newsletter""");
        html.ShouldContain("""id="topic-webinars" value="webinars" checked> Webinar invitations""");
        html.ShouldContain("One writing tip every Tuesday.");
        html.ShouldContain("""name="List-Unsubscribe" value="One-Click""");
    }

    [Fact]
    public async Task SavePreferences_LeaveOneTopicThenJoinItAgain_RecordsEachChangeAndKeepsMarketingConsent()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        await AddBroadcastAsync(shop);
        Uri link = WebShopFactory.Relative(Links(shop).Unsubscribe(lead, "webinar-promo"));
        ILeadStore leads = shop.Services.GetRequiredService<ILeadStore>();
        ConsentStatus consent = (await leads.FindAsync(lead))!.ConsentStatus;

        using HttpResponseMessage left = await client.PostAsync(link, WebShopFactory.Form(("preferences", "1"), ("topic", "newsletter")));

        left.ShouldBeStatus(HttpStatusCode.OK);
        (await left.Content.ReadAsStringAsync()).ShouldContain("Webinar invitations: you will not get it");
        LeadProfile profile = (await leads.FindAsync(lead))!;
        profile.UnsubscribedTopics.ShouldBe(["webinars"]);
        profile.UnsubscribedAt.ShouldBeNull();
        profile.ConsentStatus.ShouldBe(consent);
        EmailUnsubscribed unsubscribed = shop.Events.OfType<EmailUnsubscribed>().ShouldHaveSingleItem();
        (unsubscribed.Email, unsubscribed.Topic).ShouldBe(("webinar-promo", "webinars"));
        (await client.GetStringAsync(link)).ShouldContain("""id="topic-webinars" value="webinars"> Webinar invitations""");

        using HttpResponseMessage again = await client.PostAsync(link, WebShopFactory.Form(("preferences", "1"), ("topic", "newsletter")));
        using HttpResponseMessage back = await client.PostAsync(link, WebShopFactory.Form(("preferences", "1"), ("topic", "webinars"), ("topic", "newsletter")));

        back.ShouldBeStatus(HttpStatusCode.OK);
        (await leads.FindAsync(lead))!.UnsubscribedTopics.ShouldBeEmpty();
        shop.Events.OfType<EmailUnsubscribed>().Count().ShouldBe(1); // saving the same choice again changes nothing
        shop.Events.OfType<EmailTopicResubscribed>().ShouldHaveSingleItem().Topic.ShouldBe("webinars");
    }

    [Fact]
    public async Task SavePreferences_UnknownTopic_Returns400NamingTheFieldAndChangesNothing()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);

        using HttpResponseMessage response = await client.PostAsync(
            WebShopFactory.Relative(Links(shop).Unsubscribe(lead, "nurture-2")),
            WebShopFactory.Form(("preferences", "1"), ("topic", "<script>")));

        await response.ShouldBeProblemForAsync("topic");
        (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!.UnsubscribedTopics.ShouldBeEmpty();
        shop.Events.OfType<EmailUnsubscribed>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Unsubscribe_OneClickWithTopics_StillLeavesAllMarketingEmail()
    {
        using WebShopFactory shop = Shop();
        using HttpClient client = shop.CreateBrowser();
        LeadId lead = await OptedInLeadAsync(shop, client);
        Uri link = WebShopFactory.Relative(Links(shop).Unsubscribe(lead, "nurture-2"));

        using HttpResponseMessage response = await client.PostAsync(link, WebShopFactory.Form(("List-Unsubscribe", "One-Click")));

        response.ShouldBeStatus(HttpStatusCode.OK);
        LeadProfile profile = (await shop.Services.GetRequiredService<ILeadStore>().FindAsync(lead))!;
        profile.UnsubscribedAt.ShouldNotBeNull();
        profile.CanReceiveMarketingEmail.ShouldBeFalse();
        shop.Events.OfType<EmailUnsubscribed>().ShouldHaveSingleItem().Topic.ShouldBeNull();
        (await client.GetStringAsync(link)).ShouldContain("""id="unsubscribed-all">""");
    }

    private static WebShopFactory Shop() => new()
    {
        AddServices = services =>
        {
            services.AddSingleton(Newsletter);
            services.AddSingleton(Webinars);
        },
    };

    private static async Task AddBroadcastAsync(WebShopFactory shop) =>
        (await shop.Services.GetRequiredService<IBroadcastStore>().TryAddAsync(new Broadcast
        {
            Definition = new BroadcastDefinition
            {
                Key = "webinar-promo",
                Segment = "newsletter-readers",
                Topic = "webinars",
                Subject = "Live on Thursday",
                TextBody = "Save your seat.",
                SendAt = WebShopFactory.Start,
            },
            Status = BroadcastStatus.Queued,
            CreatedAt = WebShopFactory.Start,
            DueAt = WebShopFactory.Start,
        })).ShouldBeTrue();

    private static TrackingLinks Links(WebShopFactory shop) => shop.Services.GetRequiredService<TrackingLinks>();

    private static async Task<LeadId> OptedInLeadAsync(WebShopFactory shop, HttpClient client)
    {
        (await WebShopFactory.OptInAsync(client, "grace@example.com")).ShouldBeStatus(HttpStatusCode.SeeOther);
        return shop.Events.OfType<OptedIn>().Single().LeadId;
    }
}
