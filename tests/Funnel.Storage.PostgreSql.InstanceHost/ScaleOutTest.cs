using Funnel.Leads;
using Funnel.Offers;
using Funnel.Sequences;

namespace Funnel.Storage.PostgreSql.InstanceHost;

/// <summary>What the scale-out test runs: its sequence, its leads, a one-offer catalogue and the webhook provider name.</summary>
internal static class ScaleOutTest
{
    /// <summary>The provider name of the test-mode webhook endpoint: <c>POST /funnel/webhooks/test</c>.</summary>
    public const string Provider = "test";

    /// <summary>The one offer the catalogue sells.</summary>
    public static readonly OfferId Course = "scale-out-course";

    /// <summary>Three emails, each as soon as the previous one is sent.</summary>
    public static SequenceDefinition Sequence { get; } = new()
    {
        Key = "scale-out-test",
        IsMarketing = false,
        Steps =
        [
            new SequenceStep { Key = "one", Subject = "One", TextBody = "First." },
            new SequenceStep { Key = "two", Subject = "Two", TextBody = "Second." },
            new SequenceStep { Key = "three", Subject = "Three", TextBody = "Third." },
        ],
    };

    /// <summary>The lead magnet the opt-in form names (the ASP.NET Core options need one).</summary>
    public static LeadMagnet Guide { get; } = new() { Key = "scale-out-guide", Title = "Guide", Kind = LeadMagnetKind.Guide };

    /// <summary>One course for 10 USD.</summary>
    public static Catalogue Catalogue { get; } = new()
    {
        Currency = Currency.USD,
        Products = [new Product { Key = "scale-out-lessons", Name = "Lessons", Kind = ProductKind.Course }],
        Offers = [new Offer { Id = Course, Name = "Course", Price = Money.FromMajor(10m, Currency.USD), Products = ["scale-out-lessons"] }],
    };

    /// <summary>The offer path: the course alone.</summary>
    public static OfferPath Path { get; } = new() { Entry = Course, Edges = [] };

    /// <summary>Returns the id of lead number <paramref name="n"/>, the same in every process.</summary>
    public static LeadId Lead(int n) => new(new Guid(n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16));
}

/// <summary>The order the test checkout placed and the provider's signed webhook that confirms its payment.</summary>
/// <param name="Order">The order id.</param>
/// <param name="Body">The webhook body, base64.</param>
/// <param name="Signature">The value of the signature header.</param>
internal sealed record CheckoutWebhook(string Order, string Body, string Signature);
