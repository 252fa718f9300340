using System.Text.Json.Nodes;
using Funnel.Advocacy;
using Funnel.Analytics.Experiments;
using Funnel.Events;
using Funnel.Leads;
using Funnel.Offers;
using Funnel.Onboarding;
using Funnel.Payments;
using Funnel.Sequences;
using Funnel.Webinars;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Funnel.Tests.Events.Contract;

/// <summary>The stored JSON contract of every event, checked against the samples in <c>Samples/</c>.</summary>
public class EventContractTests
{
    private static readonly LeadId Lead1 = LeadId.Parse("0193f5a0-1111-7000-8000-000000000001");
    private static readonly LeadId Lead2 = LeadId.Parse("0193f5a0-1111-7000-8000-000000000002");
    private static readonly OrderId Order1 = OrderId.Parse("0193f5a0-2222-7000-8000-000000000001");
    private static readonly OrderId Order2 = OrderId.Parse("0193f5a0-2222-7000-8000-000000000002");
    private static readonly ReviewId Review1 = new(Guid.Parse("0193f5a0-3333-7000-8000-000000000001"));
    private static readonly EnrolmentId Enrolment1 = new(Guid.Parse("0193f5a0-4444-7000-8000-000000000001"));

    private static Money Usd(long minor) => new(minor, Currency.USD);

    /// <summary>One type-specific field per sample, with the value written in the sample.</summary>
    private static readonly Dictionary<string, Action<FunnelEvent>> Expected = new(StringComparer.Ordinal)
    {
        [EventTypes.PageViewed] = e =>
        {
            var page = (PageViewed)e;
            page.Page.ShouldBe("/blog/write-an-ebook-in-30-days");
            page.Title.ShouldBe("Write an ebook in 30 days");
            page.Attribution.ShouldBe(new Attribution
            {
                Channel = "facebook", Campaign = "quick-start-guide-launch", Source = "Facebook", Medium = "cpc",
                Content = "video-a", Term = "write ebook", Referrer = "https://facebook.com/",
            });
            page.Properties.OrderBy(p => p.Key, StringComparer.Ordinal)
                .ShouldBe([new("device", "mobile"), new("landing", "a")]);
        },
        [EventTypes.OptedIn] = e => ((OptedIn)e).Magnet.ShouldBe("quick-start-guide"),
        [EventTypes.LifecycleStageChanged] = e =>
        {
            ((LifecycleStageChanged)e).From.ShouldBe(LifecycleStage.Lead);
            ((LifecycleStageChanged)e).To.ShouldBe(LifecycleStage.MarketingQualified);
        },
        [EventTypes.EmailSent] = e => ((EmailSent)e).Email.ShouldBe("nurture-1"),
        [EventTypes.EmailDelivered] = e => ((EmailDelivered)e).Email.ShouldBe("nurture-2"),
        [EventTypes.EmailOpened] = e => ((EmailOpened)e).Email.ShouldBe("nurture-3"),
        [EventTypes.EmailClicked] = e => ((EmailClicked)e).Url.ShouldBe("https://example.com/course?utm_source=email"),
        [EventTypes.EmailBounced] = e => ((EmailBounced)e).Kind.ShouldBe(BounceKind.Soft),
        [EventTypes.EmailUnsubscribed] = e => ((EmailUnsubscribed)e).ShouldSatisfyAllConditions(u => u.Email.ShouldBe("nurture-6"), u => u.Topic.ShouldBeNull()),
        [EventTypes.EmailTopicResubscribed] = e => ((EmailTopicResubscribed)e).Topic.ShouldBe("webinars"),
        [EventTypes.EmailComplained] = e => ((EmailComplained)e).Email.ShouldBe("nurture-7"),
        [EventTypes.SalesPageVisited] = e => ((SalesPageVisited)e).Offer.ShouldBe(new OfferId("ebook-masterclass")),
        [EventTypes.CheckoutStarted] = e => ((CheckoutStarted)e).Offer.ShouldBe(new OfferId("ebook-masterclass-plan")),
        [EventTypes.CheckoutAbandoned] = e => ((CheckoutAbandoned)e).Offer.ShouldBe(new OfferId("ebook-masterclass-vip")),
        [EventTypes.OrderPlaced] = e =>
        {
            var order = (OrderPlaced)e;
            order.Order.ShouldBe(Order1);
            order.Total.ShouldBe(Usd(49700));
            order.Attribution.Channel.ShouldBe("email");
        },
        [EventTypes.PaymentSucceeded] = e => ((PaymentSucceeded)e).Amount.ShouldBe(Usd(49700)),
        [EventTypes.PaymentFailed] = e => ((PaymentFailed)e).Reason.ShouldBe("card_declined"),
        [EventTypes.RefundIssued] = e => ((RefundIssued)e).Amount.ShouldBe(Usd(4700)),
        [EventTypes.WebinarRegistered] = e => ((WebinarRegistered)e).StartsAt.ShouldBe(Instant.FromUtc(2026, 12, 10, 18, 0)),
        [EventTypes.WebinarAttended] = e => ((WebinarAttended)e).Webinar.ShouldBe("launch-webinar-2"),
        [EventTypes.CourseCompleted] = e => ((CourseCompleted)e).Course.ShouldBe("ebook-masterclass"),
        [EventTypes.ReviewSubmitted] = e => ((ReviewSubmitted)e).Rating.ShouldBe(4),
        [EventTypes.ReferralMade] = e => ((ReferralMade)e).Referred.ShouldBe(Lead2),
        [EventTypes.AdSpendRecorded] = e =>
        {
            ((AdSpendRecorded)e).Amount.ShouldBe(new Money(125050, Currency.EUR));
            e.Subject.ShouldBe("google");
        },
        [Funnel.Advocacy.AdvocacyEventTypes.ModuleCompleted] = e => ((ModuleCompleted)e).Module.ShouldBe("module-3"),
        [Funnel.Advocacy.AdvocacyEventTypes.ReviewRequested] = e => ((ReviewRequested)e).Product.ShouldBe("ebook-masterclass-workbook"),
        [Funnel.Advocacy.AdvocacyEventTypes.ReviewApproved] = e => ((ReviewApproved)e).Review.ShouldBe(Review1),
        [Funnel.Advocacy.AdvocacyEventTypes.ReviewRejected] = e => ((ReviewRejected)e).Reason.ShouldBe("off-topic"),
        [Funnel.Advocacy.AdvocacyEventTypes.ReviewIncentiveGranted] = e => ((ReviewIncentiveGranted)e).Incentive.ShouldBe("bonus-chapter"),
        [Funnel.Advocacy.AdvocacyEventTypes.AffiliateApplied] = e => ((AffiliateApplied)e).Code.ShouldBe("ann-writes"),
        [Funnel.Advocacy.AdvocacyEventTypes.AffiliateApproved] = e => ((AffiliateApproved)e).Code.ShouldBe("ann-approved"),
        [Funnel.Advocacy.AdvocacyEventTypes.AffiliateLinkClicked] = e => ((AffiliateLinkClicked)e).Code.ShouldBe("ann-clicked"),
        [Funnel.Advocacy.AdvocacyEventTypes.AffiliateSaleAttributed] = e => ((AffiliateSaleAttributed)e).Order.ShouldBe(Order1),
        [Funnel.Advocacy.AdvocacyEventTypes.CommissionEarned] = e => ((CommissionEarned)e).Amount.ShouldBe(Usd(14910)),
        [Funnel.Advocacy.AdvocacyEventTypes.CommissionClawedBack] = e => ((CommissionClawedBack)e).Amount.ShouldBe(Usd(-14910)),
        [Funnel.Advocacy.AdvocacyEventTypes.CommissionApproved] = e => ((CommissionApproved)e).Amount.ShouldBe(Usd(14911)),
        [Funnel.Advocacy.AdvocacyEventTypes.AffiliatePaidOut] = e => ((AffiliatePaidOut)e).Amount.ShouldBe(new Money(30000, Currency.GBP)),
        [Funnel.Advocacy.AdvocacyEventTypes.ReferralRejected] = e => ((ReferralRejected)e).Reason.ShouldBe(ReferralRejection.SamePaymentFingerprint),
        [Funnel.Advocacy.AdvocacyEventTypes.ReferralPurchased] = e => ((ReferralPurchased)e).Order.ShouldBe(Order2),
        [Funnel.Advocacy.AdvocacyEventTypes.ReferralRewardEarned] = e => ((ReferralRewardEarned)e).Amount.ShouldBe(Usd(2000)),
        [Funnel.Advocacy.AdvocacyEventTypes.WebinarMissed] = e => ((WebinarMissed)e).ReplayEndsAt.ShouldBe(Instant.FromUtc(2026, 12, 13, 19, 30)),
        [EventTypes.ExperimentExposed] = e => ((ExperimentExposed)e).Variant.ShouldBe("control"),
        [EventTypes.ConsentRecorded] = e =>
        {
            ((ConsentRecorded)e).Status.ShouldBe(ConsentStatus.Granted);
            ((ConsentRecorded)e).Method.ShouldBe(ConsentMethod.DoubleOptIn);
        },
        [EventTypes.OptInConfirmed] = e => ((OptInConfirmed)e).Purpose.ShouldBe("marketing-email"),
        [EventTypes.ConfirmationRequested] = e => ((ConfirmationRequested)e).ConfirmationUrl.ShouldStartWith("https://example.com/funnel/confirm?"),
        [EventTypes.MagnetDeliveryRequested] = e =>
            ((LeadMagnetDeliveryRequested)e).DownloadUrl.ShouldStartWith("https://example.com/funnel/magnets/quick-start-guide/download?"),
        [EventTypes.MagnetDownloaded] = e => ((LeadMagnetDownloaded)e).Magnet.ShouldBe("quick-start-guide"),
        [EventTypes.IdentityLinked] = e => ((IdentityLinked)e).VisitorId.ShouldBe(Lead2),
        [EventTypes.ScoreChanged] = e => ((ScoreChanged)e).To.ShouldBe(25.5),
        [EventTypes.SegmentEntered] = e => ((SegmentEntered)e).Segment.ShouldBe("engaged-readers"),
        [EventTypes.SegmentLeft] = e => ((SegmentLeft)e).Segment.ShouldBe("cold-leads"),
        [Funnel.Offers.OfferEventTypes.UpsellAccepted] = e => ((UpsellAccepted)e).ParentOrder.ShouldBe(Order1),
        [Funnel.Offers.OfferEventTypes.UpsellDeclined] = e => ((UpsellDeclined)e).Offer.ShouldBe(new OfferId("coaching-declined")),
        [Funnel.Offers.OfferEventTypes.AddOnAccepted] = e => ((AddOnAccepted)e).Role.ShouldBe(OfferRole.OrderBump),
        [Funnel.Offers.OfferEventTypes.EntitlementGranted] = e => ((EntitlementGranted)e).Product.ShouldBe("ebook-masterclass-course"),
        [Funnel.Offers.OfferEventTypes.EntitlementRevoked] = e => ((EntitlementRevoked)e).Product.ShouldBe("ebook-masterclass-revoked"),
        [Funnel.Waitlists.WaitlistEventTypes.WaitlistJoined] = e => ((Funnel.Waitlists.WaitlistJoined)e).Position.ShouldBe(3),
        [Funnel.Waitlists.WaitlistEventTypes.WaitlistLeft] = e => ((Funnel.Waitlists.WaitlistLeft)e).Offer.ShouldBe(new OfferId("masterclass-cohort-left")),
        [Funnel.Waitlists.WaitlistEventTypes.WaitlistSeatOffered] = e =>
            ((Funnel.Waitlists.WaitlistSeatOffered)e).ExpiresAt.ShouldBe(Instant.FromUtc(2026, 12, 6, 9, 30)),
        [Funnel.Waitlists.WaitlistEventTypes.WaitlistHoldExpired] = e =>
            ((Funnel.Waitlists.WaitlistHoldExpired)e).Offer.ShouldBe(new OfferId("masterclass-cohort-expired")),
        [Funnel.Waitlists.WaitlistEventTypes.WaitlistSeatClaimed] = e =>
            ((Funnel.Waitlists.WaitlistSeatClaimed)e).Offer.ShouldBe(new OfferId("masterclass-cohort-claimed")),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionStarted] = e =>
            ((Funnel.Subscriptions.SubscriptionStarted)e).ShouldSatisfyAllConditions(
                s => s.TrialEndsAt.ShouldBe(Instant.FromUtc(2026, 12, 21, 10, 15)), s => s.Interval.ShouldBe(Funnel.Subscriptions.BillingInterval.Month), s => s.AmountPaid.ShouldBe(Usd(0))),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionTrialConverted] = e => ((Funnel.Subscriptions.SubscriptionTrialConverted)e).PaymentId.ShouldBe("pi_trial_1"),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionRenewed] = e => ((Funnel.Subscriptions.SubscriptionRenewed)e).PeriodStart.ShouldBe(Instant.FromUtc(2027, 1, 21, 10, 15)),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionPaymentFailed] = e => ((Funnel.Subscriptions.SubscriptionPaymentFailed)e).Attempt.ShouldBe(2),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionPlanChanged] = e =>
            ((Funnel.Subscriptions.SubscriptionPlanChanged)e).ShouldSatisfyAllConditions(
                c => c.Proration.ShouldBe(Usd(-2450)), c => c.ToMonthlyAmount.ShouldBe(Usd(4083)), c => c.Interval.ShouldBe(Funnel.Subscriptions.BillingInterval.Year), c => c.PaymentId.ShouldBeNull(),
                c => c.PeriodEnd.ShouldBe(Instant.FromUtc(2027, 12, 7, 10, 15))),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionPaused] = e => ((Funnel.Subscriptions.SubscriptionPaused)e).Offer.ShouldBe(new OfferId("masterclass-membership-paused")),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionResumed] = e => ((Funnel.Subscriptions.SubscriptionResumed)e).PeriodEnd.ShouldBe(Instant.FromUtc(2027, 4, 1, 0, 0)),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionCancelScheduled] = e => ((Funnel.Subscriptions.SubscriptionCancelScheduled)e).EndsAt.ShouldBe(Instant.FromUtc(2027, 2, 21, 10, 15)),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionCancelWithdrawn] = e => ((Funnel.Subscriptions.SubscriptionCancelWithdrawn)e).Offer.ShouldBe(new OfferId("masterclass-membership-withdrawn")),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionDiscountEnded] = e =>
            ((Funnel.Subscriptions.SubscriptionDiscountEnded)e).ShouldSatisfyAllConditions(
                d => d.Coupons.ShouldBe(["LAUNCH50"]), d => d.FromMonthlyAmount.ShouldBe(Usd(2450)), d => d.ToMonthlyAmount.ShouldBe(Usd(4900))),
        [Funnel.Subscriptions.SubscriptionEventTypes.SubscriptionEnded] = e => ((Funnel.Subscriptions.SubscriptionEnded)e).Reason.ShouldBe(Funnel.Subscriptions.SubscriptionEndReason.TrialLapsed),
        [Funnel.Payments.PaymentEventTypes.InstallmentPaid] = e => ((InstallmentPaid)e).PaymentId.ShouldBe("pi_3Q2w"),
        [Funnel.Payments.PaymentEventTypes.InstallmentFailed] = e => ((InstallmentFailed)e).Attempt.ShouldBe(2),
        [Funnel.Payments.PaymentEventTypes.PaymentDisputed] = e => ((PaymentDisputed)e).Reason.ShouldBe("fraudulent"),
        [Funnel.Payments.PaymentEventTypes.DisputeClosed] = e =>
        {
            ((DisputeClosed)e).DisputeId.ShouldBe("dp_1QdJ");
            ((DisputeClosed)e).Won.ShouldBeTrue();
        },
        [Funnel.Payments.PaymentEventTypes.AccessPaused] = e => ((AccessPaused)e).Installment.ShouldBe(3),
        [Funnel.Invoices.InvoiceEventTypes.InvoiceIssued] = e =>
        {
            var issued = (Funnel.Invoices.InvoiceIssued)e;
            issued.Kind.ShouldBe(Funnel.Invoices.InvoiceKind.CreditNote);
            issued.Number.ShouldBe(7);
            issued.Amount.ShouldBe(Usd(59_143));
        },
        [Funnel.Payments.PaymentEventTypes.AccessRestored] = e => ((AccessRestored)e).Order.ShouldBe(Order2),
        [Funnel.Sequences.SequenceEventTypes.EmailFailed] = e => ((EmailFailed)e).Permanent.ShouldBeTrue(),
        [Funnel.Sequences.SequenceEventTypes.EmailSuppressed] = e => ((EmailSuppressed)e).Reason.ShouldBe("unsubscribed"),
        [Funnel.Sequences.SequenceEventTypes.EmailSkipped] = e => ((EmailSkipped)e).ShouldSatisfyAllConditions(s => s.Reason.ShouldBe("left_segment"), s => s.Email.ShouldBe("webinar-promo")),
        [Funnel.Sequences.SequenceEventTypes.SequenceEnrolled] = e => ((SequenceEnrolled)e).Enrolment.ShouldBe(Enrolment1),
        [Funnel.Sequences.SequenceEventTypes.SequenceExited] = e => ((SequenceExited)e).Goal.ShouldBe("purchased"),
        [Funnel.Sequences.SequenceEventTypes.SequenceCompleted] = e => ((SequenceCompleted)e).Sequence.ShouldBe("guide-welcome"),
        [EventTypes.LeadTagged] = e => ((LeadTagged)e).Tag.ShouldBe("engaged"),
        [EventTypes.LeadUntagged] = e => ((LeadUntagged)e).Tag.ShouldBe("cold"),
        [EventTypes.ScoreAdjusted] = e => ((ScoreAdjusted)e).ShouldSatisfyAllConditions(s => s.Points.ShouldBe(15.5), s => s.Reason.ShouldBe("guide-nurture/opened-bonus")),
        [EventTypes.LifecycleStageSet] = e => ((LifecycleStageSet)e).Stage.ShouldBe(LifecycleStage.SalesQualified),
        [Funnel.Sequences.SequenceEventTypes.SequenceBranched] = e => ((SequenceBranched)e).ShouldSatisfyAllConditions(b => b.Step.ShouldBe("opened-guide"), b => b.Path.ShouldBe(SequenceBranched.ThenPath), b => b.Enrolment.ShouldBe(Enrolment1)),
        [Funnel.Sequences.SequenceEventTypes.SellerNotified] = e => ((SellerNotified)e).Step.ShouldBe("tell-jane"),
        [Funnel.Sequences.SequenceEventTypes.AutomationWebhookCalled] = e => ((AutomationWebhookCalled)e).ShouldSatisfyAllConditions(c => c.Url.ShouldBe("https://crm.example.com/hooks/funnel"), c => c.StatusCode.ShouldBe(202), c => c.Attempt.ShouldBe(2)),
        [Funnel.Sequences.SequenceEventTypes.SequenceEnrolRequested] = e => ((SequenceEnrolRequested)e).ShouldSatisfyAllConditions(r => r.Sequence.ShouldBe("webinar-invite"), r => r.RequestedBy.ShouldBe("guide-nurture/invite")),
        [Funnel.Sequences.SequenceEventTypes.SequenceExitRequested] = e => ((SequenceExitRequested)e).Sequence.ShouldBe("webinar-invite"),
        [Funnel.Sequences.SequenceEventTypes.SequenceTestDecided] = e => ((SequenceTestDecided)e).ShouldSatisfyAllConditions(
            d => (d.Sequence, d.Step, d.Winner, d.Significant).ShouldBe(("course-launch", "launch-1", "short", true)),
            d => d.Results.ShouldBe([new Funnel.Email.VariantResult("control", 104, 16), new Funnel.Email.VariantResult("short", 96, 58)])),
    };

    public static TheoryData<string> SampleNames => [.. EventSamples.Names];

    [Fact]
    public void ConcreteEventTypes_InFunnelAssemblies_AreRegisteredAndHaveASampleAndAnExpectation()
    {
        var missing = new List<string>();
        foreach (Type type in EventSamples.ConcreteEventTypes())
        {
            if (!EventSamples.Registry.TryFind(type, out FunnelEventTypeInfo? info))
            {
                missing.Add($"{type.FullName}: not registered (add [FunnelEventType(...)])");
                continue;
            }

            if (!File.Exists(Path.Combine(EventSamples.Directory, info.Name + ".json")))
            {
                missing.Add($"{type.FullName}: no sample Events/Contract/Samples/{info.Name}.json");
            }

            if (!Expected.ContainsKey(info.Name))
            {
                missing.Add($"{type.FullName}: no expected field in {nameof(EventContractTests)}.{nameof(Expected)}");
            }
        }

        missing.ShouldBeEmpty();
        EventSamples.ConcreteEventTypes().Count().ShouldBeGreaterThanOrEqualTo(61);
    }

    [Fact]
    public void Samples_EachNameARegisteredType()
    {
        EventSamples.Names.Where(n => !EventSamples.Registry.TryFind(n, out _)).ShouldBeEmpty();
    }

    [Fact]
    public void AddFunnel_RegistersEveryEventOfCore()
    {
        FunnelEventTypes registry = new ServiceCollection().AddFunnel().BuildServiceProvider().GetRequiredService<FunnelEventTypes>();

        IEnumerable<Type> core = EventSamples.ConcreteEventTypes().Where(t => t.Assembly == typeof(FunnelEvent).Assembly);
        core.Where(t => !registry.TryFind(t, out _)).ShouldBeEmpty();
        registry.TryFind(typeof(ExperimentExposed), out _).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Deserialize_Sample_ReadsTheTypeEnvelopeAndFields(string name)
    {
        JsonObject sample = EventSamples.ReadNode(name);

        FunnelEvent e = EventSamples.Serializer.Deserialize(EventSamples.Read(name));

        EventSamples.Registry.TryFind(name, out FunnelEventTypeInfo? info).ShouldBeTrue();
        e.GetType().ShouldBe(info.Type);
        e.EventType.ShouldBe(name);
        e.Id.ToString().ShouldBe((string)sample["id"]!);
        e.OccurredAt.ShouldBe(NodaTime.Text.InstantPattern.ExtendedIso.Parse((string)sample["occurredAt"]!).Value);
        if (e is LeadEvent lead)
        {
            lead.LeadId.ShouldBe(Lead1);
        }

        Expected[name](e);
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Serialize_DeserializedSample_GivesTheSampleJson(string name)
    {
        FunnelEvent e = EventSamples.Serializer.Deserialize(EventSamples.Read(name));

        string json = EventSamples.Serializer.Serialize(e);

        JsonNode.DeepEquals(JsonNode.Parse(json), EventSamples.ReadNode(name)).ShouldBeTrue(json);
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Deserialize_SampleWithUnknownFields_IgnoresThem(string name)
    {
        JsonObject sample = EventSamples.ReadNode(name);
        sample["addedInALaterVersion"] = new JsonObject { ["nested"] = new JsonArray(1, "two", null) };
        sample["zz"] = "later";

        FunnelEvent e = EventSamples.Serializer.Deserialize(sample.ToJsonString());

        string json = EventSamples.Serializer.Serialize(e);
        JsonNode.DeepEquals(JsonNode.Parse(json), EventSamples.ReadNode(name)).ShouldBeTrue(json);
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Deserialize_Utf8Sample_EqualsTextSample(string name)
    {
        byte[] utf8 = File.ReadAllBytes(Path.Combine(EventSamples.Directory, name + ".json"));

        FunnelEvent e = EventSamples.Serializer.Deserialize(utf8);

        EventSamples.Serializer.SerializeToUtf8Bytes(e).ShouldBe(
            System.Text.Encoding.UTF8.GetBytes(EventSamples.Serializer.Serialize(EventSamples.Serializer.Deserialize(EventSamples.Read(name)))));
    }
}
